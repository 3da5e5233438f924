"""Exercise 4, `map_to_ground_truth(overlaps)` (lesson 04): its public cases and the mistakes
they recognise."""
import numpy as np

from autograder import verdict
from autograder.cases import Call, Case, Mistake, tensor

EX = "matching"


def _max_over_anchors(exp, got, tol):
    pairs = verdict.tensor_pairs(exp, got)
    return bool(pairs) and len(pairs[0][0]["shape"]) == 1 and \
        verdict.shape_of(pairs[0][1]) != verdict.shape_of(pairs[0][0])


MISTAKES = {
    "forced_missing": Mistake("No forced matches: after the per-anchor max, every ground truth g "
                              "claims its best anchor a_g (overlaps.max(1)): gt_overlap[a_g] = 1.99, "
                              "gt_idx[a_g] = g."),
    "first_wins": Mistake("Two ground truths share a best anchor and the first one won: the later "
                          "one must win, as in the blog's loop over g = 0..G-1. Make that order "
                          "explicit (a loop over g, or scatter_reduce with 'amax' over the indices)."),
    "forced_idx_missing": Mistake("Forced anchors got 1.99 but kept their old gt_idx: set "
                                  "gt_idx[a_g] = g as well."),
    "last_index_ties": Mistake("Ties between ground truths must go to the first index, as Tensor.max "
                               "gives; yours takes the last."),
    "max_over_anchors": Mistake("overlaps is [G, A]: each anchor's best ground truth is a max over "
                                "dim 0, giving results of shape [A].", detect=_max_over_anchors),
}
ERROR_PATTERNS = []
PROPERTIES = {}
MATCH = ("forced_missing", "first_wins", "forced_idx_missing", "last_index_ties", "max_over_anchors")
OUTPUTS = ("gt_overlap", "gt_idx")    # the contract's names of the result's parts


def overlaps(values, **spec):
    return Call((tensor(values, **spec),))


def iou_like(seed, G, A):
    """Seeded IoU-like values in [0, 1), on a 1/256 grid (exact in float32)."""
    return np.floor(np.random.default_rng(seed).uniform(0, 1, size=(G, A)) * 256) / 256


CASES = [
    Case(EX, "each anchor takes the ground truth it overlaps most",
         (overlaps([[0.6, 0.1, 0.3, 0.0, 0.2, 0.45], [0.1, 0.5, 0.2, 0.7, 0.0, 0.4]]),),
         points=2, mistakes=MATCH),
    Case(EX, "every ground truth claims its best anchor with 1.99, even from another",
         (overlaps([[0.9, 0.7, 0.1, 0.0], [0.3, 0.6, 0.2, 0.1]]),), points=2, mistakes=MATCH),
    Case(EX, "two ground truths sharing a best anchor: the later one wins",
         (overlaps([[0.8, 0.3, 0.1], [0.7, 0.2, 0.5]]),), points=2, mistakes=MATCH),
    Case(EX, "ties between ground truths go to the first index",
         (overlaps([[0.5, 0.2, 0.9, 0.3, 0.1], [0.5, 0.4, 0.1, 0.3, 0.8],
                    [0.3, 0.4, 0.0, 0.1, 0.85]]),), mistakes=MATCH),
    Case(EX, "a single ground truth (G = 1) claims its best anchor",
         (overlaps([[0.1, 0.4, 0.35, 0.0, 0.2, 0.05, 0.3, 0.15]]),), mistakes=MATCH),
    Case(EX, "3 ground truths and 16 anchors (seeded): gt_overlap float32, gt_idx int64",
         (overlaps(iou_like(1, 3, 16)),), about=("dtype",), mistakes=MATCH),
    Case(EX, "float64 overlaps give a float64 gt_overlap (gt_idx stays int64)",
         (overlaps(iou_like(2, 2, 9), dtype="float64"),), mistakes=MATCH),
    Case(EX, "non-contiguous overlaps (a transposed view) work",
         (overlaps(iou_like(3, 3, 8), layout="transposed"),), mistakes=MATCH),
    Case(EX, "strided overlaps (every other row of a larger tensor) work",
         (overlaps(iou_like(4, 3, 6), layout="strided"),), mistakes=MATCH),
]
