"""Exercise 3, jaccard, for the grader only: its hidden cases, the code of its mistakes and
torchvision's box_iou as a reference."""
import numpy as np
import torch

from autograder.cases import Case, random_boxes, random_permutation
from autograder.cases.jaccard import EDGE, EX, IOU, pair, small_boxes
from autograder.hidden.variants import OneOf, Variants, iou

A6 = random_boxes(31, 6, scale=50)
B5 = random_boxes(32, 5, scale=50)
PERM = random_permutation(33, 6)

CASES = [
    Case(EX, "M = 0 boxes in box_b",
         (pair([[0, 0, 1, 1], [1, 1, 3, 3]], np.zeros((0, 4))),), **EDGE),
    Case(EX, "N = 0 and M = 0 boxes",
         (pair(np.zeros((0, 4)), np.zeros((0, 4))),), **EDGE),
    Case(EX, "6 x 4 float64 boxes in [-1, 1] keep their dtype and agree with box_iou",
         (pair(random_boxes(34, 6, scale=2, offset=-1), random_boxes(35, 4, scale=2, offset=-1),
               dtype="float64"),), reference="torchvision", mistakes=IOU),
    Case(EX, "small float16 boxes (a float16 or float32 result)",
         (pair([[0, 0, 2, 2], [0.5, 0.5, 1.5, 1.5]], [[1, 1, 3, 3], [0, 0, 1, 1], [0, 0, 4, 4]],
               dtype="float16"),), mistakes=IOU),
    Case(EX, "float16 boxes of 400 to 850 pixels a side",
         (pair(random_boxes(42, 4, scale=900, min_size=0.6), random_boxes(43, 3, scale=900, min_size=0.6),
               dtype="float16"),), reference="torchvision", mistakes=IOU),
    Case(EX, "integer (int64) boxes in pixels",
         (pair(np.round(random_boxes(44, 5, scale=400)), np.round(random_boxes(45, 4, scale=400)),
               dtype="int64"),), reference="torchvision", about=("dtype",), mistakes=IOU),
    Case(EX, "small boxes in [-1, 1] units",
         (pair(small_boxes(46, 5), small_boxes(47, 4)),), mistakes=IOU),
    Case(EX, "5 x 6 non-contiguous boxes (a transposed view)",
         (pair(random_boxes(36, 5, scale=10), random_boxes(37, 6, scale=10), layout="transposed"),),
         mistakes=IOU),
    Case(EX, "random boxes in [0, 1] agree with torchvision's box_iou",
         (pair(random_boxes(38, 9), random_boxes(39, 4)),), reference="torchvision", mistakes=IOU),
    Case(EX, "reordering 6 boxes of box_a reorders the rows the same way",
         (pair(A6, B5), pair(A6[PERM], B5)), compare="rows_permuted", meta={"perm": PERM.tolist()},
         mistakes=IOU),
    Case(EX, "a zero-width box against a normal box",
         (pair([[1, 0, 1, 2]], [[0, 0, 2, 2]]),), **EDGE),
    Case(EX, "boxes touching at a corner in [-1, 1] units",
         (pair([[-1, -1, 0, 0]], [[0, 0, 1, 1], [-1, 0, 0, 1], [0, -1, 1, 0]]),), **EDGE),
    Case(EX, "strided (non-contiguous) boxes in pixels",
         (pair(random_boxes(40, 4, scale=300), random_boxes(41, 3, scale=300), layout="strided"),),
         mistakes=IOU),
]


# --- the mistakes' code and the reference --------------------------------------------------

def _xywh_to_xyxy(b):
    return torch.cat([b[:, :2], b[:, :2] + b[:, 2:]], dim=1)


# The epsilons seen added to a union in real code ("guard the 0/0"): any of them is that mistake.
UNION_EPSILONS = (1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4)


def _union_eps(box_a, box_b):
    return OneOf(iou(box_a, box_b, eps=e) for e in UNION_EPSILONS)


def _tv_box_iou(box_a, box_b):
    from torchvision.ops import box_iou
    return box_iou(box_a, box_b)


VARIANTS = Variants(EX, CASES, mistakes={
    "plus_one": lambda a, b: iou(a, b, plus=1.0),
    "xywh": lambda a, b: iou(_xywh_to_xyxy(a), _xywh_to_xyxy(b)),
    "no_clamp": lambda a, b: iou(a, b, clamp=False),
    "union_without_intersection": lambda a, b: iou(a, b, minus_inter=False),
    "union_eps": _union_eps,
}, alternatives={"torchvision": _tv_box_iou})
