"""A warm box: one box started once per grading worker, that grades one submission after another.

Starting a box costs about 3 s of CPU, nearly all of it importing torch, and a
student's six exercises take about 0.3 s more: a class graded box by box is
mostly spent starting boxes. A warm box imports once. Its first process (the
template, ``runner.template``) never runs graded code; per submission it forks
a process that becomes that submission's zygote (``runner.submission``), which
then does what the zygote of a fresh box does (its own user, no capabilities,
its limits, one child per exercise under the filter).

What one submission can leave for the next in the same warm box, and why it
is nothing:

    files       the filter lets graded code create and write no file; the box's /tmp and
                /dev/shm are tmpfs inside the box; each submission's files are in a folder
                of its own, readable by its user only, bound read-only, removed after it
    processes   one user per submission (``box.BoxUser``): every process of that user is
                killed after the grading (``box.kill_user``), before its user is reused
    memory      a submission's processes are forks of the template, which holds torch and
                the job's descriptors, never a submission's code, files or a case's inputs
    the template  runs as root with CAP_SETUID/SETGID/SETPCAP only, non-dumpable; graded
                code runs as another user, can neither signal (filter) nor trace it

The mount, network and PID namespaces are the box's, shared by the submissions
it grades one at a time. Where the machine delegates a cgroup (``SSD_COURSE_CGROUP``)
it holds the whole warm box: it bounds the one submission being graded plus the
template. Only a root grader uses warm boxes (a user per submission needs root);
another grader starts a fresh box per submission.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import box as box_mod
from autograder.box import GraderError

INBOX = "/tmp/inbox"      # where the submissions' folders appear in a bubblewrap warm box


def usable() -> bool:
    """Whether a warm box can grade here: a root grader (a user of its own per submission)."""
    return os.geteuid() == 0


class WarmBox:
    """The box of one worker; ``start()``, then Sandbox(..., warm=self) per submission, ``close()``.

    Args:
        isolation: ``box.Isolation`` (the kind of box; the same for every submission).
        limits: ``sandbox.Limits``; the box-wide ones (its /tmp, the cgroup) are fixed at start.
        hide: paths no submission may see (the class, the results).
    """

    def __init__(self, isolation, limits, hide=()):
        self.isolation, self.limits, self.hide = isolation, limits, tuple(hide)
        self.proc, self.sock, self.cgroup, self.tmp = None, None, None, None
        self.started = 0          # how many times the template was started (a restart after a death)

    # -- the box ------------------------------------------------------------------------------
    def start(self):
        from autograder import sandbox

        box_mod.sweep_dead(tempfile.gettempdir(), sandbox.TMP_PREFIX)
        self.tmp = box_mod.owned_folder(tempfile.gettempdir(), sandbox.TMP_PREFIX)
        try:
            self._launch(sandbox)
            self._wait_ready(sandbox.STARTUP_S)
        except BaseException:
            self.close()
            raise
        self.started += 1
        return self

    def _launch(self, sandbox):
        grader, inbox = self.tmp / "grader", self.tmp / "inbox"
        self.tmp.chmod(0o711)       # a submission's user passes through to its own folder
        grader.mkdir()
        inbox.mkdir()
        inbox.chmod(0o711)          # each submission's folder in it is its own user's only     # each submission's folder in it is its own user's only
        for name in sandbox.BOX_FILES:
            shutil.copyfile(sandbox.HERE / name, grader / name)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        strong = self.isolation.strong
        grader_in = Path(sandbox.GRADER) if strong else grader
        # everything graded code may import, torchvision too (1.5-3 s of import): once per box
        (grader / "box.json").write_text(json.dumps(
            {"socket_fd": theirs.fileno(), "preload_all": True}))
        python = [sys.executable, "-I", "-B", "-u", str(grader_in / "runner.py"), "--template",
                  str(grader_in / "box.json")]
        self.cgroup = box_mod.Cgroup.delegated(
            f"warm-{os.getpid()}-{secrets.token_hex(4)}",
            2 * self.limits.memory_bytes + (2 << 30), self.limits.tasks + 16)
        if strong:
            cmd = box_mod.bwrap_command(box_mod.bwrap_probe()[0], self.tmp,
                                        {grader: sandbox.GRADER, inbox: INBOX}, self.limits,
                                        sandbox.hidden_paths(self.hide), sandbox.child_env())
            cmd += python
        else:
            cmd = python
        self.log = open(self.tmp / "template.log", "wb")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT, env=sandbox.child_env(),
                                         cwd=str(self.tmp), pass_fds=[theirs.fileno()],
                                         start_new_session=True,
                                         preexec_fn=self.cgroup.enter if self.cgroup else None)
        finally:
            theirs.close()

    def _wait_ready(self, seconds):
        """Block until the template has imported torch and listens; GraderError otherwise."""
        self.sock.settimeout(seconds)
        try:
            said = self.sock.recv(16)
        except OSError:
            said = b""
        finally:
            self.sock.settimeout(None)
        if said != b"ready":
            raise GraderError(self.why_dead() if not self.alive() else
                              f"the warm box did not start within {seconds:g} s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def why_dead(self) -> str:
        """The template's last words (its log), for an error line."""
        try:
            text = (self.tmp / "template.log").read_text(errors="replace").strip()
        except OSError:
            text = ""
        return f"the warm box ended (exit {self.proc.returncode}): {text[-300:] or 'no output'}"

    # -- one submission -----------------------------------------------------------------------
    def folder(self) -> Path:
        """A new folder for one submission's files, under the inbox (removed by its Sandbox)."""
        from autograder import sandbox
        return box_mod.owned_folder(self.tmp / "inbox", sandbox.TMP_PREFIX)

    def inside(self, folder: Path) -> Path:
        """Where `folder` (from ``folder()``) is seen by the box's processes."""
        return Path(INBOX) / folder.name if self.isolation.strong else folder

    def ensure(self):
        """Start the box again if its template died (before a submission's folder is made)."""
        if not self.alive():
            self.close()
            self.start()
        return self

    def submit(self, job: dict, fds: list):
        """Hand one submission's job and descriptors to the template; GraderError if it is gone."""
        try:
            socket.send_fds(self.sock, [json.dumps(job).encode()], fds)
        except (OSError, AttributeError) as exc:   # AttributeError: closed (no socket)
            raise GraderError(self.why_dead() if self.proc else f"the warm box is not started ({exc})")

    def close(self):
        """Kill the box and remove its files (the submissions' users are their Sandboxes')."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if self.cgroup is not None:
            self.cgroup.close()
            self.cgroup = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
