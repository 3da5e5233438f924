"""Named training configurations and the fastai Learner factory.

    smoke   the tests: a tiny model, a few seconds
    cpu     the demo (`make demo`): trains from scratch to mAP@0.5 >= 0.6 in minutes on 2 cores
    gpu     lesson 08: resnet34, 224 px, batch 128, multi-grid head, 20 epochs, the fast path's switches
    blog    the blog's recipe as it was (PIL per image, loop loss, fp32): the GPU benchmark's baseline

A `Config` names everything a run depends on; `make_learner(config)` builds the
DataLoaders, the model, the loss and the Learner from it; `train` fits it with
fastai's one-cycle schedule, progress bars on. Whatever builds the Learner, a
training run starts by printing whose exercise code runs (`impl.describe()`) and
which weights the body started from.

The fast path: the same model, loss and data, fed and computed at the GPU's pace.
Each switch is a field of `Config` and removes one cost of the blog's recipe
(lesson 08 measures each, `ssd_course.tools.speed`):

    cache=True          decode and resize every image once, serve batches from memory (`gpu_loader`)
    augment="flip"      (with cache) flips done on the whole batch, on its device
    batched=True        the loss on the whole padded batch at once (`loss.ssd_loss_batched`)
    precision="bf16"    bfloat16 autocast for the model (fastai's `MixedPrecision`)
    channels_last=True  NHWC memory layout for the model and the images (faster convolutions)
    opt="fused"         PyTorch's fused AdamW kernel instead of fastai's per-parameter Adam

Switches that need CUDA (bf16, the fused optimizer, keeping the cache on the
GPU) fall back on a CPU with a printed note, so every config runs everywhere.
"""
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import fastai.callback.progress  # noqa: F401  (fastai's progress bars)
import fastai.callback.schedule  # noqa: F401  (Learner.fit_one_cycle)
import torch
from fastai.callback.core import Callback

from ssd_course import impl
from ssd_course.gpu_loader import note

DEFAULT_DATA = Path("data/synthetic")


@dataclass(frozen=True)
class Config:
    """Everything a training run depends on.

    Attributes:
        name: the config's name.
        arch: body architecture (a name in `model.ARCHS`); pretrained: ImageNet weights when they can be had.
        cut: where the body ends (`model.make_body`): None, or -3 for a resnet's stride-16 features.
        head: "4x4" or "multi" (see `model.HEADS`).
        size: images are squished to ``size x size``; bs: batch size.
        epochs, lr, wd: `fit_one_cycle`'s epochs, maximum learning rate and weight decay.
        head_drop: dropout in the head (the blog: 0.4 in the multi head; 0 trains faster when short).
        augment: a key of `AUGMENTS` (the same meaning with and without the cache).
        loc_weight: weight of the box loss against the class loss (the blog: 1).
        per_image: divide the loss by the batch size (the blog sums over the images).
        num_workers: data-loading processes (None: fastai's default).
        batched: the batched loss (False: the blog's loop over images; same value, slower).
        cache, precision, channels_last, opt: the fast path's switches (below).
    """
    name: str
    arch: str = "resnet34"
    pretrained: bool = True
    cut: int = None
    head: str = "multi"
    size: int = 224
    bs: int = 128
    epochs: int = 20
    lr: float = 1e-3
    wd: float = 1e-2
    head_drop: float = 0.4
    augment: str = "blog"
    loc_weight: float = 1.0
    per_image: bool = False
    num_workers: int = None
    batched: bool = True
    cache: bool = False
    precision: str = "fp32"
    channels_last: bool = False
    opt: str = "fastai"

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


CONFIGS = {
    # The tests: a body of one block per stage, 64 px, a few seconds on a CPU.
    "smoke": Config("smoke", arch="resnet10", pretrained=False, size=64, bs=16, epochs=2, lr=3e-3,
                    head_drop=0.0, augment="none", num_workers=0),
    # The demo: docs/experiments.md says why each choice.
    "cpu": Config("cpu", arch="resnet10", pretrained=True, cut=-3, size=96, bs=32, epochs=6, lr=1e-3,
                  head_drop=0.0, augment="flip", loc_weight=1.0, per_image=True, num_workers=1),
    # Lesson 08 on a GPU: the blog's model, data path and arithmetic made fast (the switches below).
    # ImageNet weights when they can be had; docs/benchmarks.md's figures are from scratch (offline).
    "gpu": Config("gpu", arch="resnet34", pretrained=True, size=224, bs=128, epochs=20, lr=2e-3,
                  head_drop=0.0, augment="flip", loc_weight=10.0, cache=True, precision="bf16",
                  channels_last=True, opt="fused"),
    # The blog's recipe as it was (per-item PIL loading, the loop loss, fp32): `bench --gpu`'s baseline.
    "blog": Config("blog", arch="resnet34", pretrained=True, size=224, bs=128, epochs=20, lr=1e-3,
                   augment="blog", batched=False),
}


def get_config(config, **overrides) -> Config:
    """A Config from its name (or a Config), with fields replaced by `overrides` (None values ignored)."""
    config = CONFIGS[config] if isinstance(config, str) else config
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


# `Config.augment`: one meaning whatever the data path. fastai's path (cache=False) does all five
# on the batch; the cache (cache=True, `gpu_loader`) does those in `gpu_loader.CACHE_AUGMENTS`.
AUGMENTS = {
    "blog": "the blog's rotations, flips and dihedral symmetries",
    "tight": "one of the 8 dihedral symmetries, a zoom in on part of the batch, lighting",
    "flip": "left-right flips of half the batch",
    "dihedral": "one of the 8 dihedral symmetries per image",
    "none": "resizing only",
}
MAX_ZOOM = 1.4        # "tight": zoom in at most this much (crops the border, never pads)
MAX_LIGHTING = 0.2    # "tight": brightness and contrast change
PRECISIONS = ("fp32", "bf16")
OPTIMIZERS = ("fastai", "fused")


def transforms(augment: str, size: int):
    """(item_tfms, batch_tfms) of an `augment` setting (a key of `AUGMENTS`), for ``size x size`` images.

    A rotation ("blog") makes a box loose (the box around the rotated box), which
    the box loss then teaches; the others keep every box tight. All run on the
    batch, after fastai has scaled the boxes to [-1, 1]: fastai's per-item flips
    (`FlipItem`, `DihedralItem`) run before that scaling and would flip pixel
    boxes out of the image.
    """
    from fastai.vision.augment import Brightness, Contrast, Dihedral, Flip, Resize, Zoom
    from ssd_course.data import blog_batch_tfms
    if augment not in AUGMENTS:
        raise ValueError(f"augment must be one of {tuple(AUGMENTS)}, got {augment!r}")
    batch_tfms = {
        "blog": blog_batch_tfms,
        "tight": lambda: [Dihedral(p=1.0), Zoom(min_zoom=1.0, max_zoom=MAX_ZOOM, p=0.5),
                          Brightness(max_lighting=MAX_LIGHTING), Contrast(max_lighting=MAX_LIGHTING)],
        "flip": lambda: [Flip(p=0.5)],
        "dihedral": lambda: [Dihedral(p=1.0)],
        "none": list,
    }[augment]()
    return [Resize(size, method="squish")], batch_tfms


def make_dataloaders(config, path=DEFAULT_DATA, device=None, verbose: bool = True):
    """fastai DataLoaders for `config` over the dataset at `path` (see `data.get_dataloaders`)."""
    from ssd_course.data import dataset_path, get_dataloaders
    config = get_config(config)
    root = dataset_path(path)
    if config.cache:                       # decoded once, batches sliced from memory
        from ssd_course.gpu_loader import cached_dataloaders
        if verbose:
            print(f"dataset: {Path(root).resolve()} ({config.size} px, batch {config.bs}, cached, "
                  f"augmentation on the batch: {config.augment})")
        return cached_dataloaders(config, root, device=device, verbose=verbose)
    if verbose:
        print(f"dataset: {Path(root).resolve()} ({config.size} px, batch {config.bs}, "
              f"augmentation: {config.augment})")
    item_tfms, batch_tfms = transforms(config.augment, config.size)
    return get_dataloaders(root, size=config.size, bs=config.bs, item_tfms=item_tfms, batch_tfms=batch_tfms,
                           num_workers=config.num_workers, device=device)


def make_learner(config, dls=None, path=DEFAULT_DATA, cbs=None, verbose: bool = True, **learner_kwargs):
    """A fastai Learner for `config`: DataLoaders, `ssd_model`, `SSDLoss` (batched), Adam.

    Args:
        config: a name in `CONFIGS` or a `Config`.
        dls: DataLoaders to use (made from `path` when None).
        path: the dataset root, when `dls` is None.
        cbs: extra fastai callbacks.
        verbose: say which dataset is loaded.

    Returns:
        Learner, with ``learn.config`` and ``learn.anchors`` / ``learn.grid_sizes`` set.
    """
    from fastai.learner import Learner
    from ssd_course.loss import SSDLoss
    from ssd_course.model import ssd_model
    config = get_config(config)
    dls = dls if dls is not None else make_dataloaders(config, path, verbose=verbose)
    model = ssd_model(config.arch, n_classes=len(dls.vocab), head=config.head, size=config.size,
                      pretrained=config.pretrained, cut=config.cut, drop=config.head_drop,
                      in_drop=config.head_drop)
    anchors, grid_sizes = model.spec.make()
    loss = SSDLoss(anchors, grid_sizes, batched=config.batched, loc_weight=config.loc_weight,
                   per_image=config.per_image)
    learner_kwargs.setdefault("opt_func", opt_func(config))
    learn = Learner(dls, model, loss_func=loss, wd=config.wd, cbs=[ShowRun()] + list(cbs or []),
                    **learner_kwargs)
    learn.config, learn.anchors, learn.grid_sizes = config, anchors, grid_sizes
    return apply_switches(learn, config)


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
    if not torch.cuda.is_available():
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
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            learn.to_bf16()                     # fastai's MixedPrecision: autocast, predictions back to fp32
        else:
            note("precision='bf16' needs a CUDA GPU with bfloat16: training in fp32")
    device = getattr(learn.dls, "device", None)
    if device is not None:
        learn.model.to(device)                  # where the batches are (fastai would move it at fit)
    if config.channels_last:
        learn.model.to(memory_format=torch.channels_last)
    if torch.cuda.is_available() and (config.cache or config.precision != "fp32" or config.channels_last):
        torch.backends.cudnn.benchmark = True   # fixed image size: let cuDNN time its kernels once
    return learn


def train(learn, epochs: int = None, lr: float = None):
    """`fit_one_cycle` with the config's epochs and learning rate; returns the seconds it took."""
    config = getattr(learn, "config", None)
    epochs = epochs or config.epochs
    lr = lr or config.lr
    start = time.perf_counter()
    learn.fit_one_cycle(epochs, lr)
    return time.perf_counter() - start


class ShowRun(Callback):
    """Prints, as training starts, whose exercise code runs and what the body started from."""
    order = -10

    def before_fit(self):
        self.shown = False          # before_fit also runs for validate(); print on real training only

    def before_train(self):
        from fastai.torch_core import rank_distrib
        if self.shown or rank_distrib() != 0:         # several processes: rank 0 speaks for all
            return
        self.shown = True
        config = getattr(self.learn, "config", None)
        model = getattr(self.learn.model, "module", self.learn.model)    # DistributedDataParallel's inside
        print(impl.describe())
        print(f"body weights: {getattr(model, 'weights', 'unknown')}")
        if config is not None:
            print(f"config {config.name}: {config.describe()}")
        print(f"loss: {self.learn.loss_func!r}", flush=True)
