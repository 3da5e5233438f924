# hostile_e: System V shared memory: 6 segments of 256 MiB (1.5 GiB), each attached, filled,
# detached and never removed (IPC_RMID), so they outlive the process.
import ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmget.restype, _libc.shmget.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
_libc.shmat.restype, _libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmdt.argtypes = [ctypes.c_void_p]
IPC_CREAT, COUNT, EACH = 0o1000, 6, 256 << 20
for _i in range(COUNT):
    _id = _libc.shmget({{SHMKEY}} + _i, EACH, IPC_CREAT | 0o600)
    if _id < 0:
        raise OSError(ctypes.get_errno(), f"shmget refused segment {_i}")
    _addr = _libc.shmat(_id, None, 0)
    if _addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), f"shmat refused segment {_i}")
    ctypes.memset(_addr, 1, EACH)
    _libc.shmdt(_addr)
print(f"sysv: {COUNT} x {EACH >> 20} MiB segments left behind")


# --- the reference solution, unchanged ---
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
    # HINT: the one-hot without background: row k of torch.eye(C)[:, 1:] is class k's, so index it with targets
    # HINT: z = x where t is 1 and -x where t is 0 gives p_t = sigmoid(z) (1 - sigmoid(x) = sigmoid(-x))
    # HINT: and BCE(x, t) = -log(sigmoid(z)); sigmoid(z) rounds to 0 for z << 0, so use the equal
    # HINT: max(-z, 0) - log(sigmoid(|z|)): sigmoid(|z|) is never below 0.5
    # HINT: the weight is a constant: compute it from z.detach() (or under torch.no_grad())
    # HINT: sum over all anchors and classes, then divide by C (background included)
    C = logits.shape[1]
    t = torch.eye(C, dtype=logits.dtype, device=logits.device)[:, 1:][targets]   # [A, C-1] one-hot
    z = logits[:, 1:] * (2 * t - 1)          # x where t = 1, -x where t = 0: sigmoid(z) = p_t
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    w = alpha_t * (1 - z.detach().sigmoid()) ** gamma          # a constant: no gradient through it
    # -log(p_t), stable for any z. F.binary_cross_entropy_with_logits(x, t) is the same
    # number, but on CPUs with AVX-512 the log1p inside its log-sigmoid measured 7x slower
    # than log (PyTorch 2.14, 145,000 values: 0.63 ms against 0.085 ms).
    bce = (-z).relu() - z.abs().sigmoid().log()
    return (w * bce).sum() / C
    # ==== END EXERCISE ====
