# hostile_d: reach the grader's processes. ptrace(PTRACE_SEIZE) the parent (then interrupt and
# detach at once: it is never left stopped), and process_vm_readv the parent's and the grading
# process's memory. Anything that works prints and raises "REACHED", so it cannot go unseen.
import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
__WALL = 0x40000000


class _iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _first_readable(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            if perms.startswith("r"):
                return int(span.split("-")[0], 16)
    raise OSError("no readable mapping")


def _vm_read(pid):
    try:
        address = _first_readable(pid)
    except OSError as exc:
        return f"denied ({type(exc).__name__})"
    buf = ctypes.create_string_buffer(64)
    local, remote = _iovec(ctypes.addressof(buf), 64), _iovec(address, 64)
    _libc.process_vm_readv.restype = ctypes.c_ssize_t
    n = _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return f"REACHED ({n} bytes)" if n > 0 else f"denied ({os.strerror(ctypes.get_errno())})"


def _ptrace(pid):
    _libc.ptrace.restype = ctypes.c_long
    if _libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
        return f"denied ({os.strerror(ctypes.get_errno())})"
    _libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
    try:
        os.waitpid(pid, __WALL)
    except OSError:
        pass
    _libc.ptrace(PTRACE_DETACH, pid, None, None)
    return "REACHED (seized)"


_found = {"ptrace parent": _ptrace(os.getppid()), "vm_readv parent": _vm_read(os.getppid())}
if {{GRADER_PID}} != os.getppid():
    _found["vm_readv grader"] = _vm_read({{GRADER_PID}})
for _what, _outcome in _found.items():
    print(_what + ":", _outcome)
if any(o.startswith("REACHED") for o in _found.values()):
    raise RuntimeError("REACHED the grader's processes: " + ", ".join(
        w for w, o in _found.items() if o.startswith("REACHED")))


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
