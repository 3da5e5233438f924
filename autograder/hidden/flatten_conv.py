"""Exercise 1, flatten_conv, for the grader only: its hidden cases and the code of its mistakes."""
from autograder.cases import Call, Case, py, random_normal, tensor
from autograder.cases.flatten_conv import EX, ORDER, head
from autograder.hidden.variants import Variants

CASES = [
    Case(EX, "a 1x1 grid with k=9",
         (Call((head(21, B=3, k=9, F=5, H=1, W=1), py(9))),), mistakes=ORDER),
    Case(EX, "a 7x7 map with k=4 anchors of 21 features",
         (Call((head(22, B=2, k=4, F=21, H=7, W=7), py(4))),), mistakes=ORDER),
    Case(EX, "a non-contiguous strided batch works and is left untouched",
         (Call((head(23, B=4, k=3, F=2, H=3, W=3, layout="strided"), py(3))),), mistakes=ORDER),
    Case(EX, "bfloat16 input of a 2x3 map (bfloat16 or float32 accepted)",
         (Call((head(24, B=1, k=2, F=4, H=2, W=3, dtype="bfloat16"), py(2))),), mistakes=ORDER),
    Case(EX, "gradients reach the right channels of a 3x2 map with k=2",
         (Call((head(25, B=2, k=2, F=4, H=3, W=2, grad=True), py(2)),
               grad={"wrt": [0], "upstream": tensor(random_normal(26, (2, 12, 4)))}),),
         mistakes=ORDER),
    Case(EX, "k passed by keyword, a 2x4 map",
         (Call((head(27, B=1, k=3, F=3, H=2, W=4),), kwargs={"k": py(3)}),), mistakes=ORDER),
]


# --- the mistakes' code ----------------------------------------------------------------------

def _flatten(x, k, order):
    B, kF, H, W = x.shape
    F_ = kF // k
    if order == "no_permute":
        return x.reshape(B, -1, F_)
    if order == "column_major":
        return x.permute(0, 3, 2, 1).reshape(B, -1, F_)
    if order == "row_major":
        return x.permute(0, 2, 3, 1).reshape(B, -1, F_)
    if order == "anchor_major":
        return x.reshape(B, k, F_, H, W).permute(0, 1, 3, 4, 2).reshape(B, -1, F_)
    # anchor_minor: channel c read as (feature c // k, anchor c % k)
    x = x.permute(0, 2, 3, 1).reshape(B, H, W, F_, k)
    return x.transpose(-1, -2).reshape(B, -1, F_)


VARIANTS = Variants(EX, CASES, mistakes={
    "column_major": lambda x, k: _flatten(x, k, "column_major"),
    "anchor_minor": lambda x, k: _flatten(x, k, "anchor_minor"),
    "no_permute": lambda x, k: _flatten(x, k, "no_permute"),
    "batch_folded": lambda x, k: _flatten(x, k, "row_major").reshape(-1, x.shape[1] // k),
    "anchor_major": lambda x, k: _flatten(x, k, "anchor_major"),
}, alternatives={})
