def flatten_conv(x, k):
    B, kF, H, W = x.shape
    return x.permute(0, 3, 2, 1).reshape(B, -1, kF // k)  # mistake: cells column by column
