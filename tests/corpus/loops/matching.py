def map_to_ground_truth(overlaps):
    # the blog's loop
    prior_overlap, prior_idx = overlaps.max(1)
    gt_overlap, gt_idx = overlaps.max(0)
    for i, o in enumerate(prior_idx.tolist()):
        gt_overlap[o] = 1.99
        gt_idx[o] = i
    return gt_overlap, gt_idx
