def map_to_ground_truth(overlaps):
    gt_overlap, gt_idx = overlaps.max(0)
    gt_overlap[overlaps.max(1).indices] = 1.99  # mistake: gt_idx of forced anchors not set
    return gt_overlap, gt_idx
