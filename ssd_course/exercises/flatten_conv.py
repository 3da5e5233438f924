# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("flatten_conv")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
"""Exercise 1 (lesson 02): flatten a head's feature map into one row per anchor."""
import torch


def flatten_conv(x: torch.Tensor, k: int) -> torch.Tensor:
    """Turn a conv head's output into one row of features per anchor.

    Args:
        x (Tensor[B, k*F, H, W]): a head's output; channels ``j*F ... (j+1)*F - 1``
            of a cell are the F features of that cell's j-th anchor.
        k (int): anchors per grid cell.

    Returns:
        Tensor[B, H*W*k, F]: row ``(r*W + c)*k + j`` holds the features of anchor
        j of the cell in row r, column c: cells row-major (x = column), the k
        anchors of a cell adjacent. Same dtype and device as ``x``; works on
        non-contiguous input and lets gradients flow back to ``x``.
    """
    if x.dim() != 4:
        raise ValueError(f"expected x of shape [B, k*F, H, W], got {tuple(x.shape)}")
    if k < 1 or x.shape[1] % k:
        raise ValueError(f"channels ({x.shape[1]}) must be a multiple of k ({k})")
    # ==== BEGIN EXERCISE (about 3 lines) ====
    # TODO: write flatten_conv here, in place of the `raise` below.
    # HINT: first reorder the axes so that each cell's k*F channel numbers come last, side by side
    # HINT: then regroup them into rows of F; the reordered tensor is not contiguous in memory,
    # HINT: so use the reshaping call that copies when it has to
    raise NotImplementedError(
        "Exercise 1 (lesson 02): flatten_conv is not written yet. Write it in ssd_course/exercises/flatten_conv.py, then run check('flatten_conv').")
    # ==== END EXERCISE ====
