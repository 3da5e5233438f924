def flatten_conv(x, k):
    # the blog's way: transpose, contiguous, view
    bs, nf, gx, gy = x.size()
    x = x.permute(0, 2, 3, 1).contiguous()
    return x.view(bs, -1, nf // k)
