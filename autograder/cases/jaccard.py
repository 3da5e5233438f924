"""Exercise 3, `jaccard(box_a, box_b) -> Tensor[N, M]` (lesson 04): its public cases, the
mistakes they recognise and the properties they check."""
import numpy as np

from autograder import verdict
from autograder.cases import Call, Case, Mistake, random_boxes, tensor

EX = "jaccard"


# --- mistakes: the hint of each, and a detector for those recognised by the output's form -----

def _transposed(exp, got, tol):
    e = exp["options"][0] if exp["kind"] == "one_of" else exp
    return (got.get("kind") == "tensor" and e.get("kind") == "tensor" and len(e["shape"]) == 2
            and verdict.shape_of(got) == verdict.shape_of(e)[::-1] and got.get("array") is not None
            and not verdict.mismatch(e["array"].T, got["array"], verdict.tolerance(e["dtype"], tol)).any())


def _nan_for_empty(exp, got, tol):
    return any((np.isnan(g.astype(float)) & (e == 0)).any() for e, g in verdict.same_shape_arrays(exp, got))


MISTAKES = {
    "transposed": Mistake("IoU returned as [M, N]: entry [i, j] must be IoU(box_a[i], box_b[j]); did "
                          "you swap the arguments or the broadcast dimensions?", detect=_transposed),
    "plus_one": Mistake("This is the +1 pixel convention (width = x2 - x1 + 1): boxes here are "
                        "continuous coordinates, width = x2 - x1, and boxes that only touch have IoU 0."),
    "xywh": Mistake("The boxes were read as (x, y, w, h): they are xyxy, (x_min, y_min, x_max, y_max); "
                    "the width is x_max - x_min."),
    "no_clamp": Mistake("Disjoint boxes gave a non-zero IoU: clamp the intersection's width and height "
                        "at 0 before multiplying (two negative sides make a positive area)."),
    "union_without_intersection": Mistake("The union counts the intersection twice: "
                                          "union = area_a + area_b - intersection."),
    "nan_for_empty": Mistake("NaN where two empty boxes meet: their union is 0 and 0/0 is NaN. Guard the "
                             "division (e.g. clamp the union at a tiny positive number): the IoU is 0 "
                             "there.", detect=_nan_for_empty),
}
ERROR_PATTERNS = []
IOU = ("transposed", "plus_one", "xywh", "no_clamp", "union_without_intersection",
       "nan_for_empty")


# --- properties: relations between the outputs of a case's calls -------------------------------

def _rows_equal(case, results, reorder):
    """The second call's output equals `reorder` of the first's, within the case's tolerance."""
    a, b = results[0]["output"], results[1]["output"]
    t = verdict.tolerance(a["dtype"], case.tol)
    return a.get("array") is not None and b.get("array") is not None \
        and reorder(a["array"]).shape == b["array"].shape \
        and not verdict.mismatch(reorder(a["array"]), b["array"], t).any()


def _symmetric(case, expects, results):
    if not _rows_equal(case, results, lambda a: a.T):
        return "jaccard(box_b, box_a) is not jaccard(box_a, box_b).T"
    return None


def _rows_permuted(case, expects, results):
    perm = np.asarray(case.meta["perm"])
    if not _rows_equal(case, results, lambda a: a[perm]):
        return "reordering the input boxes did not reorder the output rows the same way"
    return None


PROPERTIES = {"symmetric": _symmetric, "rows_permuted": _rows_permuted}


# --- cases ------------------------------------------------------------------------------------

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
