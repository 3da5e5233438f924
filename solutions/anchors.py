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
    # HINT: one g x g grid at a time: the cell centres along an axis are (index + 0.5) / g; list all
    # HINT: g*g (cx, cy) pairs with the row r varying slowest and the column c next (x is the column)
    # HINT: a cell's k = len(zooms)*len(ratios) sizes (w, h) are (z*rw/g, z*rh/g), zoom-major
    # HINT: pair every centre with every size by broadcasting ([g*g, 1, 2] with [1, k, 2]), flatten
    # HINT: to rows, and join the grids in order; grid_sizes is 1/g for each anchor of grid g
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
