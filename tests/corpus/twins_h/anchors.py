import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    wh = torch.tensor([[z * rw, z * rh] for z in zooms for rw, rh in ratios], dtype=torch.float32)
    anchors, sizes = [], []
    for g in grids:
        r, c = torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")
        ctr = (torch.stack([c, r], -1).reshape(-1, 1, 2).float() + 0.5) / g    # [g*g, 1, 2]
        a = torch.cat([ctr.expand(-1, len(wh), 2), (wh / g).expand(g * g, -1, 2)], -1)
        anchors.append(a.reshape(-1, 4))
        sizes.append(torch.full((g * g * len(wh), 1), 1.0 / g))
    return torch.cat(anchors), torch.cat(sizes)
