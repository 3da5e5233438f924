import torch


def nms(boxes, scores, overlap=0.5, top_k=100):
    order = scores.argsort(descending=True, stable=True)[:top_k]
    keep = []
    remaining = order.tolist()
    while remaining:
        i = remaining.pop(0)
        keep.append(i)
        b = boxes[i]
        rest = boxes[remaining] if remaining else boxes[:0]
        tl = torch.max(b[:2], rest[:, :2])
        br = torch.min(b[2:], rest[:, 2:])
        inter = (br - tl).clamp(min=0).prod(1)
        union = (b[2] - b[0]) * (b[3] - b[1]) + (rest[:, 2] - rest[:, 0]) * (rest[:, 3] - rest[:, 1]) - inter
        iou = inter / union
        remaining = [j for j, v in zip(remaining, iou.tolist()) if v < overlap]  # mistake: >= suppresses
    return torch.tensor(keep, dtype=torch.int64)
