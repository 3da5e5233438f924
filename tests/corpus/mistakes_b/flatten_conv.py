def flatten_conv(x, k):
    B, kF, H, W = x.shape
    return x.permute(0, 2, 3, 1).view(B, -1, kF // k)  # mistake: view on a permuted tensor
