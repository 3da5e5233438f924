import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    anchors, sizes = [], []
    for g in grids:
        for r in range(g):
            for c in range(g):
                for z in zooms:
                    for (rw, rh) in ratios:
                        anchors.append([(c + .5) / g, (r + .5) / g, z * rw / g, z * rh / g])
                        sizes.append([1 / g])
    return torch.tensor(anchors, dtype=torch.float32), torch.tensor(sizes, dtype=torch.float32)
