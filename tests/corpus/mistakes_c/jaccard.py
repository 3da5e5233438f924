import torch


def jaccard(box_a, box_b):
    # mistake: boxes read as (x, y, w, h)
    a = torch.cat([box_a[:, :2], box_a[:, :2] + box_a[:, 2:]], dim=1)
    b = torch.cat([box_b[:, :2], box_b[:, :2] + box_b[:, 2:]], dim=1)
    tl = torch.max(a[:, None, :2], b[None, :, :2])
    br = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(2)
    area_a = box_a[:, 2] * box_a[:, 3]
    area_b = box_b[:, 2] * box_b[:, 3]
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-12)
