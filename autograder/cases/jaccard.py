"""Exercise 3, `jaccard(box_a, box_b) -> Tensor[N, M]` (lesson 04): its public cases, the
mistakes they recognise and the properties they check."""
import numpy as np

from autograder import verdict
from autograder.cases import HALF_DTYPES, Call, Case, Mistake, random_boxes, tensor

EX = "jaccard"


# --- mistakes: the hint of each, and a detector for those recognised by the output's form -----

def _transposed(exp, got, tol):
    """The expected matrix transposed, on a case where that differs from the expected one."""
    e = exp["options"][0] if exp["kind"] == "one_of" else exp
    if not (got.get("kind") == "tensor" and e.get("kind") == "tensor" and len(e["shape"]) == 2
            and verdict.shape_of(got) == verdict.shape_of(e)[::-1] and got.get("array") is not None):
        return False
    t = verdict.tolerance(e["dtype"], tol)
    differs = verdict.shape_of(got) != verdict.shape_of(e) or verdict.mismatch(e["array"], got["array"], t).any()
    return differs and not verdict.mismatch(e["array"].T, got["array"], t).any()


def _half_overflow(exp, got, tol):
    """inf or NaN in a float16 / bfloat16 result where the IoU is a number: the areas overflowed."""
    e = exp["options"][0] if exp["kind"] == "one_of" else exp
    if got.get("kind") != "tensor" or got.get("dtype") not in HALF_DTYPES or got.get("array") is None \
            or e.get("array") is None or e["array"].shape != got["array"].shape:
        return False
    g = got["array"].astype(float)
    return bool((~np.isfinite(g) & np.isfinite(e["array"].astype(float))).any())


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
    "union_eps": Mistake("An epsilon was added to the union (union + 1e-7 or so): for small boxes "
                         "(sides of 0.01 in [-1, 1] units) it changes the IoU visibly. Guard only the "
                         "0/0: union.clamp(min=torch.finfo(union.dtype).tiny), or torch.where(union > 0, "
                         "inter / union, 0)."),
    "half_overflow": Mistake("inf or NaN in a float16 result: the areas of pixel boxes overflow float16 "
                             "(largest value 65504). Compute in float32 (box_a.float()), as torchvision's "
                             "box_iou does; a float32 result is accepted.", detect=_half_overflow),
    "int_boxes": Mistake("Integer boxes are accepted: convert them first (box_a.float()) and compute in "
                         "float32, as torchvision's box_iou does (the result is float32)."),
}
ERROR_PATTERNS = [(r"finfo\(\) requires a floating point|not implemented for '(Long|Int|Short|Char|Byte)'",
                   "int_boxes")]
BOX_ARGS = (0, 1)   # box_a, box_b: tagged with their units and sizes (cases.Case.tags)
IOU = ("transposed", "plus_one", "xywh", "no_clamp", "union_without_intersection",
       "nan_for_empty", "union_eps", "half_overflow", "int_boxes")


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
PERM = (2, 0, 3, 1)

# torchvision's own test data for box_iou (test/test_ops.py, TestBoxIou), with its expected IoUs
# (atol 1e-4 for the integer boxes, 2e-3 for float16, 1e-3 for float32 and float64).
TV_INT_BOXES = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300], [0, 0, 25, 25]]
TV_INT_BOXES2 = [[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300]]
TV_INT_EXPECTED = [[1.0, 0.25, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0625, 0.25, 0.0]]
TV_FLOAT_BOXES = [[285.3538, 185.5758, 1193.5110, 851.4551],   # about 900 x 650 pixels: the
                  [285.1472, 188.7374, 1192.4984, 851.0669],   # areas overflow float16 (65504)
                  [279.2440, 197.9812, 1189.4746, 849.2019]]
TV_FLOAT_EXPECTED = [[1.0, 0.9933, 0.9673], [0.9933, 1.0, 0.9737], [0.9673, 0.9737, 1.0]]


def small_boxes(seed, n, side=0.01):
    """n overlapping boxes of about `side` x `side` near the origin, in [-1, 1] units."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-side, side, size=(n, 2))
    wh = rng.uniform(0.5, 1.5, size=(n, 2)) * side
    return np.round(np.concatenate([xy, xy + wh], axis=1) * 2 ** 16) / 2 ** 16


EDGE = dict(edge=True, mistakes=IOU)   # a function returning zeros passes these: they count only with others

CASES = [
    Case(EX, "each box against itself gives IoU 1 (the diagonal); the two different boxes overlap by 1/9",
         (pair([[0, 0, 2, 2], [1, 1, 4, 3]], [[0, 0, 2, 2], [1, 1, 4, 3]]),), mistakes=IOU),
    Case(EX, "disjoint boxes have IoU 0",
         (pair([[0, 0, 1, 1]], [[2, 2, 3, 3], [2, 0, 3, 1]]),), **EDGE),
    Case(EX, "boxes that only touch (edge or corner) have IoU 0",
         (pair([[0, 0, 1, 1]], [[1, 0, 2, 1], [1, 1, 2, 2], [0, 1, 1, 2]]),), **EDGE),
    Case(EX, "a box nested in another has IoU equal to their area ratio",
         (pair([[0, 0, 4, 4]], [[1, 1, 2, 2]]),), mistakes=IOU),
    Case(EX, "a 2 x 3 case gives a [2, 3] result, entry [i, j] = IoU(box_a[i], box_b[j])",
         (pair([[0, 0, 2, 2], [1, 1, 3, 3]], [[1, 1, 3, 3], [0, 0, 1, 1], [2, 0, 4, 2]]),),
         points=2, about=("shape",), mistakes=IOU),
    Case(EX, "empty boxes (zero area) give 0, never NaN",
         (pair([[1, 1, 1, 1], [0, 0, 2, 2]], [[1, 1, 1, 1], [3, 3, 3, 3]]),), **EDGE),
    Case(EX, "N = 0 gives an empty [0, M] result",
         (pair(np.zeros((0, 4)), [[0, 0, 1, 1], [0, 0, 2, 2], [1, 1, 2, 2]]),), **EDGE),
    Case(EX, "random float32 boxes in pixels agree with torchvision's box_iou, in float32",
         (pair(random_boxes(1, 7, scale=224), random_boxes(2, 5, scale=224)),), points=2,
         reference="torchvision", about=("dtype",), mistakes=IOU),
    Case(EX, "float64 boxes in [-1, 1] keep their dtype and agree with box_iou",
         (pair(random_boxes(3, 5, scale=2, offset=-1), random_boxes(4, 4, scale=2, offset=-1),
               dtype="float64"),), reference="torchvision", mistakes=IOU),
    Case(EX, "small boxes (sides of about 0.01 in [-1, 1] units) get their exact IoU",
         (pair(small_boxes(5, 4), small_boxes(6, 3)),), mistakes=IOU),
    Case(EX, "torchvision's box_iou test: integer (int64) boxes give float32 IoUs",
         (pair(TV_INT_BOXES, TV_INT_BOXES2, dtype="int64"),), reference="torchvision",
         about=("dtype",), mistakes=IOU),
    Case(EX, "torchvision's box_iou test: float16 boxes of about 900 x 650 pixels never overflow "
             "(computed in float32)",
         (pair(TV_FLOAT_BOXES, TV_FLOAT_BOXES, dtype="float16"),), reference="torchvision",
         mistakes=IOU),
    Case(EX, "non-contiguous boxes (a transposed view) work",
         (pair(random_boxes(7, 4, scale=10), random_boxes(8, 3, scale=10), layout="transposed"),),
         mistakes=IOU),
    Case(EX, "strided boxes (every other row of a larger tensor) work",
         (pair(random_boxes(9, 3, scale=30), random_boxes(10, 4, scale=30), layout="strided"),),
         mistakes=IOU),
    Case(EX, "symmetry: jaccard(b, a) is jaccard(a, b) transposed",
         (pair(A4, B6), pair(B6, A4)), compare="symmetric", mistakes=IOU),
    Case(EX, "reordering box_a reorders the rows the same way",
         (pair(A4, B6), pair(A4[list(PERM)], B6)), compare="rows_permuted",
         meta={"perm": list(PERM)}, mistakes=IOU),
    # Timed by the grader's own clock (the child's could be patched); the limit leaves room for
    # a busy machine: the vectorised reference takes 0.1-0.6 s, a loop over pairs minutes.
    Case(EX, "2000 x 2000 boxes: the right IoUs in well under a second (limit 5 s, for busy machines)",
         (Call((tensor(tiles(40, 50, 8.0)), tensor(tiles(40, 50, 8.0, shift=4.0))),
               time_limit=10.0),), points=2, max_seconds=5.0,
         # float32 boxes of 8 pixels, none empty: the NaN, epsilon, float16 and integer mistakes
         # give the right IoUs here, and each prediction kept is 16 MB in every grader's cache
         mistakes=tuple(m for m in IOU if m not in ("nan_for_empty", "union_eps", "half_overflow",
                                                    "int_boxes"))),
]
