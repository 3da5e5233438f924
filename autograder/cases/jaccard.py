"""Public cases of exercise 3, `jaccard(box_a, box_b) -> Tensor[N, M]` (lesson 04)."""
import numpy as np

from autograder.cases import Call, Case, random_boxes, tensor

EX = "jaccard"
IOU = ("transposed", "plus_one", "xywh", "no_clamp", "union_without_intersection",
       "nan_for_empty")


def pair(a, b, **spec):
    return Call((tensor(a, **spec), tensor(b, **spec)))


def tiles(cols, rows, cell, shift=0.0):
    """cols*rows boxes tiling a grid of `cell`-pixel squares (xyxy), shifted by `shift` pixels."""
    x, y = np.meshgrid(np.arange(cols) * cell, np.arange(rows) * cell)
    xy = np.stack([x.ravel(), y.ravel()], axis=1) + shift
    return np.concatenate([xy, xy + cell], axis=1)


A4, B6 = random_boxes(11, 4, scale=100), random_boxes(12, 6, scale=100)

CASES = [
    Case(EX, "identical boxes have IoU 1",
         (pair([[0, 0, 2, 2], [1, 1, 4, 3]], [[0, 0, 2, 2], [1, 1, 4, 3]]),), mistakes=IOU),
    Case(EX, "disjoint boxes have IoU 0",
         (pair([[0, 0, 1, 1]], [[2, 2, 3, 3], [2, 0, 3, 1]]),), mistakes=IOU),
    Case(EX, "boxes that only touch (edge or corner) have IoU 0",
         (pair([[0, 0, 1, 1]], [[1, 0, 2, 1], [1, 1, 2, 2], [0, 1, 1, 2]]),), mistakes=IOU),
    Case(EX, "a box nested in another has IoU equal to their area ratio",
         (pair([[0, 0, 4, 4]], [[1, 1, 2, 2]]),), mistakes=IOU),
    Case(EX, "a 2 x 3 case gives a [2, 3] result, entry [i, j] = IoU(box_a[i], box_b[j])",
         (pair([[0, 0, 2, 2], [1, 1, 3, 3]], [[1, 1, 3, 3], [0, 0, 1, 1], [2, 0, 4, 2]]),),
         points=2, mistakes=IOU),
    Case(EX, "empty boxes (zero area) give 0, never NaN",
         (pair([[1, 1, 1, 1], [0, 0, 2, 2]], [[1, 1, 1, 1], [3, 3, 3, 3]]),), mistakes=IOU),
    Case(EX, "N = 0 gives an empty [0, M] result",
         (pair(np.zeros((0, 4)), [[0, 0, 1, 1], [0, 0, 2, 2], [1, 1, 2, 2]]),), mistakes=IOU),
    Case(EX, "random boxes in pixels agree with torchvision's box_iou",
         (pair(random_boxes(1, 7, scale=224), random_boxes(2, 5, scale=224)),), points=2,
         reference="torchvision", mistakes=IOU),
    Case(EX, "symmetry: jaccard(b, a) is jaccard(a, b) transposed",
         (pair(A4, B6), pair(B6, A4)), compare="symmetric", mistakes=IOU),
    # Timed by the grader's own clock (the child's could be patched); the limit leaves room for
    # a busy machine: the vectorised reference takes 0.1-0.6 s, a loop over pairs minutes.
    Case(EX, "2000 x 2000 boxes: the right IoUs in well under a second (limit 5 s, for busy machines)",
         (Call((tensor(tiles(40, 50, 8.0)), tensor(tiles(40, 50, 8.0, shift=4.0))),
               time_limit=10.0),), points=2, max_seconds=5.0,
         mistakes=tuple(m for m in IOU if m != "nan_for_empty")),   # no empty boxes here
]
