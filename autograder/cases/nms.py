"""Exercise 6, `nms(boxes, scores, overlap=0.5, top_k=100) -> Tensor[K]` (lesson 07): its public
cases, the mistakes they recognise and the properties they check."""
import numpy as np

from autograder import verdict
from autograder.cases import Call, Case, Mistake, py, random_boxes, tensor

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
}
ERROR_PATTERNS = []
NMS = ("suppress_at_threshold", "keep_count", "top_k_ignored", "sorted_positions", "ascending",
       "bool_mask")


# --- properties: relations between the outputs of a case's calls -------------------------------

def _order_invariant(case, expects, results):
    perm = np.asarray(case.meta["perm"])
    a, b = results[0]["output"].get("array"), results[1]["output"].get("array")
    if a is None or b is None or b.size and (b.min() < 0 or b.max() >= perm.size) \
            or not np.array_equal(perm[b] if b.size else b, a):
        return "shuffling the input boxes changed which boxes are kept"
    return None


PROPERTIES = {"order_invariant": _order_invariant}


# --- cases ------------------------------------------------------------------------------------

def nms(boxes, scores, dtype="float32", layout="contiguous", **kwargs):
    return Call((tensor(boxes, dtype=dtype, layout=layout), tensor(scores, dtype=dtype)),
                kwargs={k: py(v) for k, v in kwargs.items()})


def distinct_scores(seed, n):
    """n different scores in (0, 1)."""
    return (np.random.default_rng(seed).permutation(n) + 1) / (n + 1)


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
         (nms(np.zeros((0, 4)), np.zeros(0)),), mistakes=NMS),
    Case(EX, "random boxes with distinct scores agree with torchvision.ops.nms",
         (nms(random_boxes(3, 30, scale=100), distinct_scores(4, 30)),), points=2,
         reference="torchvision", mistakes=NMS),
    Case(EX, "tied scores: any greedy order among the ties is accepted",
         (nms([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [21, 0, 31, 10], [40, 0, 50, 10]],
              [0.8, 0.8, 0.6, 0.6, 0.9]),), reference="nms_tie_orders", mistakes=NMS),
]
