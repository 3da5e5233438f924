# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("anchors")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
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
    # TODO: write make_anchors here, in place of the `raise` below.
    # HINT: one g x g grid at a time: the cell centres along an axis are (index + 0.5) / g; list all
    # HINT: g*g (cx, cy) pairs with the row r varying slowest and the column c next (x is the column)
    # HINT: a cell's k = len(zooms)*len(ratios) sizes (w, h) are (z*rw/g, z*rh/g), zoom-major
    # HINT: pair every centre with every size by broadcasting ([g*g, 1, 2] with [1, k, 2]), flatten
    # HINT: to rows, and join the grids in order; grid_sizes is 1/g for each anchor of grid g
    raise NotImplementedError(
        "Exercise 2 (lesson 03): make_anchors is not written yet. Write it in ssd_course/exercises/anchors.py, then run check('anchors').")
    # ==== END EXERCISE ====
