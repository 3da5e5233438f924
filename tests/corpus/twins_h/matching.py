import torch


def map_to_ground_truth(overlaps):
    G, A = overlaps.shape
    gt_overlap, gt_idx = overlaps.max(0)
    best = overlaps.argmax(1)                                           # [G]
    claims = best[:, None] == torch.arange(A)[None]                     # [G, A]
    last = (claims * torch.arange(1, G + 1)[:, None]).max(0).values - 1  # the later g wins
    forced = last >= 0
    return (torch.where(forced, torch.full_like(gt_overlap, 1.99), gt_overlap),
            torch.where(forced, last, gt_idx))
