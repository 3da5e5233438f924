"""Exercise 6, `nms(boxes, scores, overlap=0.5, top_k=100) -> Tensor[K]` (lesson 07): its public
cases, the mistakes they recognise and the properties they check."""
import numpy as np

from autograder import verdict
from autograder.cases import Call, Case, Mistake, py, random_boxes, tensor
from autograder.cases.jaccard import TV_FLOAT_BOXES

EX = "nms"


# --- mistakes: the hint of each, and a detector for those recognised by the output's form -----

def _keep_count(exp, got, tol):
    return (got.get("kind") in ("tuple", "list") and len(got["items"]) == 2
            and verdict.agrees(exp, got["items"][0], tol))


def _ascending(exp, got, tol):
    options = exp["options"] if exp["kind"] == "one_of" else [exp]
    return got.get("array") is not None and got.get("kind") == "tensor" and any(
        o["array"].shape == got["array"].shape and o["array"].size > 1
        and (o["array"][::-1] == got["array"]).all() for o in options)


def _bool_mask(exp, got, tol):
    return got.get("kind") == "tensor" and got["dtype"] == "bool"


MISTAKES = {
    "suppress_at_threshold": Mistake("A box whose IoU equals `overlap` was suppressed: suppress only "
                                     "when IoU > overlap (strictly); equal survives."),
    "keep_count": Mistake("Returned (keep, count) like the blog's NMS: return only the kept indices, "
                          "a Tensor[K] of int64.", detect=_keep_count),
    "top_k_ignored": Mistake("Only the top_k highest-scoring boxes are candidates: cut the "
                             "score-sorted order to top_k before suppressing."),
    "sorted_positions": Mistake("The indices point into the score-sorted order: map them back to the "
                                "original boxes (order[keep])."),
    "ascending": Mistake("The right boxes, in the wrong order: return them highest score first.",
                         detect=_ascending),
    "bool_mask": Mistake("Returned a mask: return the int64 indices of the kept boxes, highest score "
                         "first.", detect=_bool_mask),
    "union_eps": Mistake("The IoU has an epsilon added to its union (union + 1e-7 or so): for small "
                         "boxes that lowers the IoU enough to keep a box whose IoU is just above "
                         "`overlap`. Guard only the 0/0: union.clamp(min=torch.finfo(union.dtype).tiny)."),
    "nan_drops_empty": Mistake("Two zero-area boxes gave IoU NaN (0/0), and `iou <= overlap` is False for "
                               "NaN, so one of them was dropped: guard the division, their IoU is 0 "
                               "(torchvision keeps such boxes too)."),
    "int_boxes": Mistake("Integer boxes are accepted: convert them to float32 first (boxes.float()); "
                         "torchvision's nms needs floating-point boxes too."),
    "half_kernel": Mistake("float16 and bfloat16 boxes are accepted, and torchvision's CPU nms has no "
                           "kernel for them: compare in float32 (boxes.float(), scores.float())."),
}
ERROR_PATTERNS = [(r"finfo\(\) requires a floating point|not implemented for '(Long|Int|Short|Char|Byte)'",
                   "int_boxes"),
                  (r"not implemented for '(Half|BFloat16)'", "half_kernel")]
BOX_ARGS = (0,)     # boxes: tagged with their units and sizes (cases.Case.tags)
PICTURE = True      # check() in a notebook draws a failing case: which boxes were kept
NMS = ("suppress_at_threshold", "keep_count", "top_k_ignored", "sorted_positions", "ascending",
       "bool_mask", "union_eps", "nan_drops_empty", "int_boxes", "half_kernel")


# --- properties: relations between the outputs of a case's calls -------------------------------

def _order_invariant(case, expects, results):
    perm = np.asarray(case.meta["perm"])
    a, b = results[0]["output"].get("array"), results[1]["output"].get("array")
    if a is None or b is None or b.size and (b.min() < 0 or b.max() >= perm.size) \
            or not np.array_equal(perm[b] if b.size else b, a):
        return "shuffling the input boxes changed which boxes are kept"
    return None


PROPERTIES = {"order_invariant": _order_invariant}
PERM8 = [3, 7, 0, 5, 1, 6, 2, 4]


# --- cases ------------------------------------------------------------------------------------

def nms(boxes, scores, dtype="float32", layout="contiguous", **kwargs):
    return Call((tensor(boxes, dtype=dtype, layout=layout), tensor(scores, dtype=dtype)),
                kwargs={k: py(v) for k, v in kwargs.items()})


def distinct_scores(seed, n):
    """n different scores in (0, 1)."""
    return (np.random.default_rng(seed).permutation(n) + 1) / (n + 1)


def boxes_with_iou(seed, n, iou):
    """torchvision's NMS test input (test_ops.py, `_create_tensors_with_iou`), seeded with numpy:
    n random boxes of up to 100 pixels, the last one a widened copy of the first whose IoU with
    it is `iou` + 1e-5, just above the threshold; the first box scores best, so the last is
    suppressed."""
    rng = np.random.default_rng(seed)
    boxes = rng.uniform(0, 100, size=(n, 4))
    boxes[:, 2:] += boxes[:, :2]
    boxes[-1] = boxes[0]
    x0, _, x1, _ = boxes[-1]
    target = iou + 1e-5
    boxes[-1, 2] += (x1 - x0) * (1 - target) / target
    scores = rng.uniform(0, 0.99, size=n)
    scores[0] = 1.0     # the first box is kept first, so the last one must go (torchvision leaves it to chance)
    return boxes.astype(np.float32).astype(np.float64), scores


def just_above(delta, side=0.01, at=(-0.5, -0.5)):
    """Two small boxes (sides of `side`, [-1, 1] units) whose IoU is 0.5 + `delta`, first one first."""
    x, y = at
    widened = side / (0.5 + delta)    # IoU = side / widened
    return [[x, y, x + side, y + side], [x, y, x + widened, y + side]]


# Three pairs just above 0.5: an epsilon of 1e-7, 1e-6 or 1e-5 on the union flips one of them.
SMALL = [*just_above(1e-4), *just_above(1e-3, at=(0.0, -0.5)), *just_above(1e-2, at=(0.5, 0.0))]
ZERO_AREA = [[0, 0, 10, 10], [5, 5, 5, 5], [5, 5, 5, 5], [20, 20, 30, 30], [2, 2, 9, 9]]

CASES = [
    Case(EX, "a cluster of overlapping boxes keeps only its best box",
         (nms([[0, 0, 10, 10], [1, 1, 11, 11], [0, 1, 10, 11], [20, 20, 30, 30]],
              [0.9, 0.8, 0.95, 0.5]),), points=2, mistakes=NMS),
    Case(EX, "disjoint boxes are all kept, highest score first",
         (nms([[0, 0, 1, 1], [2, 0, 3, 1], [4, 0, 5, 1], [6, 0, 7, 1]], [0.2, 0.9, 0.5, 0.7]),),
         mistakes=NMS),
    Case(EX, "a box whose IoU equals the threshold survives (suppression is strictly greater)",
         (nms([[0, 0, 2, 1], [0, 0, 1, 1], [0, 0, 2, 1.2]], [0.9, 0.8, 0.7], overlap=0.5),),
         points=2, mistakes=NMS),
    Case(EX, "only the top_k highest-scoring boxes are candidates",
         (nms([[0, 0, 1, 1], [2, 0, 3, 1], [4, 0, 5, 1], [6, 0, 7, 1], [8, 0, 9, 1]],
              [0.3, 0.9, 0.5, 0.7, 0.1], top_k=3),), mistakes=NMS),
    Case(EX, "no boxes give an empty int64 tensor",
         (nms(np.zeros((0, 4)), np.zeros(0)),), edge=True, about=("dtype",), mistakes=NMS),
    Case(EX, "random boxes with distinct scores agree with torchvision.ops.nms",
         (nms(random_boxes(3, 30, scale=100), distinct_scores(4, 30)),), points=2,
         reference="torchvision", mistakes=NMS),
    Case(EX, "tied scores: any greedy order among the ties is accepted",
         (nms([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [21, 0, 31, 10], [40, 0, 50, 10]],
              [0.8, 0.8, 0.6, 0.6, 0.9]),), reference="nms_tie_orders", mistakes=NMS),
    Case(EX, "small boxes ([-1, 1] units) whose IoU is just above 0.5 are suppressed",
         (nms(SMALL, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]),), mistakes=NMS),
    Case(EX, "zero-area boxes have IoU 0 with every box: none is suppressed, none suppresses",
         (nms(ZERO_AREA, [0.9, 0.8, 0.7, 0.6, 0.5]),), mistakes=NMS),
    Case(EX, "torchvision's nms test: a box at IoU 0.5 + 1e-5 with a better one is suppressed",
         (nms(*boxes_with_iou(5, 100, 0.5)),), reference="torchvision", mistakes=NMS),
    Case(EX, "torchvision's nms test: float16 boxes of about 900 x 650 pixels keep what float32 keeps",
         (nms(TV_FLOAT_BOXES, [0.6370, 0.7569, 0.3966], dtype="float16", overlap=0.2),),
         mistakes=NMS),
    Case(EX, "float64 boxes and scores agree with torchvision",
         (nms(random_boxes(6, 12, scale=20), distinct_scores(7, 12), dtype="float64"),),
         reference="torchvision", mistakes=NMS),
    Case(EX, "integer (int64) boxes are accepted (their IoUs computed in float32)",
         (Call((tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10]], dtype="int64"),
                tensor([0.5, 0.9, 0.4, 0.8]))),), about=("dtype",), mistakes=NMS),
    Case(EX, "non-contiguous boxes (a transposed view) work",
         (nms(random_boxes(8, 10, scale=40), distinct_scores(9, 10), layout="transposed"),),
         mistakes=NMS),
    Case(EX, "shuffling the boxes keeps the same boxes (invariance to box order)",
         (nms(random_boxes(10, 8, scale=30), distinct_scores(11, 8)),
          nms(random_boxes(10, 8, scale=30)[PERM8], distinct_scores(11, 8)[PERM8])),
         compare="order_invariant", meta={"perm": PERM8}, mistakes=NMS),
]
