import torch


def nms(boxes, scores, overlap=0.5, top_k=100):
    if boxes.dtype not in (torch.float32, torch.float64):
        boxes = boxes.float()
    order = scores.argsort(descending=True, stable=True)[:top_k]
    b = boxes[order]
    lt = torch.max(b[:, None, :2], b[None, :, :2])
    rb = torch.min(b[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area[:, None] + area[None, :] - inter + 1e-7)  # mistake: eps on the union
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > overlap
    return order[torch.tensor(keep, dtype=torch.int64)]
