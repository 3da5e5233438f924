"""Detection data: the synthetic dataset, PASCAL VOC 2007, and fastai DataLoaders for both.

On disk both datasets share fastai's `PASCAL_2007` layout, so one code path
reads them:

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
import colorsys
import json
import socket
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from PIL import Image, ImageDraw

# --- the synthetic dataset --------------------------------------------------------------------

CLASSES = ("circle", "square", "triangle", "cross", "star", "ring")
# A base hue per class (HSV hue in [0, 1)): colour is a hint, shape is the answer,
# since each object's hue is jittered and some objects get any colour at all.
CLASS_HUES = (0.00, 0.15, 0.33, 0.50, 0.62, 0.80)
MANIFEST = "dataset.json"  # what generated the folder, to know when to regenerate


@dataclass(frozen=True)
class SyntheticSpec:
    """Everything that determines a synthetic dataset (same spec -> same files).

    The defaults are the course's set (the demo and lessons 01-07): many small images
    rather than few large ones, because a CPU trains at 96 px anyway and more images
    overfit less (README, "How the cpu config reaches mAP@0.5 >= 0.6"). Lesson 08 asks
    for larger images for its 224 px GPU training.
    """
    n_train: int = 5000
    n_valid: int = 500
    seed: int = 0
    min_side: int = 96             # image width and height are drawn from [min_side, max_side]
    max_side: int = 160
    max_objects: int = 5
    min_scale: float = 0.2         # object size: sqrt(box area / image area), log-uniform;
                                   # below ~0.2 an object is smaller than the finest (4x4) anchors
    max_scale: float = 0.80
    max_aspect: float = 2.2        # width/height of a box in [1/max_aspect, max_aspect]
    max_pair_iou: float = 0.35     # objects may overlap, but not hide each other
    hue_jitter: float = 0.04
    p_random_colour: float = 0.15  # share of objects whose colour says nothing about the class
    jpeg_quality: int = 90


def _object_count(rng, max_objects):
    # Mostly few objects per image, sometimes many (as in PASCAL VOC).
    weights = np.array([0.35, 0.25, 0.18, 0.12, 0.10][:max_objects] + [0.05] * max(0, max_objects - 5))
    return 1 + rng.choice(len(weights), p=weights / weights.sum())


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _place_boxes(rng, width, height, spec):
    """Integer xyxy pixel boxes, inside the image, overlapping each other at most `max_pair_iou`."""
    boxes = []
    for _ in range(_object_count(rng, spec.max_objects)):
        for _attempt in range(30):
            scale = np.exp(rng.uniform(np.log(spec.min_scale), np.log(spec.max_scale)))
            aspect = np.exp(rng.uniform(-np.log(spec.max_aspect), np.log(spec.max_aspect)))
            side = scale * np.sqrt(width * height)
            w = int(np.clip(side * np.sqrt(aspect), 8, 0.95 * width))
            h = int(np.clip(side / np.sqrt(aspect), 8, 0.95 * height))
            x0, y0 = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
            box = (x0, y0, x0 + w, y0 + h)
            if all(_iou(box, other) <= spec.max_pair_iou for other in boxes):
                boxes.append(box)
                break
    return boxes


def _background(rng, width, height):
    """A smooth gradient between two muted colours, with noise and a few distractor strokes."""
    c0, c1 = rng.uniform(40, 215, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (np.cos(angle) * xx / width + np.sin(angle) * yy / height)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = c0 + (c1 - c0) * t[..., None]                               # [H, W, 3]
    img += rng.normal(0, rng.uniform(3, 14), size=img.shape)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(rng.integers(0, 4)):                               # thin lines: clutter, not objects
        pts = rng.uniform(0, 1, size=4) * [width, height, width, height]
        draw.line(list(pts), fill=tuple(int(v) for v in rng.uniform(30, 225, 3)), width=int(rng.integers(1, 3)))
    return pil


def _colour(rng, label, spec):
    if rng.random() < spec.p_random_colour:
        hue = rng.random()
    else:
        hue = (CLASS_HUES[label] + rng.uniform(-spec.hue_jitter, spec.hue_jitter)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.55, 1.0), rng.uniform(0.55, 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def _star(x0, y0, x1, y1, points=5):
    """A star polygon stretched to touch all four sides of the box."""
    angles = np.pi / 2 + np.arange(2 * points) * np.pi / points
    radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, 0.45)
    px, py = radii * np.cos(angles), -radii * np.sin(angles)
    px = x0 + (px - px.min()) / np.ptp(px) * (x1 - x0)
    py = y0 + (py - py.min()) / np.ptp(py) * (y1 - y0)
    return list(zip(px.tolist(), py.tolist()))


def _draw_shape(draw, name, box, colour):
    """Draw `name` filling the pixel box xyxy (x1, y1 exclusive), so the box is tight."""
    x0, y0, x1, y1 = box[0], box[1], box[2] - 1, box[3] - 1        # PIL's coordinates are inclusive
    w, h = x1 - x0, y1 - y0
    if name == "circle":
        draw.ellipse((x0, y0, x1, y1), fill=colour)
    elif name == "square":
        draw.rectangle((x0, y0, x1, y1), fill=colour)
    elif name == "triangle":
        draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) / 2, y0)], fill=colour)
    elif name == "cross":
        draw.rectangle((x0 + w / 3, y0, x1 - w / 3, y1), fill=colour)
        draw.rectangle((x0, y0 + h / 3, x1, y1 - h / 3), fill=colour)
    elif name == "star":
        draw.polygon(_star(x0, y0, x1, y1), fill=colour)
    elif name == "ring":
        draw.ellipse((x0, y0, x1, y1), outline=colour, width=max(2, int(min(w, h) / 5)))
    else:
        raise ValueError(f"unknown shape {name!r}")


def synthetic_image(spec: SyntheticSpec, index: int):
    """Image `index` of the dataset `spec`: (PIL image, [(xyxy pixel box, class index), ...]).

    Each image has its own random stream seeded by (seed, index), so any image
    can be made alone and the result does not depend on the order or the workers.
    """
    rng = np.random.default_rng([spec.seed, index])
    width, height = (int(v) for v in rng.integers(spec.min_side, spec.max_side + 1, size=2))
    img = _background(rng, width, height)
    draw = ImageDraw.Draw(img)
    boxes = _place_boxes(rng, width, height, spec)
    # Largest first, so a small object in front of a big one stays visible.
    boxes.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
    objects = []
    for box in boxes:
        label = int(rng.integers(len(CLASSES)))
        _draw_shape(draw, CLASSES[label], box, _colour(rng, label, spec))
        objects.append((box, label))
    return img, objects


def _coco_json(records, first_id):
    """PASCAL_2007-style JSON for [(file_name, width, height, objects), ...]."""
    images, annotations = [], []
    for image_id, (file_name, width, height, objects) in enumerate(records, start=first_id):
        images.append({"file_name": file_name, "height": height, "width": width, "id": image_id})
        for (x0, y0, x1, y1), label in objects:
            annotations.append({
                "area": (x1 - x0) * (y1 - y0), "iscrowd": 0, "image_id": image_id,
                "bbox": [x0, y0, x1 - x0, y1 - y0],          # [x, y, w, h] pixels, as COCO/PASCAL
                "category_id": label + 1, "id": len(annotations) + 1, "ignore": 0,
                "segmentation": []})
    categories = [{"supercategory": "shape", "id": i + 1, "name": n} for i, n in enumerate(CLASSES)]
    return {"images": images, "type": "instances", "annotations": annotations, "categories": categories}


def _make_one(args):
    spec, index, out_dir = args
    img, objects = synthetic_image(spec, index)
    file_name = f"{index + 1:06d}.jpg"
    img.save(out_dir / file_name, quality=spec.jpeg_quality)
    return file_name, img.width, img.height, objects


def make_synthetic(path, spec: SyntheticSpec = SyntheticSpec(), workers: int = 2, force: bool = False,
                   verbose: bool = True) -> Path:
    """Write the synthetic dataset `spec` to `path` (skipped when it is already there).

    Returns the dataset root, laid out like fastai's PASCAL_2007 (see the module
    docstring). Same spec -> byte-identical JSON files.
    """
    root = Path(path)
    manifest = {"generator": "ssd_course.data.make_synthetic", **asdict(spec)}
    if not force and _read_manifest(root) == manifest and (root / "valid.json").is_file():
        if verbose:
            print(f"synthetic dataset already in {root} ({spec.n_train} train + {spec.n_valid} valid images)")
        return root
    if verbose:
        print(f"writing the synthetic dataset to {root}: {spec.n_train} train + {spec.n_valid} valid "
              f"images, {len(CLASSES)} classes, seed {spec.seed} ...", flush=True)
    (root / "train").mkdir(parents=True, exist_ok=True)
    jobs = [(spec, i, root / "train") for i in range(spec.n_train + spec.n_valid)]
    if workers > 1:
        from multiprocessing import get_context
        with get_context("fork").Pool(workers) as pool:
            records = pool.map(_make_one, jobs, chunksize=64)
    else:
        records = [_make_one(job) for job in jobs]
    _write_json(root / "train.json", _coco_json(records[:spec.n_train], first_id=1))
    _write_json(root / "valid.json", _coco_json(records[spec.n_train:], first_id=spec.n_train + 1))
    _write_json(root / MANIFEST, manifest)
    return root


def _write_json(path, obj):
    path.write_text(json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n")


def _read_manifest(root):
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


# --- PASCAL VOC 2007 ---------------------------------------------------------------------------

class DatasetUnavailable(RuntimeError):
    """A dataset cannot be had on this machine (e.g. no network); the message says what to do."""


def _reachable(host, port=443, timeout=4.0):
    """Can we open a TCP connection to host within `timeout` s (DNS included)?"""
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(None)
        except OSError as e:
            result.append(e)

    t = threading.Thread(target=probe, daemon=True)   # getaddrinfo has no timeout of its own
    t.start()
    t.join(timeout + 1)
    if not result:
        return f"no answer from {host} within {timeout:.0f} s"
    return None if result[0] is None else f"{type(result[0]).__name__}: {result[0]}"


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
        problem = _reachable(urlparse(url).hostname, timeout=timeout)
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


# --- command line: ssd-course data make|show ---------------------------------------------------

def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    make = sub.add_parser("make", help="write the synthetic dataset to PATH")
    make.add_argument("path", type=Path)
    make.add_argument("--train", type=int, default=SyntheticSpec.n_train, help="training images")
    make.add_argument("--valid", type=int, default=SyntheticSpec.n_valid, help="validation images")
    make.add_argument("--seed", type=int, default=SyntheticSpec.seed)
    make.add_argument("--workers", type=int, default=2)
    make.add_argument("--force", action="store_true", help="regenerate even if PATH is up to date")
    show = sub.add_parser("show", help="draw a batch of the dataset at PATH (or 'pascal') to OUT.png")
    show.add_argument("path")
    show.add_argument("out", type=Path)
    show.add_argument("--size", type=int, default=224)
    show.add_argument("--n", type=int, default=12, help="images in the picture")
    show.add_argument("--augment", action="store_true", help="show the blog's augmentations too")


def run(args) -> int:
    import time
    if args.data_command == "make":
        spec = SyntheticSpec(n_train=args.train, n_valid=args.valid, seed=args.seed)
        start = time.perf_counter()
        root = make_synthetic(args.path, spec, workers=args.workers, force=args.force)
        print(f"dataset ready in {root} ({time.perf_counter() - start:.1f} s)")
        return 0
    try:
        root = dataset_path(args.path)
    except (DatasetUnavailable, FileNotFoundError) as e:
        print(f"error: {e}")
        return 1
    from ssd_course import viz
    dls = get_dataloaders(root, size=args.size, bs=args.n, num_workers=0, device="cpu",
                          batch_tfms=None if args.augment else [])
    viz.save_batch(dls, args.out, n=args.n)
    print(f"drew {args.n} images of {root} with their boxes to {args.out}")
    return 0
