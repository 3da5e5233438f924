"""Exercise 4, map_to_ground_truth, for the grader only: its hidden cases and the code of its
mistakes."""
from autograder.cases import Case
from autograder.cases.matching import EX, MATCH, iou_like, overlaps
from autograder.hidden.variants import Variants

CASES = [
    Case(EX, "a ground truth that overlaps no anchor",
         (overlaps([[0, 0, 0, 0], [0.2, 0.6, 0.1, 0.0]]),), mistakes=MATCH),
    Case(EX, "three ground truths sharing one best anchor",
         (overlaps([[0.9, 0.1, 0.2], [0.8, 0.3, 0.1], [0.7, 0.2, 0.6]]),), mistakes=MATCH),
    Case(EX, "float64 overlaps keep their dtype and gt_idx is int64",
         (overlaps(iou_like(41, 4, 20), dtype="float64"),), mistakes=MATCH),
    Case(EX, "non-contiguous overlaps of 3 x 10 (a transposed view) work",
         (overlaps(iou_like(42, 3, 10), layout="transposed"),), mistakes=MATCH),
    Case(EX, "5 ground truths and 189 anchors (seeded)", (overlaps(iou_like(43, 5, 189)),),
         mistakes=MATCH),
    Case(EX, "ties for a ground truth's best anchor",
         (overlaps([[0.2, 0.7, 0.7, 0.1], [0.6, 0.1, 0.0, 0.3]]),), mistakes=MATCH),
    Case(EX, "strided overlaps with 2 ground truths", (overlaps(iou_like(44, 2, 7), layout="strided"),),
         mistakes=MATCH),
]


# --- the mistakes' code ----------------------------------------------------------------------

def _match(overlaps, forced=True, set_idx=True, order=None, last_tie=False):
    G, A = overlaps.shape
    if last_tie:
        flipped = overlaps.flip(0)
        gt_overlap, idx = flipped.max(0)
        gt_idx = G - 1 - idx
    else:
        gt_overlap, gt_idx = overlaps.max(0)
    gt_overlap, gt_idx = gt_overlap.clone(), gt_idx.clone()
    if forced:
        best = overlaps.max(1).indices
        for g in (order or range(G)):
            gt_overlap[best[g]] = 1.99
            if set_idx:
                gt_idx[best[g]] = g
    return gt_overlap, gt_idx


VARIANTS = Variants(EX, CASES, mistakes={
    "forced_missing": lambda o: _match(o, forced=False),
    "first_wins": lambda o: _match(o, order=range(o.shape[0] - 1, -1, -1)),
    "forced_idx_missing": lambda o: _match(o, set_idx=False),
    "last_index_ties": lambda o: _match(o, last_tie=True),
}, alternatives={})
