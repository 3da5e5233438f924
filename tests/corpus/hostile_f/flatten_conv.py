# hostile_f: process count. 300 processes alive together for three seconds, started with
# posix_spawn (vfork-like: a fork of this torch-sized process would take ~0.1 s each).
# A refused spawn fails the import (after the processes made so far are gone).
import os
import shutil
import signal

COUNT = 300
_sleep = shutil.which("sleep") or "/bin/sleep"
_pids = []
try:
    for _ in range(COUNT):
        _pids.append(os.posix_spawn(_sleep, ["sleep", "3"], {}))
except BaseException:
    for pid in _pids:
        os.kill(pid, signal.SIGKILL)
    raise
finally:
    for pid in _pids:
        os.waitpid(pid, 0)
print(f"processes: {len(_pids)} at once")


# --- the reference solution, unchanged ---
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
    # HINT: move channels last with `permute`, so each cell's k*F numbers are contiguous
    # HINT: then `reshape` (not `view`: the permuted tensor is not contiguous) to [B, -1, F]
    B, kF, H, W = x.shape
    x = x.permute(0, 2, 3, 1)            # [B, H, W, k*F]: cells row-major, channels last
    return x.reshape(B, H * W * k, kF // k)  # [B, H*W*k, F]: anchor j of a cell = channels j*F..
    # ==== END EXERCISE ====
