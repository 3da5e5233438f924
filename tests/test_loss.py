"""The SSD loss: actn_to_bb, the blog's per-image loop, and the batched loss that must equal it."""
import pytest
import torch

from ssd_course import impl, loss
from ssd_course.tools.bench import random_targets


pytestmark = pytest.mark.usefixtures("solutions_in_use")


def test_actn_to_bb_zero_activation_is_the_anchor():
    anchors = torch.tensor([[0.5, 0.5, 0.2, 0.4]])
    grid_sizes = torch.tensor([[0.25]])
    out = loss.actn_to_bb(torch.zeros(1, 4), anchors, grid_sizes)
    torch.testing.assert_close(out, torch.tensor([[0.4, 0.3, 0.6, 0.7]]))


def test_actn_to_bb_moves_half_a_cell_and_scales_half_to_one_and_a_half(anchors):
    anchors, grid_sizes = anchors
    big = torch.full((2, len(anchors), 4), 50.0)                   # tanh -> 1
    big[1] = -50.0                                                  # tanh -> -1
    out = loss.actn_to_bb(big, anchors, grid_sizes)                 # [2, A, 4] xyxy
    ctr, size = (out[..., :2] + out[..., 2:]) / 2, out[..., 2:] - out[..., :2]
    torch.testing.assert_close(ctr[0], anchors[:, :2] + grid_sizes / 2)
    torch.testing.assert_close(ctr[1], anchors[:, :2] - grid_sizes / 2)
    torch.testing.assert_close(size[0], anchors[:, 2:] * 1.5)
    torch.testing.assert_close(size[1], anchors[:, 2:] * 0.5)


def predictions(B, A, C, gen, dtype=torch.float32):
    return [(torch.randn(B, A, C, generator=gen, dtype=dtype) * 2).requires_grad_(),
            torch.randn(B, A, 4, generator=gen, dtype=dtype).requires_grad_()]


def both_losses(pred, bbox, clas, anchors, **kwargs):
    """(value, grads) of the loop and the batched SSDLoss on the same inputs."""
    out = []
    for batched in (False, True):
        for p in pred:
            p.grad = None
        value = loss.SSDLoss(*anchors, batched=batched, **kwargs)(pred, bbox, clas)
        value.backward()
        out.append((value.detach(), [p.grad.clone() for p in pred]))
    return out


@pytest.mark.parametrize("student_matching", [False, True], ids=["solutions_batched_matcher", "student_matcher_per_image"])
@pytest.mark.parametrize("seed", range(5))
def test_batched_loss_equals_the_loop_on_random_padded_batches(seed, anchors, student_matching, monkeypatch):
    if student_matching:                      # what a student copy runs: no solutions/batched.py
        monkeypatch.setattr(impl, "solutions_extra", lambda name: None)
    gen = torch.Generator().manual_seed(seed)
    B, C = 16, 7
    bbox, clas = random_targets(B, 6, C, gen, empty=[3, 9])          # padding, and two empty images
    pred = predictions(B, len(anchors[0]), C, gen)
    (v_loop, g_loop), (v_batch, g_batch) = both_losses(pred, bbox, clas, anchors, loc_weight=3.0)
    assert torch.isfinite(v_loop)
    torch.testing.assert_close(v_batch, v_loop, rtol=1e-5, atol=0)
    for a, b in zip(g_batch, g_loop):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_batched_loss_equals_the_loop_for_single_objects_and_degenerate_boxes(anchors):
    gen = torch.Generator().manual_seed(11)
    B, C = 6, 5
    bbox, clas = random_targets(B, 1, C, gen)                       # one object per image
    bbox, clas = torch.cat([bbox, torch.zeros(B, 2, 4)], 1), torch.cat([clas, torch.zeros(B, 2, dtype=torch.long)], 1)
    bbox[0, 1] = torch.tensor([1.0, -0.2, 1.0, 0.4])                # squashed to nothing on the border,
    clas[0, 1] = 2                                                   # label kept: not a real object
    pred = predictions(B, len(anchors[0]), C, gen)
    (v_loop, _), (v_batch, _) = both_losses(pred, bbox, clas, anchors)
    torch.testing.assert_close(v_batch, v_loop, rtol=1e-5, atol=0)


def test_a_batch_whose_objects_were_all_cropped_away_has_no_nan(anchors):
    gen = torch.Generator().manual_seed(5)
    B, C = 4, 7
    bbox, clas = torch.zeros(B, 3, 4), torch.zeros(B, 3, dtype=torch.long)
    pred = predictions(B, len(anchors[0]), C, gen)
    (v_loop, g_loop), (v_batch, g_batch) = both_losses(pred, bbox, clas, anchors)
    assert torch.isfinite(v_loop) and torch.isfinite(v_batch)
    torch.testing.assert_close(v_batch, v_loop, rtol=1e-5, atol=0)
    assert torch.all(g_batch[1] == 0) and torch.all(torch.isfinite(g_batch[0]))   # no box loss at all


def test_loss_takes_fastai_tensors_and_float64(anchors):
    from fastai.torch_core import TensorMultiCategory
    from fastai.vision.core import TensorBBox
    gen = torch.Generator().manual_seed(8)
    bbox, clas = random_targets(4, 3, 7, gen)
    pred = predictions(4, len(anchors[0]), 7, gen, dtype=torch.float64)
    plain = loss.SSDLoss(*anchors)(pred, bbox.double(), clas)
    typed = loss.SSDLoss(*anchors)(pred, TensorBBox(bbox.double()), TensorMultiCategory(clas))
    assert plain.dtype == torch.float64
    torch.testing.assert_close(typed, plain)


@pytest.mark.parametrize("matcher", ["solutions_batched", "each_image"])
def test_batched_matching_equals_the_exercise_image_by_image(anchors, matcher):
    gen = torch.Generator().manual_seed(2)
    bbox, clas = random_targets(8, 5, 7, gen, empty=[4])
    real = loss.real_objects(bbox, clas)
    cnr = loss.cxcywh_to_xyxy(anchors[0])
    overlaps = torch.full((8, 5, len(cnr)), loss.PAD_IOU)
    overlaps[real] = impl.jaccard((bbox[real] + 1) / 2, cnr)
    if matcher == "solutions_batched":
        from solutions.batched import map_to_ground_truth_batched
        gt_overlap, gt_idx = map_to_ground_truth_batched(overlaps, real)
    else:
        gt_overlap, gt_idx = loss.match_each_image(overlaps, real)
    for i in range(8):
        if not real[i].any():
            assert torch.all(gt_overlap[i] == loss.PAD_IOU)
            continue
        want_overlap, want_idx = impl.map_to_ground_truth(overlaps[i][real[i]])
        torch.testing.assert_close(gt_overlap[i], want_overlap)
        assert torch.equal(real[i].nonzero()[:, 0][want_idx], gt_idx[i])   # same objects


def test_per_image_divides_by_the_batch_size(anchors):
    gen = torch.Generator().manual_seed(0)
    bbox, clas = random_targets(8, 3, 7, gen)
    pred = predictions(8, len(anchors[0]), 7, gen)
    total = loss.SSDLoss(*anchors)(pred, bbox, clas)
    torch.testing.assert_close(loss.SSDLoss(*anchors, per_image=True)(pred, bbox, clas), total / 8)


def test_real_objects_is_the_rule_of_unpad():
    from ssd_course.data import unpad
    gen = torch.Generator().manual_seed(0)
    bbox, clas = random_targets(1, 6, 4, gen)
    bbox[0, 0, 2] = bbox[0, 0, 0]                                   # an empty box with a label
    kept_boxes, _ = unpad(bbox[0], clas[0])
    torch.testing.assert_close(bbox[0][loss.real_objects(bbox[0], clas[0])], kept_boxes)
