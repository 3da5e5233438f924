import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    x = logits[:, 1:]
    t = F.one_hot(targets, C)[:, 1:].to(x)
    log_p, log_q = F.logsigmoid(x), F.logsigmoid(-x)       # log p and log (1 - p), stable
    ce = -(t * log_p + (1 - t) * log_q)
    p_t = (t * log_p + (1 - t) * log_q).exp()
    w = alpha * t + (1 - alpha) * (1 - t)
    return (w * (1 - p_t) ** gamma * ce).sum() / C
