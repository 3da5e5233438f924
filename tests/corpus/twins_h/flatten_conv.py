def flatten_conv(x, k):
    # channels last, then (cell, anchor) rows: movedim / flatten / unflatten
    return x.movedim(1, -1).flatten(1, 2).unflatten(-1, (k, -1)).flatten(1, 2)
