import numpy as np
import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    sizes = np.array([[z * rw, z * rh] for z in zooms for (rw, rh) in ratios])  # [k, 2]
    k = len(sizes)
    anchors, grid_sizes = [], []
    for g in grids:
        centres = (np.arange(g) + 0.5) / g
        ctr = np.stack([np.tile(centres, g), np.repeat(centres, g)], axis=1)  # x = column
        anchors.append(np.concatenate([np.repeat(ctr, k, axis=0), np.tile(sizes / g, (g * g, 1))], 1))
        grid_sizes.append(np.full((g * g * k, 1), 1 / g))
    return (torch.from_numpy(np.concatenate(anchors)).float(),
            torch.from_numpy(np.concatenate(grid_sizes)).float())
