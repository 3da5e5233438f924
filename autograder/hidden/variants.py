"""Other implementations of the exercises, for the grader's parent process only.

    references   torchvision-based versions (expected values where torchvision has the function)
    alternatives accepted answers that differ from solutions/ (all valid NMS tie orders,
                 a focal loss whose weight is not detached)
    mistakes     the known wrong versions, so that a failing output that equals one of
                 them is explained with the hint of the same name (``autograder.hints``)

Every function takes the arguments of the exercise it stands for. This module is
solution code in all but name: it never ships to students and never enters the
sandbox.
"""
import itertools

import torch
import torch.nn.functional as F


class OneOf(list):
    """Several outputs, each of them a correct answer."""


# --- flatten_conv ------------------------------------------------------------------------------

def _flatten(x, k, order):
    B, kF, H, W = x.shape
    F_ = kF // k
    if order == "no_permute":
        return x.reshape(B, -1, F_)
    if order == "column_major":
        return x.permute(0, 3, 2, 1).reshape(B, -1, F_)
    # anchor_minor: channel c read as (feature c // k, anchor c % k)
    x = x.permute(0, 2, 3, 1).reshape(B, H, W, F_, k)
    return x.transpose(-1, -2).reshape(B, -1, F_)


# --- make_anchors --------------------------------------------------------------------------------

def _anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),), transposed=False, ratio_major=False,
             corner=False, wh_swapped=False, xyxy=False, cell_count=False):
    if ratio_major:
        sizes = [(z * rw, z * rh) for (rw, rh) in ratios for z in zooms]
    else:
        sizes = [(z * rw, z * rh) for z in zooms for (rw, rh) in ratios]
    if wh_swapped:
        sizes = [(h, w) for (w, h) in sizes]
    rows, cells = [], []
    for g in grids:
        for r in range(g):
            for c in range(g):
                cx, cy = ((c, r) if corner else (c + .5, r + .5))
                if transposed:
                    cx, cy = cy, cx
                for (w, h) in sizes:
                    box = [cx / g, cy / g, w / g, h / g]
                    if xyxy:
                        box = [box[0] - box[2] / 2, box[1] - box[3] / 2,
                               box[0] + box[2] / 2, box[1] + box[3] / 2]
                    rows.append(box)
                    cells.append([float(g) if cell_count else 1.0 / g])
    return torch.tensor(rows, dtype=torch.float32), torch.tensor(cells, dtype=torch.float32)


# --- jaccard ----------------------------------------------------------------------------------------

def _iou(a, b, plus=0.0, clamp=True, minus_inter=True):
    tl = torch.max(a[:, None, :2], b[None, :, :2])
    br = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = br - tl + plus
    inter = (wh.clamp(min=0) if clamp else wh).prod(dim=2)
    area_a = (a[:, 2] - a[:, 0] + plus) * (a[:, 3] - a[:, 1] + plus)
    area_b = (b[:, 2] - b[:, 0] + plus) * (b[:, 3] - b[:, 1] + plus)
    union = area_a[:, None] + area_b[None, :] - (inter if minus_inter else 0)
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)


def _xywh_to_xyxy(b):
    return torch.cat([b[:, :2], b[:, :2] + b[:, 2:]], dim=1)


# --- map_to_ground_truth ---------------------------------------------------------------------------

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


# --- focal_loss --------------------------------------------------------------------------------------

def _focal(logits, targets, alpha=0.25, gamma=2.0, keep_background=False, alpha_swapped=False,
           use_gamma=True, divide="C", detach=True):
    C = logits.shape[1]
    t = F.one_hot(targets, C).to(logits)
    x = logits
    if not keep_background:
        t, x = t[:, 1:], x[:, 1:]
    p = x.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    a = (1 - alpha) if alpha_swapped else alpha
    w = a * t + (1 - a) * (1 - t)
    if use_gamma:
        w = w * (1 - p_t) ** gamma
    if detach:
        w = w.detach()
    loss = (w * F.binary_cross_entropy_with_logits(x, t, reduction="none")).sum()
    return {"C": loss / C, "C-1": loss / (C - 1), "none": loss, "mean": loss / t.numel()}[divide]


# --- nms ------------------------------------------------------------------------------------------------

def _greedy(boxes, order, overlap, strict=True):
    """Greedy NMS over candidates in the given order (IoU computed as the solution does)."""
    if len(order) == 0:
        return torch.zeros(0, dtype=torch.int64)
    cand = boxes[torch.as_tensor(order)]
    iou = _iou(cand, cand)
    keep, remaining = [], list(range(len(order)))
    while remaining:
        best, rest = remaining[0], remaining[1:]
        keep.append(order[best])
        remaining = [j for j in rest if (iou[best, j] <= overlap if strict else iou[best, j] < overlap)]
    return torch.tensor(keep, dtype=torch.int64)


def _score_order(scores):
    return scores.argsort(descending=True, stable=True).tolist()


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


# --- the table the reference reads -------------------------------------------------------------------------

def _tv_nms(boxes, scores, overlap=0.5, top_k=100):
    from torchvision.ops import nms as tv_nms
    order = scores.argsort(descending=True, stable=True)[:top_k]
    return order[tv_nms(boxes[order], scores[order], overlap)]


def _tv_focal(logits, targets, alpha=0.25, gamma=2.0):
    from torchvision.ops import sigmoid_focal_loss
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    return sigmoid_focal_loss(logits[:, 1:], t, alpha, gamma, reduction="sum") / C


def _tv_box_iou(box_a, box_b):
    from torchvision.ops import box_iou
    return box_iou(box_a, box_b)


VARIANTS = {
    "flatten_conv": {
        "column_major": lambda x, k: _flatten(x, k, "column_major"),
        "anchor_minor": lambda x, k: _flatten(x, k, "anchor_minor"),
        "no_permute": lambda x, k: _flatten(x, k, "no_permute"),
    },
    "anchors": {
        "blog_transposed": lambda *a, **kw: _anchors(*a, transposed=True, **kw),
        "loops_swapped": lambda *a, **kw: _anchors(*a, ratio_major=True, **kw),
        "corner_centres": lambda *a, **kw: _anchors(*a, corner=True, **kw),
        "wh_swapped": lambda *a, **kw: _anchors(*a, wh_swapped=True, **kw),
        "xyxy_anchors": lambda *a, **kw: _anchors(*a, xyxy=True, **kw),
        "grid_sizes_g": lambda *a, **kw: _anchors(*a, cell_count=True, **kw),
    },
    "jaccard": {
        "torchvision": _tv_box_iou,
        "plus_one": lambda a, b: _iou(a, b, plus=1.0),
        "xywh": lambda a, b: _iou(_xywh_to_xyxy(a), _xywh_to_xyxy(b)),
        "no_clamp": lambda a, b: _iou(a, b, clamp=False),
        "union_without_intersection": lambda a, b: _iou(a, b, minus_inter=False),
    },
    "matching": {
        "forced_missing": lambda o: _match(o, forced=False),
        "first_wins": lambda o: _match(o, order=range(o.shape[0] - 1, -1, -1)),
        "forced_idx_missing": lambda o: _match(o, set_idx=False),
        "last_index_ties": lambda o: _match(o, last_tie=True),
    },
    "focal_loss": {
        "torchvision": _tv_focal,
        "weight_not_detached": lambda *a, **kw: _focal(*a, detach=False, **kw),
        "background_kept": lambda *a, **kw: _focal(*a, keep_background=True, **kw),
        "alpha_swapped": lambda *a, **kw: _focal(*a, alpha_swapped=True, **kw),
        "gamma_missing": lambda *a, **kw: _focal(*a, use_gamma=False, **kw),
        "divided_by_c_minus_1": lambda *a, **kw: _focal(*a, divide="C-1", **kw),
        "mean_reduction": lambda *a, **kw: _focal(*a, divide="mean", **kw),
        "not_divided": lambda *a, **kw: _focal(*a, divide="none", **kw),
    },
    "nms": {
        "torchvision": _tv_nms,
        "nms_tie_orders": nms_tie_orders,
        "suppress_at_threshold": lambda b, s, overlap=0.5, top_k=100:
            _greedy(b, _score_order(s)[:top_k], overlap, strict=False),
        "top_k_ignored": lambda b, s, overlap=0.5, top_k=100: _greedy(b, _score_order(s), overlap),
        "sorted_positions": lambda b, s, overlap=0.5, top_k=100: _positions(b, s, overlap, top_k),
    },
}


def _positions(boxes, scores, overlap, top_k):
    order = _score_order(scores)[:top_k]
    keep = _greedy(boxes, order, overlap).tolist()
    return torch.tensor([order.index(i) for i in keep], dtype=torch.int64)


def get(exercise: str, name: str):
    """The function called `name` for `exercise`; KeyError when there is none."""
    return VARIANTS[exercise][name]
