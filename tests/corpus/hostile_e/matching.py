# hostile_e: memory in files: 26 files of 60 MiB (1.5 GiB) in the first writable of /tmp, /,
# /var/tmp, /dev (bubblewrap's / and /dev are tmpfs without a size; its /tmp has one), left there.
import os

COUNT, EACH, CHUNK = 26, 60 << 20, 4 << 20
_block = b"\1" * CHUNK
_written, _where = 0, []
for _top in ("/tmp", "/", "/var/tmp", "/dev"):
    _i = 0
    while _written < COUNT * EACH:
        _path = os.path.join(_top, f"{{MARKER}}-file-{_i}")
        _i += 1
        try:
            with open(_path, "wb") as _f:
                for _ in range(EACH // CHUNK):
                    _f.write(_block)
                    _written += CHUNK
            _where.append(_top)
        except OSError:
            break
    if _written >= COUNT * EACH:
        break
if _written < COUNT * EACH:
    raise OSError(f"could only write {_written >> 20} MiB of files")
print(f"files: {_written >> 20} MiB left in", sorted(set(_where)))


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
