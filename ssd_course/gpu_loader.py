"""The fast path's data: every image decoded and resized once, batches served from memory.

The blog's recipe reads every image from its JPEG, decoded and resized by PIL
again each epoch. With ``Config(cache=True)`` (`train.make_dataloaders`) a
split is decoded once; its uint8 pixels and padded targets stay in memory, on
the GPU when there is one, and `CachedDetectionDL` serves batches by indexing,
with the config's augmentation (`train.AUGMENTS`: "flip", "dihedral" or "none")
done on the whole batch, on its device.

`CachedDetectionDL` is a fastai `DataLoader`: a Learner, `fit_one_cycle`,
`evaluate` and fastai's distributed training (`learn.distrib_ctx()`, which
shards its indices) all take it as they take fastai's own. Its batches keep
the contract of `data.get_dataloaders`: images [B, 3, S, S] float normalised
with ImageNet statistics, boxes [B, G, 4] ``xyxy`` in [-1, 1] zero-padded,
labels [B, G] int64 padded with 0 (G: the most objects an image has in the
split, not in the batch: more padding, never fewer objects).

Switches that need CUDA fall back on a CPU with a printed `note`, so every
config runs everywhere.
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from fastai.data.load import DataLoader

from ssd_course.boxes import pixels_to_signed

CACHE_AUGMENTS = ("none", "flip", "dihedral")   # done on the batch's device, as `train.AUGMENTS` means them
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def cuda() -> bool:
    return torch.cuda.is_available()


_NOTED = set()


def note(text: str) -> None:
    """A fallback notice, on stdout (a lesson cell must write nothing to stderr), once per process,
    by rank 0 alone when several processes train (they would all say the same)."""
    from fastai.torch_core import rank_distrib
    if text not in _NOTED and rank_distrib() == 0:
        _NOTED.add(text)
        print(f"note: {text}", flush=True)


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
        boxes[i, :len(px)] = pixels_to_signed(px, height, width).clamp(-1, 1)    # [K, 4] in [-1, 1]
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
