"""Exercise 2, make_anchors, for the grader only: its hidden cases and the code of its mistakes."""
import torch

from autograder.cases import Call, Case, py
from autograder.cases.anchors import EX, MULTI, ORDER, anchors
from autograder.hidden.variants import OneOf, Variants

CASES = [
    Case(EX, "a 3x3 grid (odd size)",
         (anchors(grids=(3,)),), mistakes=ORDER),
    Case(EX, "grids (2, 1), one zoom, two ratios, in the order given",
         (anchors(grids=(2, 1), zooms=(1.3,), ratios=((1.0, 0.5), (0.5, 1.0))),), mistakes=ORDER),
    Case(EX, "a 5x5 grid with zoom 0.7",
         (anchors(grids=(5,), zooms=(0.7,)),), mistakes=ORDER),
    Case(EX, "grids in another order (1, 4) keep that order",
         (anchors(grids=(1, 4), zooms=(1.0, 0.5), ratios=((1.0, 1.0),)),), mistakes=ORDER),
    Case(EX, "a non-square ratio and one zoom",
         (anchors(grids=(2,), zooms=(1.0,), ratios=((1.0, 0.5),)),), mistakes=ORDER),
    Case(EX, "the 189 anchors from lists, passed by position",
         (Call((py(list(MULTI["grids"])), py(list(MULTI["zooms"])),
                py([list(r) for r in MULTI["ratios"]]))),), mistakes=ORDER),
]


# --- the mistakes' code ----------------------------------------------------------------------

def _anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),), transposed=False, ratio_major=False,
             corner=False, wh_swapped=False, xyxy=False, cell_count=False, d2l=False):
    if d2l:     # d2l's multibox_prior: every zoom with the first ratio, the first zoom with the rest
        (rw0, rh0), z0 = ratios[0], zooms[0]
        sizes = [(z * rw0, z * rh0) for z in zooms] + [(z0 * rw, z0 * rh) for (rw, rh) in ratios[1:]]
    elif ratio_major:
        sizes = [(z * rw, z * rh) for (rw, rh) in ratios for z in zooms]
    else:
        sizes = [(z * rw, z * rh) for z in zooms for (rw, rh) in ratios]
    if wh_swapped:
        sizes = [(h, w) for (w, h) in sizes]
    rows, cells = [], []
    for g in grids:
        for r in range(g):
            for c in range(g):
                cx, cy = ((c, r) if corner else (c + .5, r + .5))
                if transposed:
                    cx, cy = cy, cx
                for (w, h) in sizes:
                    box = [cx / g, cy / g, w / g, h / g]
                    if xyxy:
                        box = [box[0] - box[2] / 2, box[1] - box[3] / 2,
                               box[0] + box[2] / 2, box[1] + box[3] / 2]
                    rows.append(box)
                    cells.append([float(g) if cell_count else 1.0 / g])
    return torch.tensor(rows, dtype=torch.float32), torch.tensor(cells, dtype=torch.float32)


def _clipped(anchors, grid_sizes):
    """Anchors clipped to [0, 1] as SSD ports do it: the cxcywh values (ssd.pytorch), or the
    corners, converted back."""
    corners = torch.cat([anchors[:, :2] - anchors[:, 2:] / 2, anchors[:, :2] + anchors[:, 2:] / 2], 1)
    corners = corners.clamp(0, 1)
    back = torch.cat([(corners[:, :2] + corners[:, 2:]) / 2, corners[:, 2:] - corners[:, :2]], 1)
    return OneOf([(anchors.clamp(0, 1), grid_sizes), (back, grid_sizes)])


VARIANTS = Variants(EX, CASES, mistakes={
    "blog_transposed": lambda *a, **kw: _anchors(*a, transposed=True, **kw),
    "loops_swapped": lambda *a, **kw: _anchors(*a, ratio_major=True, **kw),
    "corner_centres": lambda *a, **kw: _anchors(*a, corner=True, **kw),
    "wh_swapped": lambda *a, **kw: _anchors(*a, wh_swapped=True, **kw),
    "xyxy_anchors": lambda *a, **kw: _anchors(*a, xyxy=True, **kw),
    "grid_sizes_g": lambda *a, **kw: _anchors(*a, cell_count=True, **kw),
    "d2l_shapes": lambda *a, **kw: _anchors(*a, d2l=True, **kw),
    "clipped": lambda *a, **kw: _clipped(*_anchors(*a, **kw)),
}, alternatives={})
