"""Exercise 3, jaccard, for the grader only: its hidden cases, the code of its mistakes and
torchvision's box_iou as a reference."""
import numpy as np
import torch

from autograder.cases import Case, random_boxes, random_permutation
from autograder.cases.jaccard import EX, IOU, pair
from autograder.hidden.variants import Variants, iou

A6 = random_boxes(31, 6, scale=50)
B5 = random_boxes(32, 5, scale=50)
PERM = random_permutation(33, 6)

CASES = [
    Case(EX, "M = 0 boxes in box_b",
         (pair([[0, 0, 1, 1], [1, 1, 3, 3]], np.zeros((0, 4))),), mistakes=IOU),
    Case(EX, "N = 0 and M = 0 boxes",
         (pair(np.zeros((0, 4)), np.zeros((0, 4))),), mistakes=IOU),
    Case(EX, "float64 boxes in [-1, 1] keep their dtype and agree with box_iou",
         (pair(random_boxes(34, 6, scale=2, offset=-1), random_boxes(35, 4, scale=2, offset=-1),
               dtype="float64"),), reference="torchvision", mistakes=IOU),
    Case(EX, "float16 boxes keep their dtype",
         (pair([[0, 0, 2, 2], [0.5, 0.5, 1.5, 1.5]], [[1, 1, 3, 3], [0, 0, 1, 1], [0, 0, 4, 4]],
               dtype="float16"),), float64_reference=True, mistakes=IOU),
    Case(EX, "non-contiguous boxes (a transposed view) work",
         (pair(random_boxes(36, 5, scale=10), random_boxes(37, 6, scale=10), layout="transposed"),),
         mistakes=IOU),
    Case(EX, "random boxes in [0, 1] agree with torchvision's box_iou",
         (pair(random_boxes(38, 9), random_boxes(39, 4)),), reference="torchvision", mistakes=IOU),
    Case(EX, "reordering box_a reorders the rows the same way",
         (pair(A6, B5), pair(A6[PERM], B5)), compare="rows_permuted", meta={"perm": PERM.tolist()},
         mistakes=IOU),
    Case(EX, "a zero-width box against a normal box",
         (pair([[1, 0, 1, 2]], [[0, 0, 2, 2]]),), mistakes=IOU),
    Case(EX, "boxes touching at a corner in [-1, 1] units",
         (pair([[-1, -1, 0, 0]], [[0, 0, 1, 1], [-1, 0, 0, 1], [0, -1, 1, 0]]),), mistakes=IOU),
    Case(EX, "strided (non-contiguous) boxes in pixels",
         (pair(random_boxes(40, 4, scale=300), random_boxes(41, 3, scale=300), layout="strided"),),
         mistakes=IOU),
]


# --- the mistakes' code and the reference --------------------------------------------------

def _xywh_to_xyxy(b):
    return torch.cat([b[:, :2], b[:, :2] + b[:, 2:]], dim=1)


def _tv_box_iou(box_a, box_b):
    from torchvision.ops import box_iou
    return box_iou(box_a, box_b)


VARIANTS = Variants(EX, CASES, mistakes={
    "plus_one": lambda a, b: iou(a, b, plus=1.0),
    "xywh": lambda a, b: iou(_xywh_to_xyxy(a), _xywh_to_xyxy(b)),
    "no_clamp": lambda a, b: iou(a, b, clamp=False),
    "union_without_intersection": lambda a, b: iou(a, b, minus_inter=False),
}, alternatives={"torchvision": _tv_box_iou})
