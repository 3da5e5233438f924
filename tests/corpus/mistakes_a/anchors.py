import numpy as np
import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    # mistake: the blog's anc_x = repeat(...), anc_y = tile(...): x taken from the row
    scales = [(z * i, z * j) for z in zooms for (i, j) in ratios]
    k = len(scales)
    xs = np.concatenate([np.repeat((np.arange(g) + .5) / g, g) for g in grids])
    ys = np.concatenate([np.tile((np.arange(g) + .5) / g, g) for g in grids])
    ctrs = np.repeat(np.stack([xs, ys], axis=1), k, axis=0)
    sizes = np.concatenate([np.array([[o / g, p / g] for i in range(g * g) for o, p in scales])
                            for g in grids])
    grid_sizes = np.concatenate([np.array([1 / g for i in range(g * g) for _ in scales]) for g in grids])
    return (torch.tensor(np.concatenate([ctrs, sizes], axis=1)).float(),
            torch.tensor(grid_sizes).float().unsqueeze(1))
