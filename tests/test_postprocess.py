"""Post-processing: activations -> threshold -> per-class NMS -> detections."""
import pytest
import torch

from ssd_course.postprocess import detect

BIG = 20.0   # a logit that is surely on (sigmoid ~ 1) or, negated, surely off


pytestmark = pytest.mark.usefixtures("solutions_in_use")


def test_shapes_ranges_and_order_on_random_activations(anchors):
    gen = torch.Generator().manual_seed(0)
    B, A, C = 3, len(anchors[0]), 5
    clas = torch.randn(B, A, C, generator=gen) * 3
    boxes = torch.randn(B, A, 4, generator=gen) * 3
    out = detect(clas, boxes, *anchors, score_thresh=0.3, top_k=20)
    assert len(out) == B
    for d in out:
        K = len(d["scores"])
        assert d["boxes"].shape == (K, 4) and d["labels"].shape == (K,) and d["labels"].dtype == torch.int64
        assert 0 < K <= 100
        assert d["boxes"].min() >= 0 and d["boxes"].max() <= 1
        assert torch.all(d["boxes"][:, 2:] >= d["boxes"][:, :2])
        assert torch.all(d["scores"] > 0.3) and torch.all(d["scores"][:-1] >= d["scores"][1:])
        assert d["labels"].min() >= 1 and d["labels"].max() <= C - 1
        assert torch.bincount(d["labels"]).max() <= 20          # top_k per class


def test_nothing_above_the_threshold_gives_empty_detections(anchors):
    A = len(anchors[0])
    out = detect(torch.full((2, A, 4), -BIG), torch.zeros(2, A, 4), *anchors)
    assert [len(d["scores"]) for d in out] == [0, 0]
    assert out[0]["boxes"].shape == (0, 4)


def test_nms_runs_per_class(anchors):
    # Anchor 0 says class 1 and class 2, anchor 1 (same cell, other shape) says class 1 too.
    A = len(anchors[0])
    clas = torch.full((1, A, 4), -BIG)
    clas[0, 0, 1] = clas[0, 0, 2] = BIG
    clas[0, 1, 1] = BIG / 2
    out = detect(clas, torch.zeros(1, A, 4), *anchors, overlap=0.4)[0]
    # Same place, two classes: both kept. Anchor 1 overlaps anchor 0 by 0.5 > 0.4: suppressed.
    assert sorted(out["labels"].tolist()) == [1, 2]
    want = torch.cat([anchors[0][0, :2] - anchors[0][0, 2:] / 2, anchors[0][0, :2] + anchors[0][0, 2:] / 2])
    torch.testing.assert_close(out["boxes"], want.expand(2, 4))
