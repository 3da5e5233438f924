import torch


def flatten_conv(x, k):
    # one row per (cell, anchor), cells row by row: plain loops over the grid
    B, kF, H, W = x.shape
    F = kF // k
    rows = []
    for r in range(H):
        for c in range(W):
            for j in range(k):
                rows.append(x[:, j * F:(j + 1) * F, r, c])
    return torch.stack(rows, dim=1)
