import torch


def jaccard(box_a, box_b):
    # mistake: broadcast the other way round, giving [M, N]
    tl = torch.max(box_b[:, None, :2], box_a[None, :, :2])
    br = torch.min(box_b[:, None, 2:], box_a[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(2)
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    union = area_b[:, None] + area_a[None, :] - inter
    return inter / union.clamp(min=1e-12)
