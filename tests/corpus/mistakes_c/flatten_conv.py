def flatten_conv(x, k):
    B, kF, H, W = x.shape
    F = kF // k
    # mistake: channel c read as (feature c // k, anchor c % k)
    x = x.permute(0, 2, 3, 1).reshape(B, H, W, F, k)
    return x.transpose(-1, -2).reshape(B, -1, F)
