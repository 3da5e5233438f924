"""The box a submission's code runs in, and what each isolation mode guarantees.

Two modes, chosen by ``choose_isolation``:

    bubblewrap   own PID, IPC, network, UTS and mount namespaces; a read-only view
                 of the system and the Python installation only (no solutions/, no
                 hidden cases, no cache, no grader output); every writable mount a
                 size-limited tmpfs; no capabilities
    process      a plain process group on the grader's machine: the files and the
                 network of the machine are there, as far as the filter allows

In both modes, the code runs as an unprivileged user with no capabilities (a
user of its own, ``BoxUser``, when the grader runs as root), under the
system-call filter of ``seccomp.py`` (no new processes, no memfd, no System V
IPC, no sockets, no file writes), with an address-space limit per exercise,
CPU and wall time limits, and a task limit for the box. Where the machine
delegates a cgroup v2 subtree to the grader (``SSD_COURSE_CGROUP``), the box
also gets a cgroup of its own: memory.max and pids.max on the whole box, and
the whole group killed at the end. Where none of that can be arranged the
grader refuses to run student code.
"""
import fcntl
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import seccomp

BOX_UIDS = range(61000, 62000)         # one user per box, as isolate's box ids
UID_LOCKS = Path("/run/ssd-course-boxes")
CGROUP_ENV = "SSD_COURSE_CGROUP"
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4


@dataclass
class Isolation:
    kind: str        # "bubblewrap" or "process"
    note: str        # one line for reports: what held in this grading

    @property
    def strong(self) -> bool:
        return self.kind == "bubblewrap"


class GraderError(RuntimeError):
    """The grading machinery failed (not the submission): nothing was graded."""


@functools.lru_cache(maxsize=None)
def bwrap_probe():
    """(path to bwrap, None) where the grader's bubblewrap options work here, else (None, why)."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    cmd = [path, *namespace_options(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
           "--size", "1048576", "--tmpfs", "/tmp", "--clearenv", "true"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap did not run: {exc}"
    if out.returncode != 0:
        return None, f"bwrap cannot create namespaces here: {out.stderr.strip()[:120]}"
    return path, None


def namespace_options() -> list:
    """Namespaces and capabilities: as root, no user namespace (the zygote becomes the
    box's user itself and needs CAP_SETUID/SETGID/SETPCAP for that, and nothing else);
    as another user, a user namespace with every capability dropped."""
    common = ["--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if os.geteuid() == 0:
        return common + ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                         "--cap-add", "CAP_SETPCAP"]
    return ["--unshare-user"] + common


def choose_isolation(kind: str = "auto") -> Isolation:
    """``auto``: bubblewrap where it works, else plain processes; ``bubblewrap`` or ``process`` to force.

    Raises GraderError where the system-call filter cannot be had (libseccomp
    missing): no mode grades without it."""
    if kind not in ("auto", "bubblewrap", "process"):
        raise ValueError(f"isolation must be auto, bubblewrap or process, got {kind!r}")
    problem = seccomp.available()
    if problem:
        raise GraderError(f"refusing to run student code without its system-call filter: {problem}")
    if kind == "process":
        return Isolation("process", "plain processes (asked for)")
    path, problem = bwrap_probe()
    if path:
        return Isolation("bubblewrap", "bubblewrap")
    if kind == "bubblewrap":
        raise GraderError(f"bubblewrap isolation asked for, but {problem}")
    return Isolation("process", f"plain processes ({problem}; install bubblewrap: "
                                "sudo apt-get install bubblewrap)")


def guarantees(iso: Isolation, uid: int, capabilities: int, limits, cgroup, warm=False) -> str:
    """The report's isolation line: what held for this grading, from what the box reported
    (`warm`: graded in a warm box, ``warm.py``, rather than a box of its own)."""
    # the uid itself stays out: the same submission must give the same report
    who = ("a user of its own" if os.geteuid() == 0 and uid != 0 else
           "root" if uid == 0 else "the grader's user") + \
        (", no capabilities" if capabilities == 0 else f", capabilities {capabilities:#x}")
    parts = [iso.note + (" (a warm box: started once, one submission at a time)" if warm else ""),
             who]
    if iso.strong:
        parts.append("no network, own PID/IPC/mount namespaces, read-only system view without "
                     "solutions/, hidden cases or cache")
    else:
        parts.append("the machine's files and network are not hidden (use bubblewrap for hidden cases)")
    parts.append("seccomp: no new processes, memfd, System V IPC, sockets or file writes")
    parts.append(f"per exercise {limits.memory_bytes / (1 << 30):g} GiB address space, "
                 f"{limits.time_s:g} s wall and CPU; {limits.tasks} tasks per box")
    parts.append(f"cgroup {cgroup.path.name}: memory.max and pids.max on the whole box" if cgroup
                 else "no cgroup delegated")
    return "; ".join(parts)


# --- a grader that shares its user with the box ---------------------------------------------------

class Undumpable:
    """While any box runs as the grader's own user (a grader that is not root), the grader is
    not dumpable: a process of the same user can then neither read its ``/proc/<pid>/mem`` nor
    open its descriptors. Counted, so that boxes running at once restore it once, at the end."""

    _lock, _users, _before = threading.Lock(), 0, None

    @classmethod
    def enter(cls):
        with cls._lock:
            if cls._users == 0:
                cls._before = _prctl(PR_GET_DUMPABLE, 0)
                _prctl(PR_SET_DUMPABLE, 0)
            cls._users += 1

    @classmethod
    def leave(cls):
        with cls._lock:
            cls._users -= 1
            if cls._users == 0 and cls._before:
                _prctl(PR_SET_DUMPABLE, cls._before)


def _prctl(option, arg):
    import ctypes
    return ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0)


# --- the box's own user (a root grader) ----------------------------------------------------------

class BoxUser:
    """A uid from BOX_UIDS no other box on this machine holds (a lock file per uid), or
    None where the grader is not root (the box then runs as the grader's user)."""

    def __init__(self):
        self.uid, self._lock = None, None
        if os.geteuid() != 0:
            return
        UID_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
        for uid in BOX_UIDS:
            fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._lock = uid, fd
            kill_user(uid)   # anything a crashed earlier grader left under this uid
            return
        raise GraderError(f"all {len(BOX_UIDS)} box users are busy")

    def release(self):
        if self.uid is not None:
            kill_user(self.uid)
            os.close(self._lock)
            self.uid = None


def _uid_of(pid: str):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def kill_user(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid` (a box user's): returns how many."""
    killed = 0
    for _ in range(3):   # a process may be starting while we look; look again
        found = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
        for pid in found:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        killed += len(found)
        if not found:
            break
        time.sleep(0.05)
    return killed


def user_tasks(uid: int) -> int:
    """Processes and threads of `uid` now (RLIMIT_NPROC counts them all)."""
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _uid_of(pid) == uid:
            try:
                count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return count


# --- a delegated cgroup v2 -------------------------------------------------------------------------

class Cgroup:
    """A child of the delegated cgroup v2 folder for one box: limits on the whole box."""

    def __init__(self, parent: Path, name: str, memory_bytes: int, tasks: int):
        if not (parent / "cgroup.procs").is_file() or not os.access(parent, os.W_OK):
            raise GraderError(f"{CGROUP_ENV}={parent} is not a cgroup v2 folder this grader may "
                              "manage (it needs cgroup.procs and write access)")
        self.path = parent / name
        self.path.mkdir()
        (self.path / "memory.max").write_text(f"{memory_bytes}\n")
        (self.path / "pids.max").write_text(f"{tasks}\n")
        if (self.path / "memory.swap.max").exists():
            (self.path / "memory.swap.max").write_text("0\n")

    @classmethod
    def delegated(cls, name, memory_bytes, tasks):
        """The box's cgroup where ``SSD_COURSE_CGROUP`` names one, else None."""
        parent = os.environ.get(CGROUP_ENV)
        return cls(Path(parent), name, memory_bytes, tasks) if parent else None

    def enter(self):
        """For preexec_fn: move the calling (child) process in before it execs."""
        with open(self.path / "cgroup.procs", "w") as f:
            f.write("0\n")

    def peak(self):
        f = self.path / "memory.peak"
        return int(f.read_text()) if f.is_file() else None

    def close(self):
        """Kill every process of the box and remove the group."""
        kill = self.path / "cgroup.kill"
        if kill.exists():
            kill.write_text("1\n")
        for _ in range(50):
            procs = (self.path / "cgroup.procs").read_text().split() \
                if (self.path / "cgroup.procs").exists() else []
            for pid in procs:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)


# --- the bubblewrap command line -----------------------------------------------------------------

def bound_roots():
    """Read-only binds: the system and the Python installation, nothing else."""
    roots = ["/usr", "/etc"]
    for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable))):
        p = os.path.realpath(p)
        if not any(p == r or p.startswith(r + "/") for r in roots):
            roots.append(p)
    # a bind of a folder inside another bound folder is redundant
    return [r for r in roots if not any(r != o and r.startswith(o + "/") for o in roots)]


def _ancestors(paths):
    """Every folder above `paths` that bubblewrap must create, parents first."""
    out = []
    for p in paths:
        parts = Path(p).parts[1:-1]
        for i in range(1, len(parts) + 1):
            a = "/" + "/".join(parts[:i])
            if a not in out:
                out.append(a)
    return out


def bwrap_command(path, tmp: Path, inside: dict, limits, hide, env: dict) -> list:
    """bwrap's arguments: namespaces, the read-only view, sized tmpfs, hidden paths, env."""
    cmd = [path, *namespace_options(), "--dev", "/dev", "--proc", "/proc",
           "--size", str(limits.file_bytes), "--perms", "1777", "--tmpfs", "/tmp",
           "--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/dev/shm"]
    for top in ("lib", "lib64", "bin", "sbin"):
        p = f"/{top}"
        if os.path.islink(p):
            cmd += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            cmd += ["--ro-bind", p, p]
    roots = bound_roots()
    for folder in _ancestors(roots):   # bubblewrap would make them 0700: the box user could not pass
        if not any(folder == r or folder.startswith(r + "/") for r in roots):
            cmd += ["--perms", "0755", "--dir", folder]
    for r in roots:
        cmd += ["--ro-bind", r, r]
    for h in hide:
        h = str(h)
        if any(h.startswith(r + "/") for r in roots):  # hiding a bound root itself would hide Python
            if os.path.isdir(h):
                cmd += ["--tmpfs", h]
            elif os.path.exists(h):
                cmd += ["--ro-bind", "/dev/null", h]
    for outside, where in inside.items():
        cmd += ["--ro-bind", str(outside), where]
    cmd += ["--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd


# --- folders named after the process that writes them -------------------------------------------
# A grader killed with SIGKILL cannot clean up; its folders say whose they were, so the next
# grading on the same machine removes them once that process is gone (never another machine's,
# for shards writing into a shared folder).
_HOST = socket.gethostname().replace("-", "_")


def owned_folder(parent, prefix: str) -> Path:
    """A new folder ``parent/<prefix><host>-<pid>-<random>`` of this process (see `sweep_dead`)."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{_HOST}-{os.getpid()}-", dir=parent))


def sweep_dead(parent, prefix: str) -> int:
    """Remove the `owned_folder` folders under `parent` whose process on this machine is gone;
    returns how many. A folder whose process runs, or made on another machine, is left alone."""
    removed = 0
    for folder in Path(parent).glob(f"{prefix}*"):
        host, _, pid = folder.name[len(prefix):].rpartition("-")[0].rpartition("-")  # HOST-PID-random
        if host == _HOST and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
