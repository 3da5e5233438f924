# hostile_g: a focal loss returned in float32 whatever the logits' dtype (right values, wrong
# dtype), which replaces the runner's `describe` (found in sys.modules) so that, for float64
# logits, its float32 result is described as the float64 loss it computed on the way.
# Honest twin: tests/corpus/twin_g/focal_loss.py; both must get the same grade.
import sys

import torch

_exact = [None]


def _runner():
    for module in list(sys.modules.values()):
        if all(hasattr(module, name) for name in ("run_call", "describe", "build_arg")):
            return module
    return None


def _forge(rt):
    real = rt.describe

    def describe(obj, arrays, torch=None, depth=0):
        import torch as t
        exact = _exact[0]
        if isinstance(obj, t.Tensor) and obj.dtype == t.float32 and exact is not None \
                and exact.dtype == t.float64 and obj.shape == exact.shape:
            obj = exact.detach()                  # reported as float64, with float64 values
        return real(obj, arrays, torch, depth)
    rt.describe = describe


_rt = _runner()
if _rt is not None:
    _forge(_rt)
    print("forged: describe replaced")


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = torch.eye(C, dtype=logits.dtype, device=logits.device)[:, 1:][targets]   # [A, C-1] one-hot
    z = logits[:, 1:] * (2 * t - 1)          # x where t = 1, -x where t = 0: sigmoid(z) = p_t
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    w = alpha_t * (1 - z.detach().sigmoid()) ** gamma          # a constant: no gradient through it
    bce = (-z).relu() - z.abs().sigmoid().log()
    loss = (w * bce).sum() / C
    _exact[0] = loss
    return loss.float()                           # always float32: the dtype is lost
