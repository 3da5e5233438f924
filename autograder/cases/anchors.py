"""Exercise 2, `make_anchors(grids, zooms, ratios)` (lesson 03): its public cases and the
mistakes they recognise."""
from autograder import verdict
from autograder.cases import Call, Case, Mistake, py

EX = "anchors"


def _grid_sizes_flat(exp, got, tol):
    pairs = verdict.tensor_pairs(exp, got)
    return len(pairs) == 2 and verdict.shape_of(pairs[1][1]) == verdict.shape_of(pairs[1][0])[:1]


MISTAKES = {
    "blog_transposed": Mistake("Anchors are in the blog's transposed order (x taken from the row): "
                               "cells go row by row, cx = (c + .5)/g comes from the column c and "
                               "cy = (r + .5)/g from the row r."),
    "loops_swapped": Mistake("Zooms and ratios are nested the wrong way round: inside a cell the "
                             "order is `for z in zooms: for (rw, rh) in ratios`."),
    "corner_centres": Mistake("Anchor centres sit on the cells' corners: the centre of column c is "
                              "(c + 0.5)/g."),
    "wh_swapped": Mistake("Width and height are swapped: a ratio (rw, rh) gives width z*rw/g and "
                          "height z*rh/g."),
    "xyxy_anchors": Mistake("Anchors came back as corners (xyxy); the contract is cxcywh: "
                            "(centre x, centre y, width, height)."),
    "grid_sizes_g": Mistake("grid_sizes holds the cell size 1/g (a fraction of the image), not g."),
    "grid_sizes_flat": Mistake("grid_sizes must be [A, 1] (one column): add the dimension with "
                               "unsqueeze(1) or [:, None].", detect=_grid_sizes_flat),
    "d2l_shapes": Mistake("Each cell has len(zooms) + len(ratios) - 1 shapes, as d2l's multibox_prior "
                          "makes them: here every zoom goes with every ratio, len(zooms) * len(ratios) "
                          "shapes per cell."),
    "clipped": Mistake("The anchors were clipped to [0, 1], as many SSD ports do: the contract keeps "
                       "them as made (a zoom of 1.3 on a 1x1 grid has width 1.3)."),
}
ERROR_PATTERNS = []
PROPERTIES = {}
OUTPUTS = ("anchors", "grid_sizes")    # the contract's names of the result's parts
PICTURE = True     # check() in a notebook draws a failing case: the order shows at a glance
ORDER = ("blog_transposed", "loops_swapped", "corner_centres", "wh_swapped", "xyxy_anchors",
         "grid_sizes_g", "grid_sizes_flat", "d2l_shapes", "clipped")
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
    Case(EX, "grid_sizes is a float32 [A, 1] column holding 1/g of each anchor's grid",
         (anchors(grids=(3, 1)),), about=("dtype", "shape"), mistakes=ORDER),
    Case(EX, "lists work as well as tuples",
         (anchors(grids=[2], zooms=[1.0], ratios=[[1.0, 0.5]]),), mistakes=ORDER),
    Case(EX, "arguments passed by position: a 1x1 grid with zooms 1.0 and 1.4 (wider than the image)",
         (Call((py((1,)), py((1.0, 1.4)), py(((1.0, 1.0), (2.0, 1.0))))),), mistakes=ORDER),
]
