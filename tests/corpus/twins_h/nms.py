import torch


def nms(boxes, scores, overlap=0.5, top_k=100):
    # IoU guarded with a clamp, integers and half precision compared in float32
    b = boxes.to(torch.promote_types(boxes.dtype, torch.float32))
    order = scores.argsort(descending=True, stable=True)[:top_k]
    c = b[order]
    wh = (torch.min(c[:, None, 2:], c[None, :, 2:]) - torch.max(c[:, None, :2], c[None, :, :2])).clamp(min=0)
    inter = wh.prod(-1)
    area = (c[:, 2:] - c[:, :2]).prod(-1)
    iou = inter / (area[:, None] + area[None] - inter).clamp(min=torch.finfo(c.dtype).tiny)
    alive = torch.ones(len(order), dtype=torch.bool)
    for i in range(len(order)):
        if alive[i]:
            later = torch.arange(len(order)) > i
            alive &= ~(later & (iou[i] > overlap))
    return order[alive]
