"""Hidden cases of exercise 4, map_to_ground_truth (grader only)."""
from autograder.cases import Case
from autograder.cases.matching import EX, MATCH, iou_like, overlaps

CASES = [
    Case(EX, "a ground truth that overlaps no anchor",
         (overlaps([[0, 0, 0, 0], [0.2, 0.6, 0.1, 0.0]]),), mistakes=MATCH),
    Case(EX, "three ground truths sharing one best anchor",
         (overlaps([[0.9, 0.1, 0.2], [0.8, 0.3, 0.1], [0.7, 0.2, 0.6]]),), mistakes=MATCH),
    Case(EX, "float64 overlaps keep their dtype and gt_idx is int64",
         (overlaps(iou_like(41, 4, 20), dtype="float64"),), mistakes=MATCH),
    Case(EX, "non-contiguous overlaps (a transposed view) work",
         (overlaps(iou_like(42, 3, 10), layout="transposed"),), mistakes=MATCH),
    Case(EX, "5 ground truths and 189 anchors (seeded)", (overlaps(iou_like(43, 5, 189)),),
         mistakes=MATCH),
    Case(EX, "ties for a ground truth's best anchor",
         (overlaps([[0.2, 0.7, 0.7, 0.1], [0.6, 0.1, 0.0, 0.3]]),), mistakes=MATCH),
    Case(EX, "strided overlaps with 2 ground truths", (overlaps(iou_like(44, 2, 7), layout="strided"),),
         mistakes=MATCH),
]
