import numpy as np
import torch


def jaccard(box_a, box_b):
    # computed in numpy float64 and returned as float64 (a slip in the result's dtype)
    a, b = box_a.double().numpy(), box_b.double().numpy()
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.from_numpy(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0))
