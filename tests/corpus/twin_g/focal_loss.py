# twin_g: the honest twin of hostile_g/focal_loss.py: the loss returned in float32 whatever the
# logits' dtype, without touching the runner. hostile_g must get exactly this grade.
import torch


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = torch.eye(C, dtype=logits.dtype, device=logits.device)[:, 1:][targets]   # [A, C-1] one-hot
    z = logits[:, 1:] * (2 * t - 1)          # x where t = 1, -x where t = 0: sigmoid(z) = p_t
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    w = alpha_t * (1 - z.detach().sigmoid()) ** gamma          # a constant: no gradient through it
    bce = (-z).relu() - z.abs().sigmoid().log()
    loss = (w * bce).sum() / C
    return loss.float()                           # always float32: the dtype is lost
