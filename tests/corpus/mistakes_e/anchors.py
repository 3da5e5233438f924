import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    # mistake: d2l's multibox_prior shapes, n + m - 1 per cell
    (rw0, rh0), z0 = ratios[0], zooms[0]
    shapes = [(z * rw0, z * rh0) for z in zooms] + [(z0 * rw, z0 * rh) for rw, rh in ratios[1:]]
    rows, cells = [], []
    for g in grids:
        for r in range(g):
            for c in range(g):
                for w, h in shapes:
                    rows.append([(c + .5) / g, (r + .5) / g, w / g, h / g])
                    cells.append([1 / g])
    return torch.tensor(rows), torch.tensor(cells)
