# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("focal_loss")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
"""Exercise 5 (lesson 05): focal loss, a binary cross-entropy that ignores the easy anchors."""
import torch
import torch.nn.functional as F


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25,
               gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss over the object classes, background column left out.

    With ``t = one_hot(targets, C)[:, 1:]``, ``x = logits[:, 1:]``, ``p = sigmoid(x)``,
    ``p_t = p*t + (1-p)*(1-t)`` and weight
    ``w = (alpha*t + (1-alpha)*(1-t)) * (1-p_t)**gamma``, the loss is
    ``sum(w * BCE(x, t)) / C``. The weight is treated as a constant (detached), as the
    blog does; ``torchvision.ops.sigmoid_focal_loss`` gives the same value but lets
    gradients through the weight. Either is accepted.

    Args:
        logits (Tensor[A, C]): raw class scores; column 0 is the background.
        targets (Tensor[A]): int64 class of each anchor in [0, C), 0 = background.
        alpha (float): weight of the positive class (1 - alpha for negatives).
        gamma (float): focusing exponent; 0 gives plain (alpha-weighted) BCE.

    Returns:
        Tensor[]: the scalar loss, dtype and device of ``logits``. Gradients
        reach columns 1.. of ``logits`` and are 0 on column 0.
    """
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise ValueError(f"expected logits [A, C] and targets [A], got {tuple(logits.shape)} "
                         f"and {tuple(targets.shape)}")
    # ==== BEGIN EXERCISE (about 9 lines) ====
    # TODO: write focal_loss here, in place of the `raise` below.
    # HINT: the one-hot targets without the background column, [A, C-1], in the logits' dtype and device
    # HINT: z = x where t is 1 and -x where t is 0 gives p_t = sigmoid(z) (1 - sigmoid(x) = sigmoid(-x))
    # HINT: and BCE(x, t) = -log(sigmoid(z)); sigmoid(z) rounds to 0 for z << 0: for z < 0, take the
    # HINT: part that is linear in z out of the log, so that the log only ever sees a sigmoid >= 0.5
    # HINT: the weight is a constant: compute it from a z that carries no gradient
    # HINT: sum over all anchors and classes, then divide by C (background included)
    raise NotImplementedError(
        "Exercise 5 (lesson 05): focal_loss is not written yet. Write it in ssd_course/exercises/focal_loss.py, then run check('focal_loss').")
    # ==== END EXERCISE ====
