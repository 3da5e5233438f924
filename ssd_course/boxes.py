"""Box formats and scales: the one place the course converts boxes.

Formats (the last dimension, 4 numbers):

    xyxy     (x_min, y_min, x_max, y_max): the corners; the exercises', torchvision's and the metrics'
    cxcywh   (centre x, centre y, width, height): the anchors' (the blog's `hw2corners` goes to xyxy)

Scales (x runs along the columns, the image's width; y along the rows, its height):

    pixels   of an image ``height x width``: the datasets' annotations, the pictures
    unit     [0, 1] of the image: the anchors, the predicted boxes, the metrics
    signed   [-1, 1] of the image: fastai's `TensorBBox` once a batch is scaled, the loaders' targets

Every function takes a torch.Tensor (any dtype, any device) or an array-like
(numpy, nested lists: computed in float64) of shape [..., 4] and returns the
same kind and shape, so the pipeline (torch) and the pictures (numpy) share it.
"""
import numpy as np


def _box_parts(boxes):
    """(boxes as a tensor or float64 array, a function joining [..., 2] halves the same way)."""
    if hasattr(boxes, "detach"):                        # a torch.Tensor: stay on its device, in its dtype
        import torch
        return boxes, lambda a, b: torch.cat([a, b], dim=-1)
    array = np.asarray(boxes, dtype=np.float64)
    return array, lambda a, b: np.concatenate([a, b], axis=-1)


def cxcywh_to_xyxy(boxes):
    """``cxcywh`` -> ``xyxy``, same scale. [..., 4] -> [..., 4]."""
    b, cat = _box_parts(boxes)
    ctr, size = b[..., :2], b[..., 2:]
    return cat(ctr - size / 2, ctr + size / 2)


def xyxy_to_cxcywh(boxes):
    """``xyxy`` -> ``cxcywh``, same scale. [..., 4] -> [..., 4]."""
    b, cat = _box_parts(boxes)
    lo, hi = b[..., :2], b[..., 2:]
    return cat((lo + hi) / 2, hi - lo)


def signed_to_unit(boxes):
    """[-1, 1] (fastai's scale) -> [0, 1] of the image, either format."""
    b, _ = _box_parts(boxes)
    return (b + 1) / 2


def unit_to_signed(boxes):
    """[0, 1] of the image -> [-1, 1], either format."""
    b, _ = _box_parts(boxes)
    return b * 2 - 1


def _image_scale(b, height: int, width: int):
    scale = (width, height, width, height)
    if hasattr(b, "detach"):
        import torch
        return torch.tensor(scale, dtype=b.dtype if b.is_floating_point() else torch.float32, device=b.device)
    return np.array(scale, dtype=np.float64)


def unit_to_pixels(boxes, height: int, width: int):
    """``xyxy`` in [0, 1] -> ``xyxy`` in pixels of an image ``height x width``."""
    b, _ = _box_parts(boxes)
    return b * _image_scale(b, height, width)


def pixels_to_unit(boxes, height: int, width: int):
    """``xyxy`` in pixels of an image ``height x width`` -> ``xyxy`` in [0, 1]."""
    b, _ = _box_parts(boxes)
    return b / _image_scale(b, height, width)


def signed_to_pixels(boxes, height: int, width: int):
    """``xyxy`` in [-1, 1] (fastai's scale) -> ``xyxy`` in pixels of an image ``height x width``."""
    return unit_to_pixels(signed_to_unit(boxes), height, width)


def pixels_to_signed(boxes, height: int, width: int):
    """``xyxy`` in pixels of an image ``height x width`` -> ``xyxy`` in [-1, 1] (fastai's scale)."""
    return unit_to_signed(pixels_to_unit(boxes, height, width))
