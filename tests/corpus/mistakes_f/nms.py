import torch


def nms(boxes, scores, overlap=0.5, top_k=100):
    boxes = boxes.float()
    order = scores.argsort(descending=True, stable=True)[:top_k]
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        lt = torch.max(boxes[i, :2], boxes[rest, :2])
        rb = torch.min(boxes[i, 2:], boxes[rest, 2:])
        inter = (rb - lt).clamp(min=0).prod(1)
        area_i = (boxes[i, 2] - boxes[i, 0]) * (boxes[i, 3] - boxes[i, 1])
        area_r = (boxes[rest, 2] - boxes[rest, 0]) * (boxes[rest, 3] - boxes[rest, 1])
        iou = inter / (area_i + area_r - inter)   # mistake: NaN for two zero-area boxes
        order = rest[iou <= overlap]              # ... and NaN <= overlap is False: dropped
    return torch.stack(keep) if keep else torch.zeros(0, dtype=torch.int64)
