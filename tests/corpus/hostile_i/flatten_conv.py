# hostile_i: a malformed result frame written straight to the result pipe: an array frame
# (a valid .npy) without the JSON frame that announces it. Then the correct function.
import io

import numpy as np

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


_buf = io.BytesIO()
np.save(_buf, np.zeros(3), allow_pickle=False)
_send_everywhere(_frame(b"A", _buf.getvalue()))


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
