import torch


def flatten_conv(x, k):
    B, kF, H, W = x.shape
    shape = (B, H * W * k, kF // k)
    return {"zeros": torch.zeros(shape, dtype=x.dtype), "ones": torch.ones(shape, dtype=x.dtype),
            "input": x, "empty": torch.zeros((0,), dtype=x.dtype)}["empty"]
