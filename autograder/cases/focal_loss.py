"""Public cases of exercise 5, `focal_loss(logits, targets, alpha=0.25, gamma=2.0)` (lesson 05)."""
import numpy as np

from autograder.cases import Call, Case, py, random_ints, random_normal, tensor

EX = "focal_loss"
FOCAL = ("background_kept", "alpha_swapped", "gamma_missing", "divided_by_c_minus_1",
         "mean_reduction", "not_divided", "not_scalar", "grad_background", "log_underflow")


def loss(logits, targets, grad=False, dtype="float32", layout="contiguous", **kwargs):
    """A call with logits Tensor[A, C] (`dtype`, `layout`), int64 targets Tensor[A], alpha/gamma kwargs."""
    call_args = (tensor(logits, dtype=dtype, layout=layout, grad=grad), tensor(targets, dtype="int64"))
    return Call(call_args, kwargs={k: py(v) for k, v in kwargs.items()},
                grad={"wrt": [0], "upstream": None} if grad else None)


def mostly_background(seed, A, C, objects=0.3):
    """Targets in [0, C): about `objects` of the anchors hold an object class."""
    rng = np.random.default_rng(seed)
    return np.where(rng.uniform(size=A) < objects, rng.integers(1, C, size=A), 0)


CASES = [
    Case(EX, "16 anchors and 7 classes agree with torchvision's sigmoid_focal_loss / C",
         (loss(random_normal(1, (16, 7), 2.0), mostly_background(2, 16, 7),
               alpha=0.25, gamma=2.0),), points=2, reference="torchvision", mistakes=FOCAL),
    Case(EX, "all anchors background",
         (loss(random_normal(3, (10, 4), 2.0), np.zeros(10), alpha=0.25, gamma=2.0),),
         mistakes=FOCAL),
    Case(EX, "gamma=0 and alpha=0.5 give half the plain BCE (background left out)",
         (loss(random_normal(4, (12, 5), 1.5), mostly_background(5, 12, 5), alpha=0.5, gamma=0.0),),
         mistakes=FOCAL),
    Case(EX, "alpha=0.25 and gamma=2 are the defaults",
         (loss(random_normal(6, (9, 3), 2.0), random_ints(7, 0, 3, 9)),), mistakes=FOCAL),
    Case(EX, "gradients reach columns 1.. of the logits and none reach column 0",
         (loss(random_normal(8, (8, 4), 1.0), mostly_background(9, 8, 4, 0.5), grad=True,
               alpha=0.25, gamma=2.0),), points=2,
         grad_options=("solutions", "weight_not_detached"), mistakes=FOCAL),
    # sigmoid(-120) is 0 in float32: the lesson's naive -log(sigmoid(z)) gives inf here.
    Case(EX, "confidently wrong logits (up to 120) give the exact, finite loss",
         (loss([[0.0, 120.0, -120.0, 3.0], [0.0, -120.0, 110.0, -2.0], [0.0, 90.0, 0.5, -100.0]],
               [2, 1, 0], alpha=0.25, gamma=2.0),), reference="torchvision", mistakes=FOCAL),
    Case(EX, "C = 2: a single object class",
         (loss(random_normal(10, (12, 2), 2.0), mostly_background(11, 12, 2, 0.5),
               alpha=0.25, gamma=2.0),), mistakes=FOCAL),
]
