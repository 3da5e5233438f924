import torch


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    # mistake: -log(sigmoid(z)) as written: inf once sigmoid(z) rounds to 0 (z below about -104)
    C = logits.shape[1]
    t = torch.eye(C, dtype=logits.dtype, device=logits.device)[:, 1:][targets]
    z = logits[:, 1:] * (2 * t - 1)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - z.detach().sigmoid()) ** gamma
    return (w * -torch.log(torch.sigmoid(z))).sum() / C
