# hostile_i: deep nesting: a JSON frame holding 200,000 nested arrays (json.loads recurses).
# Then the correct function.

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


_send_everywhere(_frame(b"J", b'{"type": "hello", "n_arrays": 0, "x": ' + b"[" * 200000
                        + b"]" * 200000 + b"}"))


# --- the reference solution, unchanged ---
"""Exercise 4 (lesson 04): assign each anchor a ground-truth object."""
import torch

FORCED_MATCH = 1.99  # the blog's marker: above any IoU, so a forced match is always positive


def map_to_ground_truth(overlaps: torch.Tensor):
    """Match anchors to ground-truth boxes by IoU, making sure every object gets an anchor.

    Each anchor takes the ground truth it overlaps most. Then every ground truth g,
    in order 0..G-1, claims its own best anchor ``a_g`` (first index on ties):
    ``gt_overlap[a_g] = 1.99`` and ``gt_idx[a_g] = g``. When two ground truths
    share a best anchor, the later one wins (as the blog's loop does).

    Args:
        overlaps (Tensor[G, A]): IoU of each of G >= 1 ground truths with each of A anchors.

    Returns:
        gt_overlap (Tensor[A]): each anchor's best IoU (1.99 where forced), dtype of ``overlaps``.
        gt_idx (Tensor[A]): int64, the ground truth each anchor is matched to
            (first index on ties, as ``Tensor.max`` gives).
        ``overlaps`` is not modified.
    """
    if overlaps.dim() != 2 or overlaps.shape[0] < 1:
        raise ValueError(f"expected overlaps of shape [G, A] with G >= 1, got {tuple(overlaps.shape)}")
    # ==== BEGIN EXERCISE (about 8 lines) ====
    # HINT: overlaps.max(0) gives each anchor's best ground truth; overlaps.max(1) each ground truth's best anchor
    # HINT: `t[idx] = values` with repeated idx keeps an unspecified one of the values: to make the
    # HINT: later ground truth win, find for each anchor the largest g that claims it (scatter_reduce "amax")
    G, A = overlaps.shape
    gt_overlap, gt_idx = overlaps.max(dim=0)          # [A], [A]: best ground truth per anchor
    best_anchor = overlaps.max(dim=1).indices         # [G]: best anchor per ground truth
    claimed_by = torch.full((A,), -1, dtype=torch.int64, device=overlaps.device)
    claimed_by.scatter_reduce_(0, best_anchor, torch.arange(G, device=overlaps.device), reduce="amax")
    forced = claimed_by >= 0                          # [A]: anchors some ground truth claimed
    gt_idx = torch.where(forced, claimed_by, gt_idx)
    gt_overlap = torch.where(forced, torch.full_like(gt_overlap, FORCED_MATCH), gt_overlap)
    return gt_overlap, gt_idx
    # ==== END EXERCISE ====
