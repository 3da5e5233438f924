# hostile_e: memory through memfds (never mapped, so no address-space limit sees them):
# 26 memfds of 60 MiB (1.5 GiB), each under the 64 MiB file-size limit, held for a second.
import os
import time

COUNT, EACH, CHUNK = 26, 60 << 20, 4 << 20
_block = b"\1" * CHUNK
_fds = []
for _ in range(COUNT):
    fd = os.memfd_create("hostile_e")
    _fds.append(fd)
    for _ in range(EACH // CHUNK):
        os.write(fd, _block)
print(f"memfd: {COUNT} x {EACH >> 20} MiB held")
time.sleep(1.0)
for fd in _fds:
    os.close(fd)


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
