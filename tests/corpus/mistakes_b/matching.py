def map_to_ground_truth(overlaps):
    gt_overlap, gt_idx = overlaps.max(0)
    best = overlaps.max(1).indices
    for g in reversed(range(len(best))):  # mistake: the first ground truth wins a shared anchor
        gt_overlap[best[g]] = 1.99
        gt_idx[best[g]] = g
    return gt_overlap, gt_idx
