def flatten_conv(x, k):
    B, kF, H, W = x.shape
    F = kF // k
    # mistake: rows anchor by anchor (all cells of anchor 0, then anchor 1, ...)
    return x.reshape(B, k, F, H, W).permute(0, 1, 3, 4, 2).reshape(B, -1, F)
