# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("jaccard")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
"""Exercise 3 (lesson 04): intersection over union of every pair of boxes."""
import torch

# Half-precision areas of pixel boxes overflow (float16's largest value is 65504, a 900 x 650
# box is 585000) and integer boxes cannot be divided: both are computed in float32, and the
# IoU comes back in float32, as torchvision's box_iou does.
COMPUTE_DTYPES = (torch.float32, torch.float64)


def _compute_dtype(boxes: torch.Tensor) -> torch.Tensor:
    """`boxes` in a dtype an IoU can be computed in: float32 and float64 as they are, else float32."""
    return boxes if boxes.dtype in COMPUTE_DTYPES else boxes.float()


def _check_boxes(boxes: torch.Tensor, name: str) -> None:
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[-1] != 4:
        shape = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"expected {name} as a Tensor[N, 4] of xyxy boxes, got {shape}")


def jaccard(box_a: torch.Tensor, box_b: torch.Tensor) -> torch.Tensor:
    """Intersection over union (Jaccard index) of every box in `box_a` with every box in `box_b`.

    Args:
        box_a (Tensor[N, 4]): boxes in ``xyxy`` format (x_min, y_min, x_max, y_max), any
            floating-point or integer dtype.
        box_b (Tensor[M, 4]): boxes in ``xyxy`` format, in the same units and dtype as ``box_a``.

    Returns:
        Tensor[N, M]: entry ``[i, j]`` is IoU(box_a[i], box_b[j]), in [0, 1], on the inputs'
        device; float32 and float64 inputs keep their dtype, float16, bfloat16 and integer
        inputs give float32 (computed in float32, as ``torchvision.ops.box_iou``). Boxes
        that only touch have IoU 0; where the union is 0 (two empty boxes) the IoU is 0,
        never NaN. N = 0 or M = 0 give an empty ``[N, M]`` tensor.
    """
    _check_boxes(box_a, "box_a")
    _check_boxes(box_b, "box_b")
    box_a, box_b = _compute_dtype(box_a), _compute_dtype(box_b)
    # ==== BEGIN EXERCISE (about 8 lines) ====
    # TODO: write jaccard here, in place of the `raise` below.
    # HINT: take the four coordinates apart: box_a's as four [N, 1] columns, box_b's as four [M]
    # HINT: rows; then any arithmetic between the two broadcasts to [N, M], every pair at once
    # HINT: overlap width = min of the right edges - max of the left edges, at least 0; same for height
    # HINT: union = area_a + area_b - inter; guard only the 0/0 of two empty boxes: clamp the
    # HINT: union at a tiny positive number (an epsilon added to it shifts small boxes' IoU)
    raise NotImplementedError(
        "Exercise 3 (lesson 04): jaccard is not written yet. Write it in ssd_course/exercises/jaccard.py, then run check('jaccard').")
    # ==== END EXERCISE ====
