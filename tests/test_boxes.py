"""ssd_course.boxes: every box format and scale conversion, for tensors and arrays alike."""
import numpy as np
import pytest
import torch

from ssd_course import boxes


def test_signed_boxes_map_to_the_image_frame_in_pixels():
    signed = torch.tensor([[-1.0, -1.0, 1.0, 1.0], [0.0, -0.5, 0.5, 0.0]])
    px = boxes.signed_to_pixels(signed, height=100, width=200)   # x along the width
    torch.testing.assert_close(px, torch.tensor([[0.0, 0, 200, 100], [100, 25, 150, 50]]))
    torch.testing.assert_close(boxes.pixels_to_signed(px, 100, 200), signed)


def test_cxcywh_and_xyxy_are_inverses_in_any_scale():
    cxcywh = torch.tensor([[0.5, 0.25, 0.2, 0.1]])
    xyxy = boxes.cxcywh_to_xyxy(cxcywh)
    torch.testing.assert_close(xyxy, torch.tensor([[0.4, 0.2, 0.6, 0.3]]))
    torch.testing.assert_close(boxes.xyxy_to_cxcywh(xyxy), cxcywh)


def test_unit_and_signed_scales_round_trip():
    unit = torch.tensor([[0.0, 0.25, 1.0, 0.5]])
    torch.testing.assert_close(boxes.unit_to_signed(unit), torch.tensor([[-1.0, -0.5, 1.0, 0.0]]))
    torch.testing.assert_close(boxes.signed_to_unit(boxes.unit_to_signed(unit)), unit)
    torch.testing.assert_close(boxes.unit_to_pixels(unit, 10, 20), torch.tensor([[0.0, 2.5, 20, 5]]))
    torch.testing.assert_close(boxes.pixels_to_unit(torch.tensor([[0.0, 2.5, 20, 5]]), 10, 20), unit)


def test_arrays_and_lists_stay_numpy_in_float64_and_keep_leading_dimensions():
    out = boxes.cxcywh_to_xyxy([[[0.5, 0.5, 1.0, 1.0]], [[0.25, 0.75, 0.5, 0.5]]])   # [2, 1, 4]
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (2, 1, 4)
    np.testing.assert_allclose(out[1, 0], [0.0, 0.5, 0.5, 1.0])
    px = boxes.unit_to_pixels(np.array([[0.5, 0.5, 1.0, 1.0]]), 224, 112)
    np.testing.assert_allclose(px, [[56, 112, 112, 224]])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_tensors_keep_their_dtype(dtype):
    b = torch.tensor([[-1.0, 0.0, 0.5, 1.0]], dtype=dtype)
    assert boxes.signed_to_pixels(b, 64, 64).dtype == dtype
    assert boxes.cxcywh_to_xyxy(b).dtype == dtype
