import torch


def jaccard(box_a, box_b):
    # float16 areas of pixel boxes overflow, integers cannot divide: at least float32
    dtype = torch.promote_types(box_a.dtype, torch.float32)
    box_a, box_b = box_a.to(dtype), box_b.to(dtype)
    # a loop over the rows, each row vectorised over box_b
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    rows = []
    for a in box_a:
        iw = (torch.min(a[2], box_b[:, 2]) - torch.max(a[0], box_b[:, 0])).clamp(min=0)
        ih = (torch.min(a[3], box_b[:, 3]) - torch.max(a[1], box_b[:, 1])).clamp(min=0)
        inter = iw * ih
        union = (a[2] - a[0]) * (a[3] - a[1]) + area_b - inter
        rows.append(torch.where(union > 0, inter / union, torch.zeros_like(inter)))
    if not rows:
        return box_a.new_zeros((0, len(box_b)))
    return torch.stack(rows)
