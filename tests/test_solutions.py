"""The reference solutions satisfy every line of docs/exercises.md, and the stubs say what to do.

One section per exercise, in the order of docs/exercises.md: hand-computed cases,
agreement with `torchvision.ops` where it has the function, and the edge cases
the contract names. (That the stubs match the solutions is `test_cli`'s
`test_stubs_match_the_solutions`.)
"""
import importlib
import inspect
import time

import pytest
import torch
import torch.nn.functional as F
import torchvision

from solutions.anchors import make_anchors
from solutions.flatten_conv import flatten_conv
from solutions.focal_loss import focal_loss
from solutions.jaccard import jaccard
from solutions.matching import map_to_ground_truth
from solutions.nms import nms
from ssd_course import registry
from ssd_course.tools.markers import not_implemented_message

FLOATS = [torch.float32, torch.float64]


def random_boxes(n, generator, low=0.0, high=1.0, dtype=torch.float32):
    """n valid xyxy boxes (x_min < x_max, y_min < y_max) inside [low, high]."""
    a = torch.rand(n, 2, generator=generator, dtype=dtype) * (high - low) + low
    b = torch.rand(n, 2, generator=generator, dtype=dtype) * (high - low) + low
    return torch.cat([torch.minimum(a, b), torch.maximum(a, b) + 1e-3], dim=1)


# --- 1. flatten_conv -------------------------------------------------------------------------

def test_flatten_conv_row_of_each_anchor_by_hand():
    B, k, F_, H, W = 2, 3, 5, 4, 3
    x = torch.randn(B, k * F_, H, W)
    out = flatten_conv(x, k)
    assert out.shape == (B, H * W * k, F_)
    for r in range(H):
        for c in range(W):
            for j in range(k):
                assert torch.equal(out[:, (r * W + c) * k + j], x[:, j * F_:(j + 1) * F_, r, c])


@pytest.mark.parametrize("dtype", FLOATS)
def test_flatten_conv_non_contiguous_input_dtype_and_gradients(dtype):
    base = torch.randn(2, 4, 4, 6, dtype=dtype, requires_grad=True)
    x = base.transpose(1, 3)                                  # [2, 6, 4, 4], not contiguous
    assert not x.is_contiguous()
    out = flatten_conv(x, 2)
    assert out.dtype == dtype and out.shape == (2, 32, 3)
    assert torch.equal(out, flatten_conv(x.contiguous(), 2))
    out.sum().backward()
    assert torch.equal(base.grad, torch.ones_like(base))


# --- 2. make_anchors -------------------------------------------------------------------------

MULTI = dict(grids=(4, 2, 1), zooms=(0.7, 1.0, 1.3), ratios=((1., 1.), (1., .5), (.5, 1.)))


def anchors_by_loops(grids, zooms, ratios):
    rows, sizes = [], []
    for g in grids:
        for r in range(g):
            for c in range(g):
                for z in zooms:
                    for rw, rh in ratios:
                        rows.append([(c + .5) / g, (r + .5) / g, z * rw / g, z * rh / g])
                        sizes.append([1 / g])
    return torch.tensor(rows, dtype=torch.float32), torch.tensor(sizes, dtype=torch.float32)


@pytest.mark.parametrize("kwargs, n", [({}, 16), (MULTI, 189), (dict(grids=[3], zooms=[1.0], ratios=[[1., 2.]]), 9)])
def test_make_anchors_order_values_and_count(kwargs, n):
    anchors, grid_sizes = make_anchors(**kwargs)
    assert anchors.shape == (n, 4) and grid_sizes.shape == (n, 1)
    assert anchors.dtype == grid_sizes.dtype == torch.float32
    assert anchors.device.type == grid_sizes.device.type == "cpu"
    expected_anchors, expected_sizes = anchors_by_loops(**{**dict(grids=(4,), zooms=(1.0,), ratios=((1., 1.),)), **kwargs})
    torch.testing.assert_close(anchors, expected_anchors)
    torch.testing.assert_close(grid_sizes, expected_sizes)


def test_anchor_i_is_the_cell_that_made_prediction_i():
    # A feature map whose channels hold each cell's centre: flattened, it must list the anchors' centres.
    anchors, _ = make_anchors(**MULTI)
    k, rows = 9, []
    for g in MULTI["grids"]:
        centre = (torch.arange(g, dtype=torch.float32) + .5) / g
        cy, cx = torch.meshgrid(centre, centre, indexing="ij")
        fmap = torch.stack([cx, cy]).repeat(k, 1, 1)[None]        # [1, k*2, g, g]
        rows.append(flatten_conv(fmap, k)[0])                     # [g*g*k, 2]
    torch.testing.assert_close(torch.cat(rows), anchors[:, :2])


# --- 3. jaccard ------------------------------------------------------------------------------

def test_jaccard_hand_computed():
    a = torch.tensor([[0., 0., 2., 2.], [0., 0., 1., 1.]])
    b = torch.tensor([[0., 0., 2., 2.],      # identical to a[0]
                      [1., 1., 3., 3.],      # overlaps a[0] by 1 of 7; touches a[1] at a corner
                      [2., 0., 3., 2.],      # touches a[0] along an edge
                      [5., 5., 6., 6.]])     # disjoint
    expected = torch.tensor([[1., 1 / 7, 0., 0.],
                             [1 / 4, 0., 0., 0.]])
    torch.testing.assert_close(jaccard(a, b), expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_jaccard_agrees_with_torchvision(dtype):
    gen = torch.Generator().manual_seed(3)
    a, b = random_boxes(37, gen, dtype=dtype), random_boxes(23, gen, dtype=dtype)
    out = jaccard(a, b)
    assert out.dtype == dtype and out.shape == (37, 23)
    torch.testing.assert_close(out, torchvision.ops.box_iou(a, b))


# torchvision's own box_iou test data (test/test_ops.py, TestBoxIou), written once in the cases
from autograder.cases.jaccard import (TV_FLOAT_BOXES, TV_FLOAT_EXPECTED, TV_INT_BOXES,  # noqa: E402
                                      TV_INT_BOXES2, TV_INT_EXPECTED)


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.int64])
def test_jaccard_of_torchvisions_integer_boxes_is_float32(dtype):
    out = jaccard(torch.tensor(TV_INT_BOXES, dtype=dtype), torch.tensor(TV_INT_BOXES2, dtype=dtype))
    assert out.dtype == torch.float32                       # computed in float32, as box_iou
    torch.testing.assert_close(out, torch.tensor(TV_INT_EXPECTED), atol=1e-4, rtol=0)


@pytest.mark.parametrize("dtype, atol", [(torch.float16, 2e-3), (torch.bfloat16, 3e-2),
                                         (torch.float32, 1e-3), (torch.float64, 1e-3)])
def test_jaccard_of_torchvisions_pixel_boxes_never_overflows(dtype, atol):
    boxes = torch.tensor(TV_FLOAT_BOXES, dtype=dtype)      # ~900 x 650: areas above float16's 65504
    out = jaccard(boxes, boxes)
    assert out.dtype == (dtype if dtype in (torch.float32, torch.float64) else torch.float32)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out.double(), torch.tensor(TV_FLOAT_EXPECTED, dtype=torch.float64),
                               atol=atol, rtol=0)
    torch.testing.assert_close(out.float(), torchvision.ops.box_iou(boxes, boxes).float(), atol=atol, rtol=0)


def test_jaccard_empty_boxes_and_empty_inputs():
    point = torch.tensor([[1., 1., 1., 1.]])
    assert jaccard(point, point).item() == 0.0                   # union 0: IoU 0, not NaN
    assert jaccard(torch.zeros(0, 4), torch.rand(5, 4)).shape == (0, 5)
    assert jaccard(torch.rand(5, 4), torch.zeros(0, 4)).shape == (5, 0)


def test_jaccard_leaves_inputs_alone_and_is_vectorised():
    gen = torch.Generator().manual_seed(0)
    a, b = random_boxes(2000, gen), random_boxes(2000, gen)
    a0, b0 = a.clone(), b.clone()
    start = time.perf_counter()
    jaccard(a, b)
    assert time.perf_counter() - start < 1.0
    assert torch.equal(a, a0) and torch.equal(b, b0)


# --- 4. map_to_ground_truth ------------------------------------------------------------------

def blogs_loop(overlaps):
    prior_overlap, prior_idx = overlaps.max(1)
    gt_overlap, gt_idx = overlaps.max(0)
    gt_overlap, gt_idx = gt_overlap.clone(), gt_idx.clone()
    gt_overlap[prior_idx] = 1.99
    for i, o in enumerate(prior_idx):
        gt_idx[o] = i
    return gt_overlap, gt_idx


def test_matching_hand_case_with_forced_match_and_ties():
    overlaps = torch.tensor([[0.1, 0.6, 0.6, 0.0],     # object 0: best anchor 1 (first of the tie)
                             [0.3, 0.2, 0.1, 0.0]])    # object 1: best anchor 0
    before = overlaps.clone()
    gt_overlap, gt_idx = map_to_ground_truth(overlaps)
    torch.testing.assert_close(gt_overlap, torch.tensor([1.99, 1.99, 0.6, 0.0]))
    assert gt_idx.dtype == torch.int64
    assert gt_idx.tolist() == [1, 0, 0, 0]              # anchor 3: all zero, first index wins
    assert torch.equal(overlaps, before)


def test_matching_shared_best_anchor_goes_to_the_later_object():
    overlaps = torch.tensor([[0.5, 0.2], [0.7, 0.1]])   # both objects' best anchor is 0
    gt_overlap, gt_idx = map_to_ground_truth(overlaps)
    assert gt_idx.tolist() == [1, 0] and gt_overlap[0].item() == pytest.approx(1.99)


def test_matching_agrees_with_the_blogs_loop():
    gen = torch.Generator().manual_seed(1)
    for G in (1, 2, 5, 12):
        overlaps = (torch.rand(G, 189, generator=gen) * 4).round() / 4   # many ties
        for got, want in zip(map_to_ground_truth(overlaps), blogs_loop(overlaps)):
            torch.testing.assert_close(got, want)


# --- 5. focal_loss ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("alpha, gamma", [(0.25, 2.0), (0.5, 1.0), (0.75, 0.0)])
def test_focal_loss_agrees_with_torchvision(dtype, alpha, gamma):
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(50, 7, generator=gen, dtype=dtype) * 3
    targets = torch.randint(0, 7, (50,), generator=gen)
    got = focal_loss(logits, targets, alpha, gamma)
    t = F.one_hot(targets, 7)[:, 1:].to(dtype)
    want = torchvision.ops.sigmoid_focal_loss(logits[:, 1:], t, alpha, gamma, reduction="sum") / 7
    assert got.shape == () and got.dtype == dtype
    torch.testing.assert_close(got, want)


def test_focal_loss_without_focus_is_half_the_bce():
    logits, targets = torch.randn(30, 5), torch.randint(0, 5, (30,))
    bce = F.binary_cross_entropy_with_logits(logits[:, 1:], F.one_hot(targets, 5)[:, 1:].float(),
                                             reduction="sum") / 5
    torch.testing.assert_close(focal_loss(logits, targets, alpha=0.5, gamma=0.0), bce / 2)


def test_focal_loss_is_finite_and_exact_for_confident_logits():
    # sigmoid(-120) rounds to 0 in float32: a naive -log(sigmoid(z)) gives inf and NaN gradients.
    logits = torch.tensor([[0., 120., -120., 30., -30., 1e-4, 5.],
                           [0., -120., 120., -30., 30., -1e-4, -5.]], requires_grad=True)
    targets = torch.tensor([2, 1])                          # confidently wrong on classes 1 and 2
    loss = focal_loss(logits, targets)
    loss.backward()
    exact = logits.detach().double().requires_grad_()        # the contract in float64, weight detached
    x, t = exact[:, 1:], F.one_hot(targets, 7)[:, 1:].double()
    p = x.sigmoid()
    w = (0.25 * t + 0.75 * (1 - t)) * (1 - (p * t + (1 - p) * (1 - t))) ** 2
    want = F.binary_cross_entropy_with_logits(x, t, w.detach(), reduction="sum") / 7
    want.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(want.item(), rel=1e-6)   # ~41: a confidently wrong term costs ~its logit
    torch.testing.assert_close(logits.grad.double(), exact.grad, rtol=1e-5, atol=1e-7)


def test_focal_loss_gradients_skip_the_background_column():
    logits = torch.randn(20, 4, requires_grad=True)
    focal_loss(logits, torch.randint(0, 4, (20,))).backward()
    assert torch.all(logits.grad[:, 0] == 0) and logits.grad[:, 1:].abs().sum() > 0


# --- 6. nms ----------------------------------------------------------------------------------

def test_nms_hand_case_keeps_the_best_and_drops_overlaps():
    boxes = torch.tensor([[0., 0., 1., 1.],      # best
                          [0., 0., 1., 0.5],     # IoU exactly 0.5 with box 0
                          [0., 0., 0.9, 1.],     # IoU 0.9 with box 0
                          [2., 2., 3., 3.]])     # far away
    scores = torch.tensor([0.9, 0.8, 0.7, 0.1])
    keep = nms(boxes, scores, overlap=0.5)
    assert keep.dtype == torch.int64
    assert keep.tolist() == [0, 1, 3]                       # IoU equal to `overlap` survives
    assert nms(boxes, scores, overlap=0.49).tolist() == [0, 3]


def test_nms_only_top_k_are_candidates():
    boxes = torch.tensor([[0., 0., 1., 1.], [2., 2., 3., 3.], [4., 4., 5., 5.]])
    scores = torch.tensor([0.2, 0.9, 0.5])
    assert nms(boxes, scores, top_k=2).tolist() == [1, 2]


def test_nms_of_nothing_is_an_empty_int64_tensor():
    keep = nms(torch.zeros(0, 4), torch.zeros(0))
    assert keep.shape == (0,) and keep.dtype == torch.int64


@pytest.mark.parametrize("dtype", FLOATS)
def test_nms_agrees_with_torchvision(dtype):
    gen = torch.Generator().manual_seed(4)
    for overlap in (0.3, 0.5, 0.7):
        xy = torch.rand(300, 2, generator=gen, dtype=dtype)
        boxes = torch.cat([xy, xy + 0.05 + 0.2 * torch.rand(300, 2, generator=gen, dtype=dtype)], dim=1)
        scores = torch.randperm(300, generator=gen).to(dtype) / 300      # distinct
        assert torch.equal(nms(boxes, scores, overlap, top_k=300),
                           torchvision.ops.nms(boxes, scores, overlap))


def test_nms_of_torchvisions_float16_pixel_boxes_keeps_what_float32_keeps():
    boxes, scores = torch.tensor(TV_FLOAT_BOXES), torch.tensor([0.6370, 0.7569, 0.3966])
    keep32 = torchvision.ops.nms(boxes, scores, 0.2)
    for dtype in (torch.float16, torch.bfloat16):
        assert torch.equal(nms(boxes.to(dtype), scores.to(dtype), 0.2), keep32)


@pytest.mark.parametrize("iou", [0.2, 0.5, 0.8])
def test_nms_suppresses_torchvisions_box_just_above_the_threshold(iou):
    from autograder.cases.nms import boxes_with_iou

    boxes, scores = (torch.tensor(a, dtype=torch.float32) for a in boxes_with_iou(int(iou * 10), 100, iou))
    keep = nms(boxes, scores, iou)
    assert torch.equal(keep, torchvision.ops.nms(boxes, scores, iou))
    assert 0 in keep.tolist() and 99 not in keep.tolist()


def test_nms_accepts_integer_boxes_as_float32_ones():
    gen = torch.Generator().manual_seed(5)
    boxes = (random_boxes(40, gen) * 50).round().to(torch.int64)
    scores = torch.randperm(40, generator=gen).float() / 40
    assert torch.equal(nms(boxes, scores), nms(boxes.float(), scores))


# --- the stubs --------------------------------------------------------------------------------

STUB_CALLS = {
    "flatten_conv": lambda f: f(torch.zeros(1, 4, 2, 2), 1),
    "make_anchors": lambda f: f(),
    "jaccard": lambda f: f(torch.zeros(1, 4), torch.zeros(1, 4)),
    "map_to_ground_truth": lambda f: f(torch.zeros(1, 3)),
    "focal_loss": lambda f: f(torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64)),
    "nms": lambda f: f(torch.zeros(1, 4), torch.zeros(1)),
}


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda e: e.module)
def test_each_stub_raises_not_implemented_naming_its_exercise(ex):
    fn = getattr(importlib.import_module(f"ssd_course.exercises.{ex.module}"), ex.function)
    with pytest.raises(NotImplementedError) as info:
        STUB_CALLS[ex.function](fn)
    message = str(info.value)
    assert message == not_implemented_message(ex)
    assert f"Exercise {ex.number}" in message and ex.function in message and ex.path in message


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda e: e.module)
def test_the_registry_names_each_functions_parameters_as_written(ex):
    # feedback names a changed argument by these (autograder.verdict): they must not drift
    for package in ("ssd_course.exercises", "solutions"):
        fn = getattr(importlib.import_module(f"{package}.{ex.module}"), ex.function)
        assert tuple(inspect.signature(fn).parameters) == ex.params, (package, ex.module)
