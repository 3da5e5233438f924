# hostile_e: memory in /dev/shm: 26 files of 60 MiB (1.5 GiB), left there (a tmpfs: RAM).
import os

COUNT, EACH, CHUNK = 26, 60 << 20, 4 << 20
_block = b"\1" * CHUNK
for _i in range(COUNT):
    with open(f"/dev/shm/{{MARKER}}-shm-{_i}", "wb") as _f:
        for _ in range(EACH // CHUNK):
            _f.write(_block)
print(f"/dev/shm: {COUNT} x {EACH >> 20} MiB left behind")


# --- the reference solution, unchanged ---
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
    # the course's dtype policy: half precision and integers are computed in float32
    box_a, box_b = (b if b.dtype in (torch.float32, torch.float64) else b.float() for b in (box_a, box_b))
    # ==== BEGIN EXERCISE (about 8 lines) ====
    # HINT: take the four coordinates apart: box_a's as four [N, 1] columns, box_b's as four [M]
    # HINT: rows; then any arithmetic between the two broadcasts to [N, M], every pair at once
    # HINT: overlap width = min of the right edges - max of the left edges, at least 0; same for height
    # HINT: union = area_a + area_b - inter; guard the 0/0 of two empty boxes
    # A transposed copy puts each coordinate's values next to each other in memory:
    # the [N, M] arithmetic below then reads neighbours, which vector units do fastest.
    ax1, ay1, ax2, ay2 = box_a.T.contiguous().unsqueeze(2)    # each [N, 1]
    bx1, by1, bx2, by2 = box_b.T.contiguous()                 # each [M]
    inter_w = (torch.min(ax2, bx2) - torch.max(ax1, bx1)).clamp(min=0)   # [N, M]; 0 when disjoint
    inter_h = (torch.min(ay2, by2) - torch.max(ay1, by1)).clamp(min=0)   # [N, M]
    inter = inter_w * inter_h
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter   # [N, 1] + [M] - [N, M]
    # Two empty boxes have union 0 and intersection 0: dividing by a tiny
    # positive number gives 0 instead of NaN, and keeps gradients finite.
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)
    # ==== END EXERCISE ====
