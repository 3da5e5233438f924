import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    x = logits[:, 1:]
    p = x.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    loss = F.binary_cross_entropy_with_logits(x, t, w.detach(), reduction="none")
    return loss.sum(dim=(0, 1), keepdim=True).reshape(1) / C  # mistake: shape [1], not a scalar
