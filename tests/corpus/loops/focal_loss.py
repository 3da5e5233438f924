import warnings

import torch


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    # written out by hand, weight not detached, a numerically stable BCE
    warnings.warn("a warning from correct code costs nothing")
    C = logits.shape[1]
    t = torch.zeros_like(logits)
    t[torch.arange(len(targets)), targets] = 1
    t, x = t[:, 1:], logits[:, 1:]
    p = torch.sigmoid(x)
    bce = x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))
    p_t = p * t + (1 - p) * (1 - t)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    return (w * bce).sum() / C
