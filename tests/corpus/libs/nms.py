import torch
import torchvision


def nms(boxes, scores, overlap=0.5, top_k=100):
    order = scores.argsort(descending=True, stable=True)[:top_k]
    b, s = boxes[order], scores[order]
    if b.dtype not in (torch.float32, torch.float64):   # the CPU kernel has no half or integer one
        b, s = b.float(), s.float()
    return order[torchvision.ops.nms(b, s, overlap)]
