# hostile_e: memory per process, not per submission. Five forked children each take 320 MiB
# (1.6 GiB in all), each under a per-process address-space limit of 512 MiB. They hold it for
# a second, then exit. Any child that could not allocate, or a fork refused, fails the import.
import os
import time

import numpy as np

CHILDREN, EACH = 5, 320 << 20
_r, _w = os.pipe()
_pids = []
for _ in range(CHILDREN):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            block = np.ones(EACH, dtype=np.uint8)      # touched: resident, not just reserved
            os.write(_w, b"+")
            time.sleep(1.5)
            code = 0
        finally:
            os._exit(code)
    _pids.append(pid)
os.close(_w)
_ready = 0
while _ready < CHILDREN:
    chunk = os.read(_r, 16)
    if not chunk:
        break
    _ready += len(chunk)
_codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in _pids]
if _ready < CHILDREN:
    raise MemoryError(f"only {_ready} of {CHILDREN} children got their memory ({_codes})")
print(f"forks: {CHILDREN} x {EACH >> 20} MiB held at once")


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
