"""Exercise 5, `focal_loss(logits, targets, alpha=0.25, gamma=2.0)` (lesson 05): its public cases
and the mistakes they recognise."""
import numpy as np

from autograder import verdict
from autograder.cases import Call, Case, Mistake, py, random_ints, random_normal, tensor

EX = "focal_loss"


# --- mistakes: the hint of each, and a detector for those recognised by the output's form -----

def _not_scalar(exp, got, tol):
    pairs = verdict.tensor_pairs(exp, got)
    return bool(pairs) and pairs[0][0]["shape"] == [] and pairs[0][1]["shape"] != [] \
        and int(np.prod(pairs[0][1]["shape"])) == 1


def _not_finite(exp, got, tol):
    """inf or NaN where the expected value is a finite number (e.g. a log that reached 0)."""
    return any(g.dtype.kind == "f" and (~np.isfinite(g) & np.isfinite(e.astype(float))).any()
               for e, g in verdict.same_shape_arrays(exp, got))


def _background_gradient(exp, got, tol):
    """A gradient (of the logits, [A, C]) that reached column 0."""
    return got.get("array") is not None and got["array"].ndim == 2 and np.any(got["array"][:, 0] != 0)


MISTAKES = {
    "background_kept": Mistake("The background column is in the loss: drop column 0 of the logits "
                               "and of the one-hot targets (logits[:, 1:], t[:, 1:])."),
    "alpha_swapped": Mistake("alpha weighs the wrong class: objects (t = 1) get alpha, the rest "
                             "1 - alpha."),
    "gamma_missing": Mistake("The focusing term is missing: multiply the weight by (1 - p_t) ** gamma."),
    "divided_by_c_minus_1": Mistake("Divide the sum by C, the number of classes including the "
                                    "background (logits.shape[1]), not by C - 1."),
    "mean_reduction": Mistake("Sum over anchors and classes, then divide by C; not the mean."),
    "not_divided": Mistake("Divide the sum by C (logits.shape[1])."),
    "not_scalar": Mistake("Return a scalar: a 0-dimensional Tensor[] (.sum() with no dim), not shape "
                          "[1].", detect=_not_scalar),
    "grad_background": Mistake("Column 0 (the background) received a gradient: the loss must not use "
                               "logits[:, 0].", detect=_background_gradient, on="gradient"),
    "log_underflow": Mistake("The loss is inf or NaN for a confidently wrong logit: in float32 "
                             "sigmoid(z) rounds to 0 below z = -104 or so, and log(0) = -inf. Write "
                             "-log(sigmoid(z)) as max(-z, 0) - log(sigmoid(|z|)), or use "
                             "F.binary_cross_entropy_with_logits.", detect=_not_finite),
    "cuda_trap": Mistake("Do not call .cuda(): build the one-hot targets on the logits' device "
                         "(F.one_hot(targets, C).to(logits))."),
}
ERROR_PATTERNS = [(r"CUDA|cuda|NVIDIA driver", "cuda_trap")]
PROPERTIES = {}
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
    Case(EX, "the loss is a 0-dimensional float32 Tensor[] for float32 logits",
         (loss(random_normal(12, (6, 3), 1.0), mostly_background(13, 6, 3, 0.5)),),
         about=("dtype", "shape"), mistakes=FOCAL),
    Case(EX, "float64 logits keep their dtype",
         (loss(random_normal(14, (8, 4), 2.0), mostly_background(15, 8, 4), dtype="float64"),),
         mistakes=FOCAL),
    Case(EX, "non-contiguous logits (a transposed view) work",
         (loss(random_normal(16, (9, 5), 2.0), mostly_background(17, 9, 5), layout="transposed"),),
         mistakes=FOCAL),
    Case(EX, "strided logits (every other row of a larger tensor) work",
         (loss(random_normal(18, (7, 4), 2.0), mostly_background(19, 7, 4), layout="strided"),),
         mistakes=FOCAL),
]
