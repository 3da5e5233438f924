import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    return sigmoid_focal_loss(logits[:, 1:], t, alpha, gamma, reduction="sum") / C
