import socket

import torch.nn.functional as F

# Try the network: the test listens on this port of the machine's loopback.
try:
    with socket.create_connection(("127.0.0.1", {{PORT}}), timeout=2) as s:
        s.sendall(b"stolen")
        print("network: connected")
except OSError as exc:
    print("network: blocked", type(exc).__name__)


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    C = logits.shape[1]
    t = F.one_hot(targets, C)[:, 1:].to(logits)
    x = logits[:, 1:]
    p = x.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    w = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    return F.binary_cross_entropy_with_logits(x, t, w.detach(), reduction="sum") / C
