"""The synthetic shapes dataset: PASCAL VOC's layout, made on any machine in seconds.

PASCAL VOC 2007 cannot be downloaded everywhere (no network on course machines,
an hour on a slow one), so the lessons, the demo and the tests train on
coloured shapes on textured backgrounds, written in fastai's `PASCAL_2007`
layout (`ssd_course.data` reads both the same way):

    ROOT/train/*.jpg      the images (of train.json and valid.json alike)
    ROOT/train.json       COCO-like: images, annotations (bbox = [x, y, w, h] pixels), categories
    ROOT/valid.json
    ROOT/dataset.json     the spec that wrote the folder: same spec, nothing rewritten

The same `SyntheticSpec` gives byte-identical JSON files on every machine.
"""
import colorsys
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

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
    overfit less (docs/experiments.md, "Many small images"). Lesson 08 asks
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
    manifest = {"generator": "ssd_course.synthetic.make_synthetic", **asdict(spec)}
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
