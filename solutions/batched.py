"""Exercise 4 for a whole padded batch: the matcher of the instructor's fast loss.

Not an exercise and not part of a student copy. `ssd_course.loss.ssd_loss_batched`
uses it when the solutions are in use; with a student's code it calls the
student's `map_to_ground_truth` once per image instead (`loss.match_each_image`),
which gives the same matches, a few milliseconds slower per batch. A test checks
that this function and exercise 4, image by image, agree.
"""
import torch

from solutions.matching import FORCED_MATCH


def map_to_ground_truth_batched(overlaps: torch.Tensor, real: torch.Tensor):
    """`map_to_ground_truth` for every image of a padded batch at once.

    Same rules: each anchor takes its best object (first index on ties), then every
    real object, in order, claims its best anchor (the later object wins a shared one).

    Args:
        overlaps (Tensor[B, G, A]): IoUs; rows of padding objects hold values below any real
            IoU (the loss uses -1).
        real (Tensor[B, G]): bool, which objects are real.

    Returns:
        gt_overlap (Tensor[B, A]): each anchor's IoU with its object, `FORCED_MATCH` where an object
        claimed it (the padding value in an image without objects); gt_idx (Tensor[B, A]): int64,
        each anchor's object, an index into G.
    """
    B, G, A = overlaps.shape
    gt_overlap, gt_idx = overlaps.max(dim=1)                   # [B, A]: best object per anchor
    best_anchor = overlaps.max(dim=2).indices                  # [B, G]: best anchor per object
    g = torch.arange(G, device=overlaps.device).expand(B, G)
    claimant = torch.where(real, g, torch.full_like(g, -1))    # padding claims nothing
    claimed_by = torch.full((B, A), -1, dtype=torch.int64, device=overlaps.device)
    claimed_by.scatter_reduce_(1, best_anchor, claimant, reduce="amax")   # the later object wins
    forced = claimed_by >= 0                                   # [B, A]
    gt_idx = torch.where(forced, claimed_by, gt_idx)
    gt_overlap = gt_overlap.masked_fill(forced, FORCED_MATCH)
    return gt_overlap, gt_idx
