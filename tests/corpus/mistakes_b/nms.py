import torch


def nms(boxes, scores, overlap=0.5, top_k=100):
    order = scores.argsort(descending=True, stable=True)[:top_k]
    cand = boxes[order]
    tl = torch.max(cand[:, None, :2], cand[None, :, :2])
    br = torch.min(cand[:, None, 2:], cand[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(2)
    area = (cand[:, 2] - cand[:, 0]) * (cand[:, 3] - cand[:, 1])
    iou = inter / (area[:, None] + area[None, :] - inter).clamp(min=1e-12)
    keep, remaining = [], list(range(len(order)))
    while remaining:
        i = remaining.pop(0)
        keep.append(i)
        remaining = [j for j in remaining if iou[i, j] <= overlap]
    keep = order[torch.tensor(keep, dtype=torch.int64)]
    return keep, len(keep)  # mistake: the blog's (keep, count)
