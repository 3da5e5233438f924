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
    # HINT: for one grid g: centres (torch.arange(g) + 0.5) / g; torch.meshgrid(..., indexing="ij")
    # HINT: gives the row index first, so r varies slowest and c next, as flatten_conv's rows do
    # HINT: the k = len(zooms)*len(ratios) sizes of a cell come zoom-major: [(z*rw, z*rh) for z ... for (rw, rh) ...]
    # HINT: expand centres [g*g, 1, 2] and sizes [1, k, 2] to [g*g, k, 2], concatenate, flatten; then torch.cat over grids
    raise NotImplementedError(
        "Exercise 2 (lesson 03): make_anchors is not written yet. Write it in ssd_course/exercises/anchors.py, then run check('anchors').")
    # ==== END EXERCISE ====
