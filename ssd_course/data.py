"""Detection data: PASCAL VOC 2007 or the synthetic dataset, as fastai DataLoaders.

On disk both datasets share fastai's `PASCAL_2007` layout (`ssd_course.synthetic`
writes it), so one code path reads them:

    ROOT/train/*.jpg      the images (of train.json and valid.json alike)
    ROOT/train.json       COCO-like: images, annotations (bbox = [x, y, w, h] pixels), categories
    ROOT/valid.json

`fastai.vision.core.get_annotations` turns a JSON file into file names and
``([[x_min, y_min, x_max, y_max], ...], [label, ...])`` per image (pixels).
The DataLoaders then give batches of

    images  [B, 3, H, W]   float, normalised with ImageNet statistics
    boxes   [B, G, 4]      xyxy, scaled to [-1, 1] (fastai v2; the 2018 course used [0, 1])
    labels  [B, G]         int64 vocab indices, padded with 0 (= '#na#', the background)
"""
from pathlib import Path
from urllib.parse import urlparse

from ssd_course.network import reachable

# --- PASCAL VOC 2007 ---------------------------------------------------------------------------

class DatasetUnavailable(RuntimeError):
    """A dataset cannot be had on this machine (e.g. no network); the message says what to do."""


def pascal_2007(timeout: float = 4.0, data_dir=None) -> Path:
    """The PASCAL VOC 2007 folder of fastai's `URLs.PASCAL_2007`, downloaded if needed.

    Args:
        timeout (float): seconds to wait for the download server before giving up.
        data_dir: where fastai keeps its datasets (default: fastai's config, ~/.fastai/data).

    Offline, fails within `timeout` seconds with DatasetUnavailable saying how
    to use the synthetic dataset instead.
    """
    from fastai.data.external import URLs, fastai_cfg, untar_data
    data_dir = Path(data_dir or fastai_cfg().path("data"))
    url = URLs.PASCAL_2007
    if not (data_dir / "pascal_2007" / "train.json").is_file():   # not here yet: it must download
        problem = reachable(urlparse(url).hostname, timeout=timeout)
        if problem:
            raise DatasetUnavailable(
                f"PASCAL VOC 2007 is not in {data_dir} and cannot be downloaded from {url} ({problem}).\n"
                f"Use the synthetic dataset instead: `ssd-course data make data/synthetic` in a shell, or "
                f"`make_synthetic('data/synthetic')` in Python, then load that folder "
                f"(e.g. `get_dataloaders('data/synthetic')`).")
    return untar_data(url, data=data_dir)


def dataset_path(name_or_path) -> Path:
    """Resolve "pascal" to the PASCAL 2007 folder; anything else is a dataset folder."""
    if str(name_or_path).lower() in ("pascal", "pascal_2007", "voc"):
        return pascal_2007()
    root = Path(name_or_path)
    if not (root / "train.json").is_file():
        raise FileNotFoundError(f"no train.json in {root}: make a dataset there with "
                                f"`ssd-course data make {root}`")
    return root


# --- fastai DataLoaders ------------------------------------------------------------------------

class _ImagePath:
    """file name -> full path (a class, not a lambda, so DataLoader workers can pickle it)."""
    def __init__(self, folder): self.folder = Path(folder)
    def __call__(self, name): return self.folder / name


class _Lookup:
    """file name -> its boxes (part=0) or its labels (part=1)."""
    def __init__(self, table, part): self.table, self.part = table, part
    def __call__(self, name): return self.table[name][self.part]


class _InSet:
    def __init__(self, names): self.names = frozenset(names)
    def __call__(self, name): return name in self.names


def blog_batch_tfms():
    """The blog's augmentation: rotations, flips and the 8 dihedral symmetries."""
    from fastai.vision.augment import Dihedral, Flip, Rotate
    return [Rotate(), Flip(), Dihedral()]


_CLIP = None


def clip_boxes():
    """A batch transform that clamps boxes to [-1, 1] after the augmentations.

    fastai clips boxes when it collates a batch, but rotations on the batch
    (the blog's `Rotate`) then enlarge some boxes past the image border. A box
    pushed wholly outside becomes an empty box here; `unpad` drops it.
    """
    global _CLIP
    if _CLIP is None:
        from fasttransform import Transform
        from fastai.vision.core import TensorBBox

        class ClipBoxes(Transform):
            order = 95  # after the augmentations (orders 30-40), before Normalize (99)

            def encodes(self, boxes: TensorBBox):
                return boxes.clamp(-1, 1)

        _CLIP = ClipBoxes
    return _CLIP()


def get_dataloaders(path, size: int = 224, bs: int = 128, split: str = "valid", valid_pct: float = 0.2,
                    item_tfms=None, batch_tfms=None, normalize: bool = True, seed: int = 42,
                    num_workers: int = None, device=None, **kwargs):
    """fastai DataLoaders over a PASCAL-layout dataset (synthetic or PASCAL 2007).

    Args:
        path: the dataset root (with train/, train.json, valid.json).
        size (int): images are squished to ``size x size`` pixels.
        bs (int): batch size.
        split (str): "valid" trains on train.json and validates on valid.json;
            "random" splits train.json at random (``valid_pct``, ``seed``), as the blog does.
        item_tfms / batch_tfms: default to the blog's ``Resize(size, method='squish')`` and
            ``[Rotate(), Flip(), Dihedral()]``; pass ``batch_tfms=[]`` for none.
        normalize (bool): append ImageNet normalisation to the batch transforms.
        num_workers (int): data-loading processes (default: fastai's choice).
        device: where batches go (default: the GPU when there is one).
        **kwargs: passed on to ``DataBlock.dataloaders``.

    Returns:
        DataLoaders whose batches are ``(images [B,3,H,W], boxes [B,G,4] xyxy in [-1, 1],
        labels [B,G] int64 padded with 0)``; ``dls.vocab[0] == '#na#'``.
    """
    from fastai.data.block import DataBlock
    from fastai.data.transforms import FuncSplitter, RandomSplitter
    from fastai.vision.augment import Resize
    from fastai.vision.core import get_annotations, imagenet_stats
    from fastai.vision.data import BBoxBlock, BBoxLblBlock, ImageBlock
    from fastai.vision.augment import Normalize

    root = Path(path)
    names, targets = get_annotations(root / "train.json")
    if split == "valid":
        valid_names, valid_targets = get_annotations(root / "valid.json")
        splitter = FuncSplitter(_InSet(valid_names))
        names, targets = names + valid_names, targets + valid_targets
    elif split == "random":
        splitter = RandomSplitter(valid_pct, seed=seed)
    else:
        raise ValueError(f"split must be 'valid' or 'random', got {split!r}")
    table = dict(zip(names, targets))
    item_tfms = [Resize(size, method="squish")] if item_tfms is None else list(item_tfms)
    batch_tfms = blog_batch_tfms() if batch_tfms is None else list(batch_tfms)
    batch_tfms.append(clip_boxes())
    if normalize:
        batch_tfms.append(Normalize.from_stats(*imagenet_stats))
    block = DataBlock(blocks=(ImageBlock, BBoxBlock, BBoxLblBlock),
                      get_x=_ImagePath(root / "train"),
                      get_y=[_Lookup(table, 0), _Lookup(table, 1)],
                      splitter=splitter, item_tfms=item_tfms, batch_tfms=batch_tfms, n_inp=1)
    if num_workers is not None:
        kwargs["num_workers"] = num_workers
    if device is not None:
        kwargs["device"] = device
    return block.dataloaders(names, bs=bs, **kwargs)


def denormalize(images):
    """Undo the ImageNet normalisation: [B, 3, H, W] or [3, H, W] -> same shape, floats in [0, 1]."""
    import torch
    from fastai.vision.core import imagenet_stats
    mean, std = (torch.tensor(s, device=images.device).view(3, 1, 1) for s in imagenet_stats)
    return (images * std + mean).clamp(0, 1)


def real_objects(boxes, labels):
    """Mask of the real objects in padded targets: label > 0 and a box of positive width
    and height (augmentation can squash a box to nothing while its label stays).

    Args:
        boxes (Tensor[..., G, 4]): xyxy; labels (Tensor[..., G]): int64, padded with 0.
    Returns:
        Tensor[..., G]: bool.
    """
    return (labels > 0) & (boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1])


def unpad(boxes, labels):
    """Drop the padding of one image's targets.

    Args:
        boxes (Tensor[G, 4]): xyxy in [-1, 1], padded with zeros.
        labels (Tensor[G]): int64, padded with 0 (background).

    Returns:
        (Tensor[K, 4], Tensor[K]): the K real objects (label > 0 and a box of
        positive width and height; augmentation can squash a box to nothing).
    """
    keep = real_objects(boxes, labels)
    return boxes[keep], labels[keep]


def plain(t):
    """A fastai tensor subclass (TensorBBox, TensorImage, ...) as a plain torch.Tensor.

    fastai's subclasses refuse to be indexed by one another (a TensorBBox by a
    mask made from a TensorMultiCategory); plain tensors have no such rules.
    """
    import torch
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) else t
