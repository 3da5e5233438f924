import torch


def jaccard(box_a, box_b):
    # mistake: the +1 pixel convention
    tl = torch.max(box_a[:, None, :2], box_b[None, :, :2])
    br = torch.min(box_a[:, None, 2:], box_b[None, :, 2:])
    inter = (br - tl + 1).clamp(min=0).prod(2)
    area_a = (box_a[:, 2] - box_a[:, 0] + 1) * (box_a[:, 3] - box_a[:, 1] + 1)
    area_b = (box_b[:, 2] - box_b[:, 0] + 1) * (box_b[:, 3] - box_b[:, 1] + 1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)
