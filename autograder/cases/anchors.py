"""Public cases of exercise 2, `make_anchors(grids, zooms, ratios)` (lesson 03)."""
from autograder.cases import Call, Case, py

EX = "anchors"
ORDER = ("blog_transposed", "loops_swapped", "corner_centres", "wh_swapped", "xyxy_anchors",
         "grid_sizes_g", "grid_sizes_flat")
MULTI = dict(grids=(4, 2, 1), zooms=(0.7, 1.0, 1.3), ratios=((1.0, 1.0), (1.0, 0.5), (0.5, 1.0)))


def anchors(**kwargs):
    return Call(kwargs={k: py(v) for k, v in kwargs.items()})


CASES = [
    Case(EX, "the defaults give the 16 anchors of the 4x4 lesson", (anchors(),), points=2,
         mistakes=ORDER),
    Case(EX, "a 2x2 grid puts its centres row by row, x along the columns",
         (anchors(grids=(2,)),), mistakes=ORDER),
    Case(EX, "grids 4, 2, 1 with 3 zooms and 3 ratios give the lesson's 189 anchors",
         (anchors(**MULTI),), points=2, mistakes=ORDER),
    Case(EX, "two zooms and two ratios come zoom-major inside a cell",
         (anchors(grids=(1,), zooms=(0.5, 1.0), ratios=((1.0, 1.0), (2.0, 1.0))),), mistakes=ORDER),
    Case(EX, "grid_sizes is an [A, 1] column holding 1/g of each anchor's grid",
         (anchors(grids=(3, 1)),), mistakes=ORDER),
    Case(EX, "lists work as well as tuples",
         (anchors(grids=[2], zooms=[1.0], ratios=[[1.0, 0.5]]),), mistakes=ORDER),
]
