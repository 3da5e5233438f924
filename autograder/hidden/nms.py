"""Exercise 6, nms, for the grader only: its hidden cases, the code of its mistakes, every valid
answer of a case with tied scores, and torchvision's nms as a reference."""
import itertools

import numpy as np
import torch

from autograder.cases import Case, random_boxes, random_permutation
from autograder.cases.nms import EX, NMS, distinct_scores, nms
from autograder.hidden.variants import OneOf, Variants, iou


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


# --- the mistakes' code, the tie orders and the reference ------------------------------------

def _greedy(boxes, order, overlap, strict=True):
    """Greedy NMS over candidates in the given order (IoU computed as the solution does)."""
    if len(order) == 0:
        return torch.zeros(0, dtype=torch.int64)
    cand = boxes[torch.as_tensor(order)]
    ious = iou(cand, cand)
    keep, remaining = [], list(range(len(order)))
    while remaining:
        best, rest = remaining[0], remaining[1:]
        keep.append(order[best])
        remaining = [j for j in rest if (ious[best, j] <= overlap if strict else ious[best, j] < overlap)]
    return torch.tensor(keep, dtype=torch.int64)


def _score_order(scores):
    return scores.argsort(descending=True, stable=True).tolist()


def _positions(boxes, scores, overlap, top_k):
    order = _score_order(scores)[:top_k]
    keep = _greedy(boxes, order, overlap).tolist()
    return torch.tensor([order.index(i) for i in keep], dtype=torch.int64)


def nms_tie_orders(boxes, scores, overlap=0.5, top_k=100):
    """Every answer greedy NMS can give when tied scores may be taken in any order."""
    values = scores.tolist()
    groups = [list(g) for _, g in itertools.groupby(_score_order(scores), key=lambda i: values[i])]
    n_orders = 1
    for g in groups:
        n_orders *= len(list(itertools.permutations(g)))
    if n_orders > 50_000:
        raise ValueError("too many tie orders for an exhaustive tie case; use fewer ties")
    answers = {}
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [i for p in perms for i in p][:top_k]
        keep = _greedy(boxes, order, overlap)
        answers.setdefault(tuple(keep.tolist()), keep)
    return OneOf(answers.values())


def _tv_nms(boxes, scores, overlap=0.5, top_k=100):
    from torchvision.ops import nms as tv_nms
    order = scores.argsort(descending=True, stable=True)[:top_k]
    return order[tv_nms(boxes[order], scores[order], overlap)]


VARIANTS = Variants(EX, CASES, mistakes={
    "suppress_at_threshold": lambda b, s, overlap=0.5, top_k=100:
        _greedy(b, _score_order(s)[:top_k], overlap, strict=False),
    "top_k_ignored": lambda b, s, overlap=0.5, top_k=100: _greedy(b, _score_order(s), overlap),
    "sorted_positions": lambda b, s, overlap=0.5, top_k=100: _positions(b, s, overlap, top_k),
}, alternatives={"torchvision": _tv_nms, "nms_tie_orders": nms_tie_orders})
