"""Exercise 6, nms, for the grader only: its hidden cases, the code of its mistakes, every valid
answer of a case with tied scores, and torchvision's nms as a reference."""
import itertools

import numpy as np
import torch

from autograder.cases import Call, Case, random_boxes, random_permutation, tensor
from autograder.cases.nms import EX, NMS, boxes_with_iou, distinct_scores, just_above, nms
from autograder.hidden.jaccard import UNION_EPSILONS
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
    Case(EX, "shuffling 25 boxes keeps the same boxes (invariance to box order)",
         (nms(B25, S25), nms(B25[PERM], S25[PERM])), compare="order_invariant",
         meta={"perm": PERM.tolist()}, mistakes=NMS),
    Case(EX, "15 float64 boxes and scores agree with torchvision",
         (nms(random_boxes(80, 15, scale=20), distinct_scores(81, 15), dtype="float64"),),
         reference="torchvision", mistakes=NMS),
    Case(EX, "float16 boxes and scores", (nms(CLUSTERS, [0.5, 0.75, 0.25, 0.875, 0.125],
                                              dtype="float16"),), mistakes=NMS),
    Case(EX, "12 non-contiguous boxes (a transposed view)",
         (nms(random_boxes(82, 12, scale=40), distinct_scores(83, 12), layout="transposed"),),
         mistakes=NMS),
    Case(EX, "identical boxes with different scores",
         (nms([[1, 1, 5, 5]] * 4, [0.3, 0.6, 0.2, 0.5]),), mistakes=NMS),
    Case(EX, "IoU exactly at overlap=0.25",
         (nms([[0, 0, 4, 1], [0, 0, 1, 1]], [0.5, 0.6], overlap=0.25),), mistakes=NMS),
    Case(EX, "more boxes than top_k, with overlaps among the candidates",
         (nms(random_boxes(84, 60, scale=80), distinct_scores(85, 60), top_k=20),), mistakes=NMS),
    Case(EX, "a box at IoU 0.2 + 1e-5 with a better one, overlap=0.2",
         (nms(*boxes_with_iou(86, 100, 0.2), overlap=0.2),), reference="torchvision", mistakes=NMS),
    Case(EX, "a box at IoU 0.8 + 1e-5 with a better one, overlap=0.8",
         (nms(*boxes_with_iou(87, 100, 0.8), overlap=0.8),), reference="torchvision", mistakes=NMS),
    Case(EX, "small boxes just above the threshold, other sizes",
         (nms([*just_above(2e-4, side=0.02, at=(-0.9, 0.1)), *just_above(4e-3, side=0.005)],
              [0.3, 0.2, 0.9, 0.1]),), mistakes=NMS),
    Case(EX, "zero-area boxes among overlapping ones",
         (nms([[1, 1, 1, 1], [0, 0, 4, 4], [1, 1, 1, 1], [1, 0, 5, 4], [3, 3, 3, 3]],
              [0.95, 0.9, 0.85, 0.8, 0.3]),), mistakes=NMS),
    Case(EX, "float16 boxes of 400 to 850 pixels a side",
         (nms(random_boxes(88, 8, scale=900, min_size=0.6), distinct_scores(89, 8), dtype="float16"),),
         mistakes=NMS),
    Case(EX, "integer (int64) boxes in pixels",
         (Call((tensor(np.round(random_boxes(90, 12, scale=60)), dtype="int64"),
                tensor(distinct_scores(91, 12)))),), about=("dtype",), mistakes=NMS),
]


# --- the mistakes' code, the tie orders and the reference ------------------------------------

def _greedy(boxes, order, overlap, strict=True, **how):
    """Greedy NMS over candidates in the given order (IoU computed as the solution does, or as
    `how` says: ``eps`` added to the union, no ``guard`` of 0/0)."""
    if len(order) == 0:
        return torch.zeros(0, dtype=torch.int64)
    cand = boxes[torch.as_tensor(order)]
    ious = iou(cand, cand, **how)
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
    """torchvision's nms under the float policy: half and integer boxes compared in float32."""
    from torchvision.ops import nms as tv_nms
    order = scores.argsort(descending=True, stable=True)[:top_k]
    b, s = boxes[order], scores[order]
    if b.dtype not in (torch.float32, torch.float64):
        b, s = b.float(), s.float()
    return order[tv_nms(b, s, overlap)]


VARIANTS = Variants(EX, CASES, mistakes={
    "suppress_at_threshold": lambda b, s, overlap=0.5, top_k=100:
        _greedy(b, _score_order(s)[:top_k], overlap, strict=False),
    "top_k_ignored": lambda b, s, overlap=0.5, top_k=100: _greedy(b, _score_order(s), overlap),
    "sorted_positions": lambda b, s, overlap=0.5, top_k=100: _positions(b, s, overlap, top_k),
    "union_eps": lambda b, s, overlap=0.5, top_k=100: OneOf(
        _greedy(b, _score_order(s)[:top_k], overlap, eps=e) for e in UNION_EPSILONS),
    "nan_drops_empty": lambda b, s, overlap=0.5, top_k=100:
        _greedy(b, _score_order(s)[:top_k], overlap, guard=False),
}, alternatives={"torchvision": _tv_nms, "nms_tie_orders": nms_tie_orders})
