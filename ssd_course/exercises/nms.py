# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("nms")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
"""Exercise 6 (lesson 07): non-maximum suppression."""
import torch

# Half-precision areas of pixel boxes overflow (float16's largest value is 65504) and integer
# boxes cannot be divided: the IoUs of those are computed in float32, as torchvision does.
COMPUTE_DTYPES = (torch.float32, torch.float64)


def nms(boxes: torch.Tensor, scores: torch.Tensor, overlap: float = 0.5,
        top_k: int = 100) -> torch.Tensor:
    """Greedy non-maximum suppression.

    Only the ``top_k`` highest-scoring boxes are candidates. Repeatedly keep the
    highest-scoring remaining candidate and drop every candidate whose IoU with it
    is greater than ``overlap`` (IoU equal to ``overlap`` survives).

    Args:
        boxes (Tensor[N, 4]): boxes in ``xyxy`` format, any floating-point or integer dtype
            (float16, bfloat16 and integers are compared in float32).
        scores (Tensor[N]): a score per box.
        overlap (float): IoU above which a lower-scoring box is suppressed.
        top_k (int): how many of the highest-scoring boxes are considered.

    Returns:
        Tensor[K]: int64 indices into ``boxes`` of the kept boxes, highest score
        first, on the inputs' device. N = 0 gives an empty int64 tensor.
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1]:
        raise ValueError(f"expected boxes [N, 4] and scores [N], got {tuple(boxes.shape)} "
                         f"and {tuple(scores.shape)}")
    if boxes.dtype not in COMPUTE_DTYPES:
        boxes = boxes.float()
    # ==== BEGIN EXERCISE (about 14 lines) ====
    # TODO: write nms here, in place of the `raise` below.
    # HINT: order the candidates best score first (equal scores: lower index first), keep the top_k
    # HINT: compute the IoU of the candidates with each other once, as in your jaccard
    # HINT: loop while candidates remain: keep the first, drop those with IoU > overlap with it
    raise NotImplementedError(
        "Exercise 6 (lesson 07): nms is not written yet. Write it in ssd_course/exercises/nms.py, then run check('nms').")
    # ==== END EXERCISE ====
