"""The synthetic dataset, the PASCAL 2007 path and the DataLoaders (issue 2)."""
import json
import socket
import time

import numpy as np
import pytest
import torch
from PIL import Image

from ssd_course import data, synthetic
from ssd_course.synthetic import CLASSES, SyntheticSpec, make_synthetic

from conftest import SMALL


def annotations(root, split):
    from fastai.vision.core import get_annotations
    return get_annotations(root / f"{split}.json")


def test_json_loads_through_fastai_get_annotations(small_dataset):
    names, targets = annotations(small_dataset, "train")
    v_names, _ = annotations(small_dataset, "valid")
    assert (len(names), len(v_names)) == (SMALL.n_train, SMALL.n_valid)
    assert not set(names) & set(v_names)
    boxes, labels = targets[0]
    assert len(boxes) == len(labels) >= 1
    assert all(len(b) == 4 for b in boxes) and all(l in CLASSES for l in labels)


def test_schema_matches_pascal_2007(small_dataset):
    raw = json.loads((small_dataset / "train.json").read_text())
    assert set(raw) == {"images", "annotations", "categories", "type"}
    assert [c["name"] for c in raw["categories"]] == list(CLASSES)
    assert [c["id"] for c in raw["categories"]] == list(range(1, len(CLASSES) + 1))
    ann = raw["annotations"][0]
    x, y, w, h = ann["bbox"]                       # [x, y, w, h] pixels, as in PASCAL_2007
    assert w > 0 and h > 0 and ann["area"] == w * h
    assert {"file_name", "height", "width", "id"} <= set(raw["images"][0])


def test_boxes_lie_inside_their_images(small_dataset):
    for split in ("train", "valid"):
        raw = json.loads((small_dataset / f"{split}.json").read_text())
        sizes = {im["id"]: (im["width"], im["height"]) for im in raw["images"]}
        for im in raw["images"][:5]:               # the JSON's sizes are the JPEGs' sizes
            assert Image.open(small_dataset / "train" / im["file_name"]).size == (im["width"], im["height"])
        for ann in raw["annotations"]:
            x, y, w, h = ann["bbox"]
            width, height = sizes[ann["image_id"]]
            assert 0 <= x and 0 <= y and x + w <= width and y + h <= height, ann


def test_dataset_has_the_variety_the_course_needs():
    spec = SyntheticSpec(n_train=300, n_valid=0, seed=3)
    objects = [obj for i in range(spec.n_train) for obj in synthetic.synthetic_image(spec, i)[1]]
    per_image = [len(synthetic.synthetic_image(spec, i)[1]) for i in range(60)]
    labels = {label for _, label in objects}
    assert labels == set(range(len(CLASSES))) and len(CLASSES) >= 6
    assert min(per_image) == 1 and max(per_image) >= 4
    sides = np.array([(b[2] - b[0], b[3] - b[1]) for b, _ in objects], dtype=float)
    aspect = sides[:, 0] / sides[:, 1]
    assert aspect.min() < 0.6 and aspect.max() > 1.7           # tall and wide boxes
    relative = [np.sqrt((b[2] - b[0]) * (b[3] - b[1]) / (img.width * img.height))
                for i in range(100) for img, objs in [synthetic.synthetic_image(spec, i)] for b, _ in objs]
    assert min(relative) < 0.25 and max(relative) > 0.7        # small to most of the image
    sizes = {synthetic.synthetic_image(spec, i)[0].size for i in range(40)}
    assert len(sizes) > 20                                     # varied image sizes
    overlapping = sum(
        any(synthetic._iou(a, b) > 0 for a, b in _pairs([box for box, _ in synthetic.synthetic_image(spec, i)[1]]))
        for i in range(100))
    assert overlapping >= 5                                    # some objects overlap


def _pairs(items):
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1:]]


def test_same_seed_gives_byte_identical_annotations(tmp_path):
    spec = SyntheticSpec(n_train=12, n_valid=4, seed=11)
    a = make_synthetic(tmp_path / "a", spec, workers=1, verbose=False)
    b = make_synthetic(tmp_path / "b", spec, workers=2, verbose=False)   # workers don't matter
    for name in ("train.json", "valid.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    c = make_synthetic(tmp_path / "c", SyntheticSpec(n_train=12, n_valid=4, seed=12), workers=1, verbose=False)
    assert (a / "train.json").read_bytes() != (c / "train.json").read_bytes()


def test_generation_is_skipped_when_up_to_date(tmp_path, capsys):
    spec = SyntheticSpec(n_train=4, n_valid=2, seed=1)
    make_synthetic(tmp_path, spec, workers=1)
    stamp = (tmp_path / "train.json").stat().st_mtime_ns
    make_synthetic(tmp_path, spec, workers=1)
    assert (tmp_path / "train.json").stat().st_mtime_ns == stamp
    assert "already" in capsys.readouterr().out


@pytest.fixture(scope="module")
def batch(small_dataset):
    dls = data.get_dataloaders(small_dataset, size=64, bs=8, num_workers=0, device="cpu")
    return dls, dls.train.one_batch()


def test_batch_shapes_scale_and_padding(batch):
    dls, batch = batch
    images, boxes, labels = (t.as_subclass(torch.Tensor) for t in batch)
    assert dls.vocab[0] == "#na#" and list(dls.vocab[1:]) == sorted(CLASSES)
    assert images.shape == (8, 3, 64, 64) and images.dtype == torch.float32
    B, G, four = boxes.shape
    assert (B, four) == (8, 4) and labels.shape == (8, G) and labels.dtype == torch.int64
    assert boxes.min() >= -1 and boxes.max() <= 1
    pad = labels == 0
    assert pad.any(), "a batch of 1-5 objects per image is padded"
    assert (boxes[pad] == 0).all()                  # padded boxes are zeros
    real = ~pad
    first_pad = pad.int().argmax(1)                 # padding comes after the objects
    for i in range(B):
        if pad[i].any():
            assert not real[i, first_pad[i]:].any()


def test_boxes_are_the_annotations_scaled_to_minus_one_one(small_dataset):
    # No augmentation: the batch's boxes are exactly the JSON's boxes squished and scaled.
    dls = data.get_dataloaders(small_dataset, size=96, bs=4, num_workers=0, device="cpu",
                               batch_tfms=[], normalize=False, shuffle=False)
    images, boxes, labels = (t.as_subclass(torch.Tensor) for t in dls.valid.one_batch())
    raw = json.loads((small_dataset / "valid.json").read_text())
    first = raw["images"][0]
    anns = [a for a in raw["annotations"] if a["image_id"] == first["id"]]
    expected = torch.tensor([[a["bbox"][0] / first["width"], a["bbox"][1] / first["height"],
                              (a["bbox"][0] + a["bbox"][2]) / first["width"],
                              (a["bbox"][1] + a["bbox"][3]) / first["height"]] for a in anns]) * 2 - 1
    got = boxes[0][labels[0] > 0]
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    names = [dls.vocab[int(l)] for l in labels[0][labels[0] > 0]]
    ids = {c["id"]: c["name"] for c in raw["categories"]}
    assert names == [ids[a["category_id"]] for a in anns]


def test_valid_split_is_valid_json_and_random_split_is_a_fraction(small_dataset):
    dls = data.get_dataloaders(small_dataset, size=32, bs=4, num_workers=0, device="cpu")
    assert (len(dls.train_ds), len(dls.valid_ds)) == (SMALL.n_train, SMALL.n_valid)
    dls = data.get_dataloaders(small_dataset, size=32, bs=4, split="random", valid_pct=0.25,
                               num_workers=0, device="cpu")
    assert (len(dls.train_ds), len(dls.valid_ds)) == (36, 12)
    with pytest.raises(ValueError, match="split must be"):
        data.get_dataloaders(small_dataset, split="test")


def test_unpad_keeps_the_real_objects():
    boxes = torch.tensor([[-0.5, -0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0]])
    labels = torch.tensor([3, 1, 0])
    b, l = data.unpad(boxes, labels)
    assert l.tolist() == [3, 1] and torch.equal(b, boxes[:2])


@pytest.mark.parametrize("failure", ["dns", "blackhole"])
def test_offline_pascal_fails_fast_and_names_the_synthetic_set(monkeypatch, tmp_path, failure):
    if failure == "dns":
        def no_dns(*a, **k):
            raise socket.gaierror(-2, "Name or service not known")
        monkeypatch.setattr(socket, "create_connection", no_dns)
    else:  # a network that swallows packets: the connection attempt never answers
        def black_hole(*a, **k):
            time.sleep(60)                       # far beyond the probe's wait; the thread is a daemon
            raise socket.timeout("timed out")    # as a real one would, not a None for later tests to trip on
        monkeypatch.setattr(socket, "create_connection", black_hole)
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.pascal_2007(timeout=1.0, data_dir=tmp_path)  # nothing cached there
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"took {elapsed:.1f} s"
    message = str(err.value)
    assert "synthetic" in message and "ssd-course data make" in message
