"""From the model's activations to detections: scores, a threshold per class, then NMS.

    class logits [B, A, C] --sigmoid--> scores [B, A, C-1]  (background column dropped)
    box activations [B, A, 4] --actn_to_bb--> boxes [B, A, 4]  (xyxy in [0, 1])
    keep (anchor, class) pairs scoring above `score_thresh`, at most `top_k` per class
    --nms (exercise 6), class by class--> detections per image

Scores, boxes and the threshold are computed for the whole batch at once; NMS
runs once per image, on all its classes together: each class's boxes are moved
to a square of their own (an offset of 2 per class in [0, 1] units), so boxes of
different classes never overlap and never suppress each other.
"""
import torch

from ssd_course import impl
from ssd_course.loss import actn_to_bb
from ssd_course.data import plain

SCORE_THRESH = 0.25   # the blog's; use ~0.05 for mAP (low-scoring boxes still add recall)
NMS_OVERLAP = 0.4     # the blog's: a box overlapping a better one of its class more than this goes
TOP_K = 50            # the blog's: candidates per class and image
MAX_DETECTIONS = 100  # per image, as COCO evaluates


def detect(clas, bbox, anchors, grid_sizes, score_thresh: float = SCORE_THRESH,
           overlap: float = NMS_OVERLAP, top_k: int = TOP_K, max_detections: int = MAX_DETECTIONS):
    """Detections of a batch, after a score threshold and per-class non-maximum suppression.

    Args:
        clas (Tensor[B, A, C]): class logits, column 0 the background.
        bbox (Tensor[B, A, 4]): box activations.
        anchors (Tensor[A, 4]): ``cxcywh`` in [0, 1]; grid_sizes (Tensor[A, 1]): from `make_anchors`.
        score_thresh (float): a class's sigmoid score must be above this.
        overlap (float): NMS's IoU threshold; top_k (int): candidates per class and image.
        max_detections (int): the best this many of an image are kept.

    Returns:
        list of B dicts ``{"boxes": Tensor[K, 4] xyxy in [0, 1], "scores": Tensor[K],
        "labels": Tensor[K] int64 vocab indices (1..C-1)}``, best score first, on the
        inputs' device (the format torchmetrics' mAP takes).
    """
    clas, bbox = plain(clas).detach(), plain(bbox).detach()
    scores = clas[..., 1:].sigmoid()                            # [B, A, C-1]
    boxes = actn_to_bb(bbox, anchors, grid_sizes).clamp(0, 1)   # [B, A, 4] xyxy in [0, 1]
    candidates = scores > score_thresh                          # [B, A, C-1]
    return [_detect_one(boxes[i], scores[i], candidates[i], overlap, top_k, max_detections)
            for i in range(len(clas))]


def _detect_one(boxes, scores, candidates, overlap, top_k, max_detections):
    """One image: boxes [A, 4], scores [A, C-1], candidates [A, C-1] bool -> dict of detections."""
    anchor, cls = candidates.nonzero(as_tuple=True)             # [N], [N]: (anchor, class) pairs
    score = scores[anchor, cls]                                 # [N]
    anchor, cls, score = _top_k_per_class(anchor, cls, score, top_k)
    shifted = boxes[anchor] + 2.0 * cls[:, None].to(boxes)      # [N, 4]: one square per class
    keep = impl.nms(shifted, score, overlap=overlap, top_k=len(score))[:max_detections]
    return {"boxes": boxes[anchor[keep]], "scores": score[keep], "labels": cls[keep] + 1}


def _top_k_per_class(anchor, cls, score, k):
    """Keep the `k` best-scoring candidates of each class (as the blog's per-class nms(top_k) does)."""
    order = score.argsort(descending=True, stable=True)         # best first
    anchor, cls, score = anchor[order], cls[order], score[order]
    by_class = cls.argsort(stable=True)                         # grouped by class, best first in each
    first = torch.searchsorted(cls[by_class], cls[by_class])    # where each candidate's class starts
    rank = torch.empty_like(by_class)
    rank[by_class] = torch.arange(len(cls), device=cls.device) - first   # rank within its class
    keep = rank < k
    return anchor[keep], cls[keep], score[keep]

