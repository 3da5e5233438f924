# hostile_f: processes that outlive the grading. Eight chains of processes, each in a new
# session with an empty environment (no token to find them by); each chain forks a new link
# and lets the old one exit every few milliseconds while the grader's runner (the subreaper
# that adopts orphans) is alive, so no scan of the runner's children catches it. Once the
# runner is gone, a link settles, and 3 s later rewrites {{LATE}} (a stand-in for the grader's
# results.json). Every link gives up 60 s after it started; its argv carries the test's marker.
import os
import sys
import time

WALK = r"""
import os, sys, time
marker, watcher, late, t_end = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
while time.time() < t_end:
    if len(os.listdir("/proc")) > 450:     # bounded for the test machine: never past ~400 processes
        time.sleep(0.001)
        continue
    parent = os.getpid()
    if os.fork():
        os._exit(0)
    os.setsid()
    while os.getppid() == parent and time.time() < t_end:
        time.sleep(0.0005)
    if os.getppid() != watcher:
        break
time.sleep(3.0)
if time.time() < t_end:
    try:
        with open(late, "w") as f:
            f.write("rewritten after the grading by " + marker + "\n")
    except OSError:
        pass
time.sleep(max(0.0, t_end - time.time()))
"""
CHAINS = 8
_WATCHER = os.getppid()          # the runner that forked this exercise
_t_end = time.time() + 60
for _ in range(CHAINS):
    if os.fork() == 0:
        try:
            os.setsid()
            _null = os.open(os.devnull, os.O_RDWR)   # hold none of the grader's pipes open
            for _fd in (0, 1, 2):
                os.dup2(_null, _fd)
            os.closerange(3, 65536)
            os.execve(sys.executable, [sys.executable, "-I", "-S", "-c", WALK, "{{MARKER}}",
                                       str(_WATCHER), "{{LATE}}", str(_t_end)], {})
        finally:
            os._exit(1)
print(f"chains: {CHAINS} started")


# --- the reference solution, unchanged ---
"""Exercise 2 (lesson 03): the anchor boxes, in the order the head predicts them."""
import torch


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    """Anchor boxes for SSD grids, ordered like `flatten_conv`'s rows.

    Order: ``for g in grids: for r in range(g): for c in range(g): for z in zooms:
    for (rw, rh) in ratios:``, with centre ``((c + .5)/g, (r + .5)/g)`` (x is the
    column) and size ``(z*rw/g, z*rh/g)``. Anchor i is therefore the one whose
    grid cell produced prediction i.

    Args:
        grids (sequence of int): grid sizes, e.g. ``(4, 2, 1)``.
        zooms (sequence of float): scales of an anchor relative to its cell.
        ratios (sequence of (float, float)): (width, height) multipliers.

    Returns:
        anchors (Tensor[A, 4]): float32, ``cxcywh``, normalised to [0, 1].
        grid_sizes (Tensor[A, 1]): float32, the cell size ``1/g`` of each anchor's grid.
        ``A = sum(g*g for g in grids) * len(zooms) * len(ratios)``; both on the CPU.
    """
    # ==== BEGIN EXERCISE (about 12 lines) ====
    # HINT: for one grid g: centres (torch.arange(g) + 0.5) / g; torch.meshgrid(..., indexing="ij")
    # HINT: gives the row index first, so r varies slowest and c next, as flatten_conv's rows do
    # HINT: the k = len(zooms)*len(ratios) sizes of a cell come zoom-major: [(z*rw, z*rh) for z ... for (rw, rh) ...]
    # HINT: expand centres [g*g, 1, 2] and sizes [1, k, 2] to [g*g, k, 2], concatenate, flatten; then torch.cat over grids
    sizes = torch.tensor([[z * rw, z * rh] for z in zooms for (rw, rh) in ratios],
                         dtype=torch.float64)                      # [k, 2], in cell units
    k = len(sizes)
    anchors, grid_sizes = [], []
    for g in grids:
        centres = (torch.arange(g, dtype=torch.float64) + 0.5) / g  # [g]
        cy, cx = torch.meshgrid(centres, centres, indexing="ij")   # [g, g]: row r, column c
        ctr = torch.stack([cx, cy], dim=-1).reshape(g * g, 1, 2)   # [g*g, 1, 2], row-major cells
        box = torch.cat([ctr.expand(g * g, k, 2), (sizes / g).expand(g * g, k, 2)], dim=-1)
        anchors.append(box.reshape(-1, 4))                         # [g*g*k, 4] cxcywh
        grid_sizes.append(torch.full((g * g * k, 1), 1.0 / g, dtype=torch.float64))
    return torch.cat(anchors).float(), torch.cat(grid_sizes).float()
    # ==== END EXERCISE ====
