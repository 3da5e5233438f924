def flatten_conv(x, k):
    B, kF, H, W = x.shape
    return x.permute(0, 2, 3, 1).reshape(-1, kF // k)  # mistake: the batch folded into the rows
