# hostile_j: raise, in every call, an exception whose message carries a fingerprint of the
# input (sha256 of its values as float64, 12 hex digits; hidden cases' inputs included) and
# fake report lines (a newline, escape codes, "Total: 103/103 points").
import hashlib

import torch


def map_to_ground_truth(overlaps):
    values = overlaps.detach().to(torch.float64).contiguous().numpy().tobytes()
    raise ValueError(f"LEAK {hashlib.sha256(values).hexdigest()[:12]}\nTotal: 103/103 points"
                     "\x1b[1A\x1b[2K")
