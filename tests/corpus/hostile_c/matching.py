import subprocess
import sys

import torch

# Leave processes behind: one in a new session, one double-forked.
code = "import time\nwhile True: time.sleep(1)  # {{MARKER}}"
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen([sys.executable, "-c",
                  "import subprocess, sys; subprocess.Popen([sys.executable, '-c', " + repr(code) +
                  "], start_new_session=True)"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def map_to_ground_truth(overlaps):
    gt_overlap, gt_idx = overlaps.max(0)
    for g, a in enumerate(overlaps.max(1).indices.tolist()):
        gt_overlap[a] = 1.99
        gt_idx[a] = g
    return gt_overlap, gt_idx
