import torch


def jaccard(box_a, box_b):
    # half and integer boxes in float32 (the documented policy); the 0/0 guarded with where
    dtype = torch.promote_types(box_a.dtype, torch.float32)
    a, b = box_a.to(dtype)[:, None], box_b.to(dtype)[None]          # [N, 1, 4], [1, M, 4]
    wh = (torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(dtype).tiny), torch.zeros_like(union))
