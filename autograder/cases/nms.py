"""Public cases of exercise 6, `nms(boxes, scores, overlap=0.5, top_k=100) -> Tensor[K]` (lesson 07)."""
import numpy as np

from autograder.cases import Call, Case, py, random_boxes, tensor

EX = "nms"
NMS = ("suppress_at_threshold", "keep_count", "top_k_ignored", "sorted_positions", "ascending",
       "bool_mask")


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
