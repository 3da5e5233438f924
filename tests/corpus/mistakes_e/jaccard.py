import torch


def jaccard(box_a, box_b):
    box_a, box_b = box_a.float() if not box_a.is_floating_point() else box_a, \
        box_b.float() if not box_b.is_floating_point() else box_b
    lt = torch.max(box_a[:, None, :2], box_b[None, :, :2])
    rb = torch.min(box_a[:, None, 2:], box_b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-7)  # mistake: eps on the union
