"""Hidden cases of exercise 5, focal_loss (grader only)."""
import numpy as np

from autograder.cases import Case, random_ints, random_normal
from autograder.cases.focal_loss import EX, FOCAL, loss, mostly_background

BOTH_GRADS = ("solutions", "weight_not_detached")

CASES = [
    Case(EX, "large logits (up to 30) give a finite loss",
         (loss([[30.0, -30.0, 25.0], [-30.0, 30.0, -25.0], [0.0, 28.0, -29.0], [5.0, -27.0, 30.0]],
               [1, 2, 0, 2], alpha=0.25, gamma=2.0),), mistakes=FOCAL),
    Case(EX, "float64 logits keep their dtype",
         (loss(random_normal(51, (20, 5), 2.0), mostly_background(52, 20, 5), alpha=0.25,
               gamma=2.0, dtype="float64"),), mistakes=FOCAL),
    Case(EX, "non-contiguous logits (a transposed view) work",
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
