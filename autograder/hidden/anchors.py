"""Hidden cases of exercise 2, make_anchors (grader only)."""
from autograder.cases import Call, Case, py
from autograder.cases.anchors import EX, MULTI, ORDER, anchors

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
