"""Exercise 3 (lesson 04): intersection over union of every pair of boxes."""
import torch


def _check_boxes(boxes: torch.Tensor, name: str) -> None:
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[-1] != 4:
        shape = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"expected {name} as a Tensor[N, 4] of xyxy boxes, got {shape}")


def jaccard(box_a: torch.Tensor, box_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union (Jaccard index) of every box in `box_a` with every box in `box_b`.

    Args:
        box_a (Tensor[N, 4]): boxes in ``xyxy`` format (x_min, y_min, x_max, y_max).
        box_b (Tensor[M, 4]): boxes in ``xyxy`` format, in the same units as ``box_a``.

    Returns:
        Tensor[N, M]: entry ``[i, j]`` is IoU(box_a[i], box_b[j]), in [0, 1], with
        the inputs' dtype and device. Boxes that only touch have IoU 0; where the
        union is 0 (two empty boxes) the IoU is 0, never NaN. N = 0 or M = 0
        give an empty ``[N, M]`` tensor.
    """
    _check_boxes(box_a, "box_a")
    _check_boxes(box_b, "box_b")
    # ==== BEGIN EXERCISE (about 7 lines) ====
    # HINT: broadcast [N, 1, 2] against [1, M, 2]: the intersection's top-left is the max of the
    # HINT: top-left corners, its bottom-right the min of the bottom-right corners
    # HINT: clamp the intersection's width and height at 0 (disjoint boxes), multiply for its area
    # HINT: union = area_a[:, None] + area_b[None, :] - inter; guard the 0/0 of two empty boxes
    top_left = torch.max(box_a[:, None, :2], box_b[None, :, :2])       # [N, M, 2]
    bottom_right = torch.min(box_a[:, None, 2:], box_b[None, :, 2:])   # [N, M, 2]
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)         # [N, M]
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])  # [N]
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])  # [M]
    union = area_a[:, None] + area_b[None, :] - inter                  # [N, M]
    # Two empty boxes have union 0 and intersection 0: dividing by a tiny
    # positive number gives 0 instead of NaN, and keeps gradients finite.
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)
    # ==== END EXERCISE ====
