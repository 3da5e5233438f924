"""The fast training path: the same model, loss and data, fed and computed at the GPU's pace.

The blog's recipe spends most of an epoch outside the GPU: every image is read
from its JPEG, decoded and resized by PIL again each epoch, and the loss runs
one image at a time. Each switch below removes one such cost; each is a field
of `train.Config`, so a run says which it used and lesson 08 measures each:

    cache=True          decode and resize every image once; keep the uint8 pixels
                        (and the padded targets) in memory, on the GPU when there
                        is one, and serve batches by indexing (`CachedDetectionDL`)
    augment="flip"      (with cache) flips done on the whole batch, on its device
    batched=True        the loss on the whole padded batch at once (`loss.ssd_loss_batched`)
    precision="bf16"    bfloat16 autocast for the model (fastai's `MixedPrecision`)
    channels_last=True  NHWC memory layout for the model and the images (faster convolutions)
    opt="fused"         PyTorch's fused AdamW kernel instead of fastai's per-parameter Adam

Switches that need CUDA (bf16, the fused optimizer, keeping the cache on the
GPU) fall back on a CPU with a printed note, so every config runs everywhere.

`CachedDetectionDL` is a fastai `DataLoader`: a Learner, `fit_one_cycle`,
`evaluate` and fastai's distributed training (`learn.distrib_ctx()`, which
shards its indices) all take it as they take fastai's own. Its batches keep
the contract of `data.get_dataloaders`: images [B, 3, S, S] float normalised
with ImageNet statistics, boxes [B, G, 4] ``xyxy`` in [-1, 1] zero-padded,
labels [B, G] int64 padded with 0 (G: the most objects an image has in the
split, not in the batch: more padding, never fewer objects).

Training on several processes, one per GPU (`ssd_course.distributed`; `python -m ssd_course.fast --help`):

    torchrun --standalone --nproc_per_node 8 -m ssd_course.fast --config gpu --data data/synthetic-large
    accelerate launch --multi_gpu --num_processes 8 -m ssd_course.fast --config gpu --data ...
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 --rdzv-id ssd-1 \
        -m ssd_course.fast ...          (on each of 2 machines; HOST: the first)
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from fastai.data.load import DataLoader

PRECISIONS = ("fp32", "bf16")
OPTIMIZERS = ("fastai", "fused")
CACHE_AUGMENTS = ("none", "flip", "dihedral")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


_NOTED = set()


def note(text: str) -> None:
    """A fallback notice, on stdout (a lesson cell must write nothing to stderr), once per process,
    by rank 0 alone when several processes train (they would all say the same)."""
    from fastai.torch_core import rank_distrib
    if text not in _NOTED and rank_distrib() == 0:
        _NOTED.add(text)
        print(f"note: {text}", flush=True)


def cuda() -> bool:
    return torch.cuda.is_available()


# --- the cache: every image decoded and resized once --------------------------------------------

@dataclass
class CachedSplit:
    """One split of a dataset, decoded, resized and padded.

    Attributes:
        images (Tensor[N, 3, S, S]): uint8 RGB pixels, squished to S x S (as fastai's
            ``Resize(S, method="squish")``: PIL bilinear).
        boxes (Tensor[N, G, 4]): float32 ``xyxy`` in [-1, 1], zero-padded (G: most objects an image has).
        labels (Tensor[N, G]): int64 vocab indices, padded with 0 ('#na#', the background).
        names (list of str): the file names, in the order of the json file.
    """
    images: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor
    names: list

    def __len__(self):
        return len(self.images)

    def to(self, device) -> "CachedSplit":
        return CachedSplit(self.images.to(device), self.boxes.to(device), self.labels.to(device), self.names)


def _decode(path: Path, size: int):
    """(uint8 array [S, S, 3], (width, height) before resizing) of one image file."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        original = im.size
        return np.asarray(im.resize((size, size), Image.BILINEAR)), original


def cache_split(root, json_name: str, size: int, vocab, workers: int = None) -> CachedSplit:
    """Decode, resize and pad the images and targets of ``root/json_name`` (e.g. "valid.json").

    Args:
        root: a PASCAL-layout dataset folder (see `data`).
        size (int): S, the side images are squished to.
        vocab: class names, '#na#' first (labels become indices into it).
        workers (int): decoding threads (PIL releases the GIL while it decodes; default: the cores, at most 16).

    Returns:
        CachedSplit, on the CPU.
    """
    from fastai.vision.core import get_annotations
    root = Path(root)
    names, targets = get_annotations(root / json_name)
    if not names:
        raise ValueError(f"{root / json_name} lists no images: regenerate the dataset (`ssd-course data make`)")
    workers = workers or max(1, min(16, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        decoded = list(pool.map(lambda n: _decode(root / "train" / n, size), names))
    images = torch.from_numpy(np.stack([pixels for pixels, _ in decoded]))        # [N, S, S, 3]
    images = images.permute(0, 3, 1, 2).contiguous()                              # [N, 3, S, S]
    index = {name: i for i, name in enumerate(vocab)}
    G = max(1, max(len(labels) for _, labels in targets))
    boxes = torch.zeros(len(names), G, 4)
    labels = torch.zeros(len(names), G, dtype=torch.int64)
    for i, ((pixel_boxes, classes), (_, (width, height))) in enumerate(zip(targets, decoded)):
        if not classes:
            continue
        unknown = [c for c in classes if c not in index]
        if unknown:
            raise ValueError(f"{names[i]} has classes {unknown} that the training set does not: "
                             f"they cannot be learnt; fix {json_name}")
        px = torch.tensor(pixel_boxes, dtype=torch.float32)                       # [K, 4] xyxy pixels
        scale = torch.tensor([width, height, width, height], dtype=torch.float32)
        boxes[i, :len(px)] = (px / scale * 2 - 1).clamp(-1, 1)                    # [K, 4] in [-1, 1]
        labels[i, :len(px)] = torch.tensor([index[c] for c in classes])
    return CachedSplit(images, boxes, labels, list(names))


def vocab_of(root):
    """fastai's vocab for the dataset's training classes: '#na#' then the class names, sorted."""
    from fastai.data.transforms import CategoryMap
    from fastai.vision.core import get_annotations
    _, targets = get_annotations(Path(root) / "train.json")
    return CategoryMap(sorted({c for _, classes in targets for c in classes}), add_na=True)


_CACHE = {}   # (root, size, json files' mtimes, device) -> (train CachedSplit, valid CachedSplit, vocab)


def cached_dataset(root, size: int, device="cpu", verbose: bool = True):
    """(train, valid, vocab) of the dataset at `root` on `device`, decoded once per process and kept.

    One dataset is kept at a time (the large synthetic set takes 1.7 GB at 224 px), so
    Learners made one after the other over the same data share one copy.
    """
    root = Path(root).resolve()
    device = torch.device(device)
    key = (root, size, (root / "train.json").stat().st_mtime_ns, (root / "valid.json").stat().st_mtime_ns,
           str(device))
    if key not in _CACHE:
        start = time.perf_counter()
        vocab = vocab_of(root)
        train = cache_split(root, "train.json", size, vocab)
        valid = cache_split(root, "valid.json", size, vocab)
        if verbose:
            mb = (train.images.numel() + valid.images.numel()) / 2**20
            print(f"cached {len(train)} + {len(valid)} images at {size} px ({mb:.0f} MiB of uint8) "
                  f"in {time.perf_counter() - start:.1f} s", flush=True)
        _CACHE.clear()                      # one dataset at a time: the large one takes GiBs
        _CACHE[key] = (train.to(device), valid.to(device), vocab)
    return _CACHE[key]


# --- batch augmentation on the device -----------------------------------------------------------

def flip_lr(images, boxes, which):
    """Mirror the chosen images left-right, and their boxes.

    Args:
        images (Tensor[B, 3, H, W]); boxes (Tensor[B, G, 4]): ``xyxy`` in [-1, 1], zero-padded.
        which (Tensor[B]): bool, the images to flip.
    Returns:
        (Tensor[B, 3, H, W], Tensor[B, G, 4]); padding rows stay zero (a flipped zero box is zero).
    """
    x0, y0, x1, y1 = boxes.unbind(-1)
    mirrored = torch.stack([-x1, y0, -x0, y1], dim=-1)                        # [B, G, 4]
    images = torch.where(which[:, None, None, None], images.flip(3), images)
    return images, torch.where(which[:, None, None], mirrored, boxes)


def flip_ud(images, boxes, which):
    """Mirror the chosen images top-bottom, and their boxes (same shapes as `flip_lr`)."""
    x0, y0, x1, y1 = boxes.unbind(-1)
    mirrored = torch.stack([x0, -y1, x1, -y0], dim=-1)
    images = torch.where(which[:, None, None, None], images.flip(2), images)
    return images, torch.where(which[:, None, None], mirrored, boxes)


def transpose(images, boxes, which):
    """Swap x and y of the chosen (square) images, and of their boxes (same shapes as `flip_lr`)."""
    x0, y0, x1, y1 = boxes.unbind(-1)
    swapped = torch.stack([y0, x0, y1, x1], dim=-1)
    images = torch.where(which[:, None, None, None], images.transpose(2, 3), images)
    return images, torch.where(which[:, None, None], swapped, boxes)


def augment_batch(images, boxes, augment: str):
    """Random flips of a batch on its own device: "flip" (left-right), "dihedral" (the 8 symmetries) or "none".

    Every change maps each box exactly onto its object, so no box gets loose.
    """
    if augment == "none":
        return images, boxes
    B = len(images)
    coin = lambda: torch.rand(B, device=images.device) < 0.5                  # noqa: E731
    images, boxes = flip_lr(images, boxes, coin())
    if augment == "dihedral":
        images, boxes = flip_ud(images, boxes, coin())
        images, boxes = transpose(images, boxes, coin())
    return images, boxes


# --- the DataLoader -----------------------------------------------------------------------------

class _Indices:
    """The "dataset" of a `CachedDetectionDL`: just its length and vocab (fastai reads both from it)."""

    def __init__(self, n, vocab):
        self.n, self.vocab = n, vocab
        self.n_inp = 1                          # batches are (images, boxes, labels): one input

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


class CachedDetectionDL(DataLoader):
    """A fastai DataLoader over a `CachedSplit`: batches are slices of tensors already in memory.

    Shuffling, `len`, `one_batch` and fastai's distributed sharding (`DistributedDL`
    calls `get_idxs` and `create_batches`) work as in fastai's own DataLoader; no
    worker processes are needed since nothing is decoded.

    Args:
        split (CachedSplit): the images and targets (moved to `device`).
        vocab: class names, '#na#' first.
        bs (int); shuffle, drop_last (bool): as fastai's.
        augment (str): one of `CACHE_AUGMENTS`, applied to each batch on its device.
        channels_last (bool): give the images in NHWC memory layout.
        device: where batches are made (default: the GPU when there is one).
    """

    def __init__(self, split: CachedSplit, vocab, bs: int = 64, shuffle: bool = False, drop_last: bool = False,
                 augment: str = "none", channels_last: bool = False, device=None):
        if augment not in CACHE_AUGMENTS:
            raise ValueError(f"with cache=True, augment must be one of {CACHE_AUGMENTS} (flips done on the "
                             f"batch's device), got {augment!r}; use cache=False for fastai's augmentations")
        device = torch.device(device if device is not None else "cuda" if cuda() else "cpu")
        self.split, self.augment, self.channels_last = split.to(device), augment, channels_last
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1) * 255
        super().__init__(_Indices(len(split), vocab), bs=bs, shuffle=shuffle, drop_last=drop_last,
                         num_workers=0, device=device)

    def create_batches(self, samps):
        """Index the cache with each `bs` of the sampled indices: (uint8 images, boxes, labels)."""
        samps = list(samps)
        for start in range(0, len(samps), self.bs):
            chunk = samps[start:start + self.bs]
            if self.drop_last and len(chunk) < self.bs:
                break
            idx = torch.tensor(chunk, device=self.split.images.device)
            yield self.split.images[idx], self.split.boxes[idx], self.split.labels[idx]

    def after_batch(self, b):
        """uint8 -> float, ImageNet-normalised, augmented, in the memory layout asked for."""
        images, boxes, labels = b
        images = (images.float() - self.mean) / self.std                      # [B, 3, S, S] float32
        images, boxes = augment_batch(images, boxes, self.augment)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, boxes, labels

    def to(self, device):
        self.split = self.split.to(device)
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        self.device = device
        return self


def cached_dataloaders(config, root, device=None, verbose: bool = True):
    """fastai DataLoaders (train shuffled and augmented, valid in file order) from the cache of `root`.

    Args:
        config (train.Config): size, bs, augment and channels_last are used.
        root: the dataset folder.
        device: where the cache and the batches live (default: the GPU when there is one).
    """
    from fastai.data.core import DataLoaders
    if device is None and not cuda():
        note("no CUDA device: the image cache stays in CPU memory")
    device = torch.device(device if device is not None else "cuda" if cuda() else "cpu")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())   # one key per GPU for the cache
    train, valid, vocab = cached_dataset(root, config.size, device=device, verbose=verbose)
    common = dict(vocab=vocab, bs=config.bs, channels_last=config.channels_last, device=device)
    dls = DataLoaders(CachedDetectionDL(train, shuffle=True, drop_last=True, augment=config.augment, **common),
                      CachedDetectionDL(valid, bs=config.bs, **{k: v for k, v in common.items() if k != "bs"}),
                      path=root, device=device)
    return dls


# --- the model side: precision, memory layout, optimizer ----------------------------------------

def opt_func(config):
    """The optimizer factory for `Learner(opt_func=...)`: fastai's Adam, or PyTorch's fused AdamW.

    The fused AdamW takes fastai's Adam defaults (betas (0.9, 0.99), eps 1e-5) so that
    only the speed changes; fit_one_cycle schedules its lr and betas[0] as fastai's.
    """
    from functools import partial
    from fastai.optimizer import Adam, OptimWrapper
    if config.opt not in OPTIMIZERS:
        raise ValueError(f"opt must be one of {OPTIMIZERS}, got {config.opt!r}")
    if config.opt == "fastai":
        return Adam
    if not cuda():
        note("opt='fused' needs CUDA: using fastai's Adam")
        return Adam
    return partial(OptimWrapper, opt=partial(torch.optim.AdamW, fused=True), betas=(0.9, 0.99), eps=1e-5)


def apply_switches(learn, config):
    """Put the config's precision and memory layout on a Learner (in place); returns it.

    Args:
        learn: a fastai Learner built by `train.make_learner`.
        config (train.Config): precision ("fp32" | "bf16") and channels_last are used.
    """
    if config.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {config.precision!r}")
    if config.precision == "bf16":
        if cuda() and torch.cuda.is_bf16_supported():
            learn.to_bf16()                     # fastai's MixedPrecision: autocast, predictions back to fp32
        else:
            note("precision='bf16' needs a CUDA GPU with bfloat16: training in fp32")
    device = getattr(learn.dls, "device", None)
    if device is not None:
        learn.model.to(device)                  # where the batches are (fastai would move it at fit)
    if config.channels_last:
        learn.model.to(memory_format=torch.channels_last)
    if cuda() and (config.cache or config.precision != "fp32" or config.channels_last):
        torch.backends.cudnn.benchmark = True   # fixed image size: let cuDNN time its kernels once
    return learn


# --- measuring: images a second -----------------------------------------------------------------

def _sync():
    if cuda():
        torch.cuda.synchronize()


def loader_speed(dl) -> float:
    """Images a second of one pass over `dl` (data pipeline only: no model).

    Timed from the start of the pass, worker start-up included, as each epoch pays it;
    one batch is taken before, so that one-time costs (CUDA's start) stay out.
    """
    dl.one_batch()
    _sync()
    n, start = 0, time.perf_counter()
    for x, _, _ in dl:
        n += len(x)
    _sync()
    return n / max(time.perf_counter() - start, 1e-9)


def train_steps(learn, batch, steps: int) -> float:
    """Run `steps` training steps on one batch already in memory; returns seconds after 1 warm-up step.

    Precision as the Learner's callbacks say (autocast for bf16), the Learner's loss and optimizer.
    """
    x, bbox, clas = batch
    model, loss_func = learn.model.to(x.device).train(), learn.loss_func
    if learn.opt is None:
        learn.create_opt()
    bf16 = any(type(cb).__name__ == "MixedPrecision" for cb in learn.cbs)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            pred = model(x)
        loss = loss_func(tuple(p.float() for p in pred), bbox, clas)
        loss.backward()
        learn.opt.step()
        learn.opt.zero_grad()

    step()
    _sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync()
    return time.perf_counter() - start


def compute_speed(learn, steps: int = 10) -> float:
    """Images a second of training steps on one batch already on the device (no data loading)."""
    batch = learn.dls.train.one_batch()
    return steps * len(batch[0]) / train_steps(learn, batch, steps)


def pipeline_speed(learn, steps: int = 5) -> float:
    """Images a second of training steps fed by the Learner's own training DataLoader (loading included).

    Two untimed steps on one batch first (cuDNN's choice of kernels, memory); then the
    clock runs from the start of a pass over the training set (worker start-up included,
    as each epoch pays it) for `steps` batches (fewer if the epoch is shorter).
    """
    batch = learn.dls.train.one_batch()
    train_steps(learn, batch, 1)
    bf16 = any(type(cb).__name__ == "MixedPrecision" for cb in learn.cbs)
    model, loss_func = learn.model, learn.loss_func
    _sync()
    n, start = 0, time.perf_counter()
    for i, (x, bbox, clas) in enumerate(learn.dls.train):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            pred = model(x)
        loss_func(tuple(p.float() for p in pred), bbox, clas).backward()
        learn.opt.step()
        learn.opt.zero_grad()
        n += len(x)
        if i + 1 >= steps:
            break
    _sync()
    return n / (time.perf_counter() - start)


# The switches, one after the other, from the blog's recipe to ours (lesson 08's table).
SWITCH_STEPS = (
    ("blog's recipe (PIL per image, loop loss, fp32)",
     dict(cache=False, augment="blog", batched=False, precision="fp32", channels_last=False, opt="fastai")),
    ("+ batched loss", dict(batched=True)),
    ("+ cached images, flips on the device", dict(cache=True, augment="flip")),
    ("+ bf16 autocast", dict(precision="bf16")),
    ("+ channels_last", dict(channels_last=True)),
    ("+ fused AdamW", dict(opt="fused")),
)


def switch_table(config, path, steps: int = 8, bs: int = None, verbose: bool = True):
    """Training img/s (data loading included) as each switch of `SWITCH_STEPS` is turned on in turn.

    Args:
        config (train.Config): the run's config (model, size, batch); the switches are overridden.
        path: the dataset folder.
        steps (int): timed training steps per row (after one warm-up step).
        bs (int): batch size (default: the config's).

    Returns:
        list of (row name, img/s); also printed as a table when `verbose`.
    """
    from dataclasses import replace
    from ssd_course.train import make_learner
    rows, settings = [], {} if bs is None else {"bs": bs}
    for name, change in SWITCH_STEPS:
        settings.update(change)
        cfg = replace(config, **settings)
        learn = make_learner(cfg, path=path, verbose=False)
        rows.append((name, pipeline_speed(learn, steps)))
        del learn
    if verbose:
        print(format_rows(rows))
    return rows


def format_rows(rows) -> str:
    """A small text table: row name, img/s, speed-up over the first row."""
    width = max(len(name) for name, _ in rows)
    lines = [f"{'switch':<{width}}  {'img/s':>8}  speed-up", f"{'-' * width}  {'-' * 8}  --------"]
    lines += [f"{name:<{width}}  {speed:8.0f}  {speed / rows[0][1]:7.1f}x" for name, speed in rows]
    return "\n".join(lines)


# --- the training entry point (also under torchrun / accelerate launch) -------------------------

def fit(config, path, epochs: int = None, lr: float = None, seed: int = None, cbs=None):
    """Build the Learner of `config` over `path` and train it; on all the ranks when launched so.

    Under `torchrun` or `accelerate launch` with W > 1 processes, each process joins the
    process group (NCCL, one GPU each; gloo on CPUs) and trains inside
    `distributed.training`, fastai's ``learn.distrib_ctx()``: DistributedDataParallel,
    each rank on its 1/W of every epoch (the cached loader included). One process
    trains as without a launcher.

    Args:
        config (train.Config): what to train; path: the dataset folder, or "pascal"
            (downloaded once a machine, before its other processes read it).
        epochs, lr: override the config's.
        seed (int): seeds Python, NumPy and torch before the Learner is built, the same on
            every rank (same initial weights; the shuffled order is rank 0's anyway).
        cbs: extra fastai callbacks (e.g. `distributed.StepLog`).

    Returns:
        (Learner, seconds of training): the plain model, the same on every rank.
    """
    from fastai.torch_core import set_seed
    from ssd_course import distributed
    from ssd_course.data import dataset_path
    from ssd_course.train import make_learner, train
    distributed.start()
    root = distributed.local_first(dataset_path, path)
    if seed is not None:
        set_seed(seed)
    learn = make_learner(config, path=root, cbs=cbs, verbose=distributed.rank() == 0)
    with distributed.training(learn):
        seconds = train(learn, epochs, lr)
    return learn, seconds


def parse_setting(text: str):
    """``"FIELD=VALUE"`` -> (field, value typed as `train.Config`'s field), e.g. "bs=8" -> ("bs", 8)."""
    from dataclasses import fields
    from ssd_course.train import Config
    name, sep, value = text.partition("=")
    kinds = {f.name: f.type for f in fields(Config)}
    if not sep or name not in kinds:
        raise ValueError(f"--set takes FIELD=VALUE with FIELD one of {sorted(kinds)}, got {text!r}")
    kind = kinds[name]                          # int, float, bool or str: Config's annotations
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"--set {name}= takes true or false, got {value!r}")
        return name, value.lower() in ("true", "1")
    return name, kind(value)


def summary_lines(summary: dict) -> str:
    """What `main` prints (rank 0): img/s of all the processes together, what each rank did, mAP."""
    ranks = summary["ranks"]
    return "\n".join([
        f"trained {summary['epochs']} epoch(s) on {summary['world_size']} process(es) in "
        f"{summary['seconds']:.1f} s: {summary['img_s']:.0f} img/s (validation included)",
        f"per rank: {[r['steps'] for r in ranks]} steps, {[r['images'] for r in ranks]} training images; "
        f"validation images predicted {summary['valid_per_rank']}",
        f"mAP@0.5: {summary['map']:.3f} (over the {summary['n_valid']} validation images)"])


def main(argv=None) -> int:
    import argparse
    import json
    from ssd_course import distributed, impl
    from ssd_course.train import CONFIGS, get_config
    parser = argparse.ArgumentParser(prog="python -m ssd_course.fast",
                                     description="Train a config (on one GPU, or several under torchrun / "
                                                 "accelerate launch) and print its img/s and mAP@0.5.")
    parser.add_argument("--config", default="gpu", choices=sorted(CONFIGS))
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (ssd-course data make DIR)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a field of the config, e.g. --set bs=64 (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="the same on every rank (default 0)")
    parser.add_argument("--impl", choices=impl.CHOICES, default=None)
    parser.add_argument("--save", type=Path, help="write the trained weights (a state_dict) here (rank 0)")
    parser.add_argument("--report", type=Path, help="write what each rank did, and the mAP, as JSON (rank 0)")
    args = parser.parse_args(argv)
    from ssd_course.demo import default_impl
    impl.use(args.impl or default_impl())
    settings = {"epochs": args.epochs, "lr": args.lr, **dict(map(parse_setting, args.set))}
    config = get_config(args.config, **settings)
    log = distributed.StepLog()
    try:
        learn, seconds = fit(config, args.data, seed=args.seed, cbs=[log])
        summary = distributed.summary(learn, log, seconds, distributed.evaluate(learn))
    finally:
        distributed.stop()
    distributed.on_rank0(print, summary_lines(summary))
    if args.save:
        distributed.on_rank0(torch.save, learn.model.state_dict(), args.save)
    if args.report:
        distributed.on_rank0(Path(args.report).write_text, json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    raise SystemExit(main())
