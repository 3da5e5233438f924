# zeros_k: a stub that returns zeros of the right shape and dtype: what a poisoned cache
# (hostile_k) would reward.
import torch


def jaccard(box_a, box_b):
    return torch.zeros(box_a.shape[0], box_b.shape[0], dtype=box_a.dtype)
