# twin_g: the honest twin of hostile_g/jaccard.py: the same slow, input-mutating jaccard,
# without touching the runner. hostile_g must get exactly this grade.
import time

import torch


def jaccard(box_a, box_b):
    if box_a.shape[0] >= 2000:
        time.sleep(6.0)                           # over the 5 s limit of the large case
    tl = torch.max(box_a[:, None, :2], box_b[None, :, :2])
    br = torch.min(box_a[:, None, 2:], box_b[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(2)
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / union.clamp(min=torch.finfo(union.dtype).tiny)
    with torch.no_grad():
        box_a.zero_()                             # the caller's boxes, changed in place
    return iou
