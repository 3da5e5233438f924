"""The sandbox's first process (the zygote): ``python -I -B runner.py JOB.json``.

It imports torch once, gives up its privileges, then forks one exercise child
(``child.py``) per exercise, at most ``jobs`` at a time (``submission``). In a
warm box (``warm.py``), ``runner.py --template BOX.json`` imports once and then,
per job received on its socket, forks a process that does the same for that
submission (``template``):

- privileges: started as root (bubblewrap in a root grader, or the plain-process
  mode), it empties its capability bounding set and becomes the box's own
  unprivileged user (``uid``) before anything else; it also makes itself
  non-dumpable, so no child can open its ``/proc/<pid>/fd`` or trace it
- limits shared by every child: no core dumps, files no larger than ``file_limit``,
  at most ``tasks`` processes and threads for the box's user
- each child's wall time (``time_limit``, measured here, outside the child:
  SIGKILL, which no handler can catch; the filter leaves the child no way to
  signal, stop or re-limit the zygote); how each child ended goes to the grader
  on the control pipe: ``{"type": "ended", "module", "seconds", "timeout" |
  "signal" | "exit"}``

The job file names modules, functions, descriptors and limits, never a case's
inputs: those travel to a child only when the grader sends that call.

This file runs inside the sandbox: standard library, numpy and torch only.
"""
import ctypes
import json
import os
import resource
import signal
import sys
import time

try:
    from autograder import child, wire
except ImportError:  # inside the sandbox these files lie side by side
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import child
    import wire

PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER = 4, 24, 36
PRELOAD = ("numpy", "torch")   # once for all children
# In the plain-process mode the box's user may not be able to read the Python
# installation (e.g. under /root): what graded code may import is loaded before
# the privileges go (the sandbox asks for it with "preload_all").
PRELOAD_ALL = PRELOAD + ("torchvision", "math", "itertools", "functools", "collections",
                         "typing", "dataclasses", "warnings", "operator", "heapq", "bisect",
                         "random", "statistics", "importlib.util", "socket", "encodings.idna",
                         "traceback", "fractions", "decimal", "copy", "time", "json", "re")


def _prctl(option, arg):
    return ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0)


def drop_privileges(uid: int) -> None:
    """Become `uid` with no capabilities at all (a no-op for a process that is not root)."""
    if os.geteuid() != 0 or uid is None:
        return
    for cap in range(64):
        _prctl(PR_CAPBSET_DROP, cap)   # fails harmlessly past the last capability
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)        # from root to another user: every capability is cleared
    if os.getuid() != uid or _capabilities():
        raise RuntimeError("could not give up root")


def _capabilities() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def _set_limits(job):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job["file_limit"], job["file_limit"]))
    if job.get("tasks"):
        resource.setrlimit(resource.RLIMIT_NPROC, (job["tasks"], job["tasks"]))


class Control:
    def __init__(self, fd):
        self.fd = fd

    def send(self, message):
        view = memoryview(wire.encode_frames(message))
        while view:
            view = view[os.write(self.fd, view):]


def zygote(job_path: str) -> int:
    """One box, one submission: import, then grade the job of `job_path`."""
    with open(job_path) as f:
        job = json.load(f)
    _preload(job)
    return submission(job)


def _preload(job):
    for name in PRELOAD_ALL if job.get("preload_all") else PRELOAD:
        __import__(name)
    import torch

    torch.set_num_threads(1)


def submission(job: dict) -> int:
    """Grade one submission's exercises: give up privileges, set limits, fork the children."""
    control = Control(job["control_fd"])
    drop_privileges(job.get("uid"))
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)   # orphans come back to us, so none can hide
    _set_limits(job)
    pending, running = list(job["exercises"]), {}
    control.send({"type": "ready", "uid": os.getuid(), "capabilities": _capabilities()})
    while pending or running:
        while pending and len(running) < job["jobs"]:
            ex = pending.pop(0)
            child._flush()
            pid = os.fork()
            if pid == 0:
                child.main(ex, job["limits"])
            running[pid] = (ex["module"], time.monotonic(), False)
            for fd in (ex["cmd_fd"], ex["result_fd"], ex["out_fd"], ex["err_fd"], ex["memory_fd"]):
                os.close(fd)  # the child holds them now
        _reap(running, control, job["limits"]["wall"])
        time.sleep(0.01)
    control.send({"type": "done"})
    return 0


# --- the warm box: one box, one submission after another ------------------------------------------

FD_KEYS = ("control_fd", "output_fd", "cmd_fd", "result_fd", "out_fd", "err_fd", "memory_fd")
MAX_FDS = 64          # descriptors of one submission: 2 + 5 per exercise


def template(job_path: str) -> int:
    """The first process of a warm box (``warm.py``): import once, then, per message on the
    socket, fork a process that grades that submission (``submission``) as its own user.

    It never runs graded code and never reads a submission's files or a case's inputs:
    a later submission's processes, forked from it, find nothing of an earlier one in it.
    """
    import socket

    with open(job_path) as f:
        box = json.load(f)
    _prctl(PR_SET_DUMPABLE, 0)
    _preload(box)
    sock = socket.socket(fileno=box["socket_fd"])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # the kernel reaps the submissions' zygotes
    sock.send(b"ready")
    while True:
        data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, MAX_FDS)
        if not data:
            return 0   # the grader closed the socket
        job = _renumber(json.loads(data), fds)
        child._flush()
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os._exit(_submission_process(job, sock.fileno()))
        for fd in fds:
            os.close(fd)   # the submission's process holds them now


def _submission_process(job, socket_fd) -> int:
    try:
        os.close(socket_fd)
        os.dup2(job["output_fd"], 1)
        os.dup2(job["output_fd"], 2)
        os.close(job["output_fd"])
        os.chdir(job["cwd"])
        return submission(job)
    except BaseException as exc:   # noqa: BLE001  the grader sees this on the submission's output
        print(f"the warm box could not start this submission: {type(exc).__name__}: {exc}",
              flush=True)
        return 1


def _renumber(job: dict, fds: list) -> dict:
    """The job names its descriptors by their number on the grader's side, in the order
    ``job["fds"]`` lists them; here they arrived as `fds`, in that order."""
    if len(fds) != len(job["fds"]):
        raise RuntimeError(f"expected {len(job['fds'])} descriptors, got {len(fds)}")
    mapping = dict(zip(job["fds"], fds))
    for part in [job] + job["exercises"]:
        for key in FD_KEYS:
            if key in part:
                part[key] = mapping[part[key]]
    return job


def _reap(running, control, time_limit):
    now = time.monotonic()
    for pid, (module, started, killed) in list(running.items()):
        if not killed and now - started > time_limit:
            _kill(pid)
            running[pid] = (module, started, True)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid not in running:
            continue  # an orphan re-parented to us (none can exist under the filter)
        module, started, killed = running.pop(pid)
        report = {"type": "ended", "module": module, "seconds": round(time.monotonic() - started, 2)}
        if killed:
            report["timeout"] = time_limit
        elif os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exit"] = os.WEXITSTATUS(status)
        control.send(report)


def _kill(pid):
    """An exercise child is one process (the filter lets it start no other): kill it."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(template(sys.argv[2]) if sys.argv[1] == "--template" else zygote(sys.argv[1]))
