import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    x = logits[:, 1:]
    p = x.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    w = ((1 - alpha) * t + alpha * (1 - t)) * (1 - p_t) ** gamma  # mistake: alpha on the negatives
    return F.binary_cross_entropy_with_logits(x, t, w.detach(), reduction="sum") / C
