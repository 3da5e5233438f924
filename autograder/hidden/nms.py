"""Hidden cases of exercise 6, nms (grader only)."""
import numpy as np

from autograder.cases import Case, random_boxes, random_permutation
from autograder.cases.nms import EX, NMS, distinct_scores, nms


def kept_by_greedy(boxes, scores, overlap=0.5):
    """The boxes and scores greedy NMS keeps (numpy, float64: inputs for the idempotence case)."""
    tl = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    br = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.clip(br - tl, 0, None).prod(axis=2)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / (area[:, None] + area[None, :] - inter)
    keep, remaining = [], list(np.argsort(-scores, kind="stable"))
    while remaining:
        best, remaining = remaining[0], remaining[1:]
        keep.append(best)
        # well away from the threshold, so float32 and float64 agree on every decision
        assert all(abs(iou[best, j] - overlap) > 1e-3 for j in remaining)
        remaining = [j for j in remaining if iou[best, j] <= overlap]
    return boxes[keep], scores[keep]


BOXES40, SCORES40 = random_boxes(71, 40, scale=100), distinct_scores(72, 40)
KEPT_BOXES, KEPT_SCORES = kept_by_greedy(BOXES40, SCORES40)
PERM = random_permutation(73, 25)
B25, S25 = random_boxes(74, 25, scale=60), distinct_scores(75, 25)
CLUSTERS = [[0, 0, 4, 4], [0.5, 0, 4.5, 4], [8, 8, 12, 12], [8, 8.5, 12, 12.5], [16, 0, 20, 4]]

CASES = [
    Case(EX, "top_k = 1",
         (nms(random_boxes(76, 6, scale=30), distinct_scores(77, 6), top_k=1),), mistakes=NMS),
    Case(EX, "overlap = 0.3 suppresses more (agrees with torchvision)",
         (nms(random_boxes(78, 20, scale=50), distinct_scores(79, 20), overlap=0.3),),
         reference="torchvision", mistakes=NMS),
    Case(EX, "running NMS again on the boxes it kept keeps all of them (idempotence)",
         (nms(KEPT_BOXES, KEPT_SCORES),), mistakes=NMS),
    Case(EX, "shuffling the boxes keeps the same boxes (invariance to box order)",
         (nms(B25, S25), nms(B25[PERM], S25[PERM])), compare="order_invariant",
         meta={"perm": PERM.tolist()}, mistakes=NMS),
    Case(EX, "float64 boxes and scores agree with torchvision",
         (nms(random_boxes(80, 15, scale=20), distinct_scores(81, 15), dtype="float64"),),
         reference="torchvision", mistakes=NMS),
    Case(EX, "float16 boxes and scores", (nms(CLUSTERS, [0.5, 0.75, 0.25, 0.875, 0.125],
                                              dtype="float16"),), mistakes=NMS),
    Case(EX, "non-contiguous boxes (a transposed view) work",
         (nms(random_boxes(82, 12, scale=40), distinct_scores(83, 12), layout="transposed"),),
         mistakes=NMS),
    Case(EX, "identical boxes with different scores",
         (nms([[1, 1, 5, 5]] * 4, [0.3, 0.6, 0.2, 0.5]),), mistakes=NMS),
    Case(EX, "IoU exactly at overlap=0.25",
         (nms([[0, 0, 4, 1], [0, 0, 1, 1]], [0.5, 0.6], overlap=0.25),), mistakes=NMS),
    Case(EX, "more boxes than top_k, with overlaps among the candidates",
         (nms(random_boxes(84, 60, scale=80), distinct_scores(85, 60), top_k=20),), mistakes=NMS),
]
