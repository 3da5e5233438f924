"""Exercise 5, focal_loss, for the grader only: its hidden cases, the code of its mistakes, an
accepted alternative (the weight not detached) and torchvision's sigmoid_focal_loss as a
reference."""
import numpy as np
import torch.nn.functional as F

from autograder.cases import Case, random_ints, random_normal
from autograder.cases.focal_loss import EX, FOCAL, loss, mostly_background
from autograder.hidden.variants import Variants

BOTH_GRADS = ("solutions", "weight_not_detached")

CASES = [
    Case(EX, "large logits (up to 30) give a finite loss",
         (loss([[30.0, -30.0, 25.0], [-30.0, 30.0, -25.0], [0.0, 28.0, -29.0], [5.0, -27.0, 30.0]],
               [1, 2, 0, 2], alpha=0.25, gamma=2.0),), mistakes=FOCAL),
    Case(EX, "float64 logits of 20 anchors and 5 classes keep their dtype",
         (loss(random_normal(51, (20, 5), 2.0), mostly_background(52, 20, 5), alpha=0.25,
               gamma=2.0, dtype="float64"),), mistakes=FOCAL),
    Case(EX, "non-contiguous logits of 15 anchors (a transposed view) work",
         (loss(random_normal(53, (15, 6), 2.0), mostly_background(54, 15, 6), alpha=0.25, gamma=2.0,
               layout="transposed"),), mistakes=FOCAL),
    Case(EX, "189 anchors, 21 classes, alpha=0.5, gamma=1 agree with torchvision",
         (loss(random_normal(55, (189, 21), 3.0), mostly_background(56, 189, 21, 0.1), alpha=0.5,
               gamma=1.0),), reference="torchvision", mistakes=FOCAL),
    Case(EX, "every anchor holds an object",
         (loss(random_normal(57, (10, 4), 2.0), random_ints(58, 1, 4, 10), alpha=0.25, gamma=2.0),),
         mistakes=FOCAL),
    Case(EX, "gradients of 189 anchors and 5 classes reach columns 1.. only",
         (loss(random_normal(59, (189, 5), 2.0), mostly_background(60, 189, 5, 0.2), grad=True,
               alpha=0.25, gamma=2.0),), grad_options=BOTH_GRADS, mistakes=FOCAL),
    Case(EX, "strided logits and gamma=3",
         (loss(random_normal(61, (7, 3), 1.0), np.array([0, 1, 2, 0, 0, 1, 2]), alpha=0.25,
               gamma=3.0, layout="strided"),), mistakes=FOCAL),
]


# --- the mistakes' code, the alternative and the reference -----------------------------------

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


def _tv_focal(logits, targets, alpha=0.25, gamma=2.0):
    from torchvision.ops import sigmoid_focal_loss
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    return sigmoid_focal_loss(logits[:, 1:], t, alpha, gamma, reduction="sum") / C


VARIANTS = Variants(EX, CASES, mistakes={
    "background_kept": lambda *a, **kw: _focal(*a, keep_background=True, **kw),
    "alpha_swapped": lambda *a, **kw: _focal(*a, alpha_swapped=True, **kw),
    "gamma_missing": lambda *a, **kw: _focal(*a, use_gamma=False, **kw),
    "divided_by_c_minus_1": lambda *a, **kw: _focal(*a, divide="C-1", **kw),
    "mean_reduction": lambda *a, **kw: _focal(*a, divide="mean", **kw),
    "not_divided": lambda *a, **kw: _focal(*a, divide="none", **kw),
}, alternatives={
    "torchvision": _tv_focal,
    "weight_not_detached": lambda *a, **kw: _focal(*a, detach=False, **kw),
})
