import itertools

import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    out = []
    for g in grids:
        for r, c in itertools.product(range(g), range(g)):
            for z in zooms:
                for rw, rh in ratios:
                    out.append([(c + .5) / g, (r + .5) / g, z * rw / g, z * rh / g, 1 / g])
    t = torch.tensor(out)
    return t[:, :4].clamp_(max=1, min=0), t[:, 4:]   # mistake: clipped, as ssd.pytorch's PriorBox
