"""Exercise 1, `flatten_conv(x, k) -> Tensor[B, H*W*k, F]` (lesson 02): its public cases and
the mistakes they recognise."""
from autograder.cases import Call, Case, Mistake, py, random_normal, tensor

EX = "flatten_conv"

MISTAKES = {
    "column_major": Mistake("Rows come out column by column: permute to [B, H, W, k*F] "
                            "(permute(0, 2, 3, 1)) so that cells go row by row, like the anchors."),
    "anchor_minor": Mistake("The anchors' features are interleaved: channels j*F ... (j+1)*F - 1 "
                            "belong to anchor j, so split the k*F channels as (k, F), not (F, k)."),
    "no_permute": Mistake("The channels were reshaped without moving them last: permute(0, 2, 3, 1) "
                          "first, so that each row holds the features of one cell's anchor."),
    "view_not_contiguous": Mistake("view() failed on a permuted (non-contiguous) tensor: use "
                                   "reshape(), or .contiguous().view()."),
    "batch_folded": Mistake("The batch was folded into the rows: keep B as the first dimension, "
                            "reshape(B, -1, F), so each image keeps its own H*W*k rows."),
    "anchor_major": Mistake("Rows come anchor by anchor (all cells of anchor 0, then anchor 1, ...): "
                            "the k anchors of one cell must be neighbours, row (r*W + c)*k + j; "
                            "permute to [B, H, W, k*F] before splitting the channels."),
}
ERROR_PATTERNS = [
    (r"view size is not compatible|use \.reshape\(\.\.\.\) instead", "view_not_contiguous"),
]
PROPERTIES = {}
# what the cases look for, in this order (a view error is recognised by its message)
ORDER = ("column_major", "anchor_minor", "no_permute", "batch_folded", "anchor_major")


def head(seed, B, k, F, H, W, **spec):
    """A head's output x: Tensor[B, k*F, H, W] of seeded random values."""
    return tensor(random_normal(seed, (B, k * F, H, W)), **spec)


CASES = [
    Case(EX, "the 4x4 head's class scores (k=1) become 16 rows of scores per image",
         (Call((head(1, B=2, k=1, F=6, H=4, W=4), py(1))),), points=2, mistakes=ORDER),
    Case(EX, "k=9 box activations keep the 9 anchors of a cell in adjacent rows",
         (Call((head(2, B=2, k=9, F=4, H=2, W=2), py(9))),), points=2, mistakes=ORDER),
    Case(EX, "a 3x5 map (H != W) is flattened row by row",
         (Call((head(3, B=1, k=2, F=2, H=3, W=5), py(2))),), mistakes=ORDER),
    Case(EX, "non-contiguous input (channels-last storage) works",
         (Call((head(4, B=2, k=2, F=4, H=4, W=4, layout="transposed"), py(2))),),
         mistakes=ORDER),
    Case(EX, "gradients flow back to x through the reshaping",
         (Call((head(5, B=1, k=3, F=2, H=2, W=2, grad=True), py(3)),
               grad={"wrt": [0], "upstream": tensor(random_normal(6, (1, 12, 2)))}),),
         mistakes=ORDER),
    Case(EX, "float64 input keeps its dtype",
         (Call((head(7, B=2, k=2, F=3, H=2, W=3, dtype="float64"), py(2))),), mistakes=ORDER),
    Case(EX, "bfloat16 input keeps its values (bfloat16 or float32 accepted)",
         (Call((head(8, B=2, k=3, F=2, H=2, W=2, dtype="bfloat16"), py(3))),), mistakes=ORDER),
    Case(EX, "a strided batch (every other image of a larger tensor) works",
         (Call((head(9, B=3, k=2, F=3, H=2, W=3, layout="strided"), py(2))),), mistakes=ORDER),
    Case(EX, "k passed by keyword works, and a float32 input gives float32 rows",
         (Call((head(10, B=2, k=4, F=2, H=3, W=3),), kwargs={"k": py(4)}),), about=("dtype", "shape"),
         mistakes=ORDER),
]
