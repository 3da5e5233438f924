"""Running student code in a child process the grader can always stop.

One sandbox per grading run holds the runner (``runner.py``): it imports torch
once and forks one child per exercise. What the sandbox gives, with bubblewrap:

- a filesystem view of the system and the Python installation only, read-only:
  no ``solutions/``, no hidden cases, no grader output, no home or work folders;
  the submission's exercise files are copied in (``/tmp/submission``), so a
  symlink cannot point the grader at another file and a ``torch.py`` beside
  them is never on ``sys.path`` (``python -I``);
- no network (its own, empty network namespace), its own PID namespace: when
  the runner ends, the kernel ends every process a submission started;
- limits per exercise child: wall time (killed with SIGKILL, which no signal
  handler can catch), address space (memory), file size, no core dumps;
- stdout/stderr captured per exercise and truncated; past ``output_bytes`` the
  pipe is closed and the exercise scores 0.

Without bubblewrap (or where namespaces are not allowed) the same runner runs
as a plain child in its own session: limits, capture and clean-up hold, the
filesystem and network do not, and every report says so.

The parent reads plain frames only (``runner.FrameReader``): JSON and ``.npy``
loaded with ``allow_pickle=False``. Nothing from the child is ever unpickled.
"""
import functools
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import runner

RUNNER = Path(runner.__file__).resolve()
INSIDE = "/tmp/submission"      # where the submission's files appear in the sandbox
GRADER = "/tmp/grader"          # the runner and its job file
STARTUP_S = 30.0                # importing torch under load, before any student code runs


@dataclass
class Limits:
    """Per-exercise limits. Times in seconds, sizes in bytes."""
    time_s: float = 30.0                 # wall time of one exercise's child
    memory_bytes: int = 3 << 30          # address space beyond what the runner (torch) maps
    output_bytes: int = 1 << 20          # stdout + stderr; more is "huge output"
    shown_bytes: int = 2000              # kept for the report
    result_bytes: int = 256 << 20        # frames on the result pipe
    file_bytes: int = 64 << 20           # largest file the child may write (its /tmp)


@dataclass
class Isolation:
    kind: str        # "bubblewrap" or "process"
    note: str        # one line for reports

    @property
    def strong(self) -> bool:
        return self.kind == "bubblewrap"


@functools.lru_cache(maxsize=None)
def _bwrap_probe():
    path = shutil.which("bwrap")
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    try:
        # the options the grader uses, on a trivial command
        out = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                              "--new-session", "--dev", "/dev", "--proc", "/proc", "--size", "1048576",
                              "--tmpfs", "/tmp", "--clearenv", "true"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap did not run: {exc}"
    if out.returncode != 0:
        return None, f"bwrap cannot create namespaces here: {out.stderr.strip()[:120]}"
    return path, None


def choose_isolation(kind: str = "auto") -> Isolation:
    """``auto``: bubblewrap where it works, else plain processes; ``bubblewrap`` or ``process`` to force."""
    if kind not in ("auto", "bubblewrap", "process"):
        raise ValueError(f"isolation must be auto, bubblewrap or process, got {kind!r}")
    if kind == "process":
        return Isolation("process", "weaker isolation: plain child processes (asked for); time, "
                                    "memory and output limits hold, files and network are reachable")
    path, problem = _bwrap_probe()
    if path:
        return Isolation("bubblewrap", "bubblewrap: read-only system view without solutions/ or "
                                       "hidden cases, no network, own PID namespace")
    if kind == "bubblewrap":
        raise RuntimeError(f"bubblewrap isolation asked for, but {problem}")
    return Isolation("process", f"weaker isolation: {problem}; time, memory and output limits "
                                "hold, but graded code can read files and use the network "
                                "(install bubblewrap: sudo apt-get install bubblewrap)")


@dataclass
class ExerciseRun:
    """What came back from one exercise's child: frames, how it ended, its output."""
    module: str
    frames: list = field(default_factory=list)    # (parent's monotonic time, message, arrays)
    ended: dict = None                            # the runner's report on how the child ended
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    output_total: int = 0
    output_overflow: bool = False
    result_total: int = 0
    protocol_error: str = None

    def output_text(self) -> str:
        text = (bytes(self.stdout) + bytes(self.stderr)).decode("utf-8", "replace")
        return runner.sanitize(text, limit=len(text) + 1)


def reference_cache() -> Path:
    from autograder.reference import cache_dir
    return cache_dir().resolve()


class GraderError(RuntimeError):
    """The grading machinery failed (not the submission): nothing was graded."""


def _hidden_paths(extra=()):
    """Folders the child must not see even where they sit inside a bound folder."""
    from ssd_course import impl

    paths = [Path(__file__).resolve().parent, reference_cache()]
    if impl.solutions_dir() is not None:
        paths.append(impl.solutions_dir().resolve())
    paths += [Path(p).resolve() for p in extra]
    return paths


def _bound_roots():
    """Read-only binds: the system and the Python installation, nothing else."""
    roots = ["/usr", "/etc"]
    for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable))):
        p = os.path.realpath(p)
        if not any(p == r or p.startswith(r + "/") for r in roots):
            roots.append(p)
    # a bind of a folder inside another bound folder is redundant
    return [r for r in roots if not any(r != o and r.startswith(o + "/") for o in roots)]


def _bwrap_command(path, tmp: Path, limits: Limits, hide) -> list:
    cmd = [path, "--unshare-all", "--die-with-parent", "--new-session",
           "--dev", "/dev", "--proc", "/proc", "--size", str(limits.file_bytes), "--tmpfs", "/tmp"]
    for top in ("lib", "lib64", "bin", "sbin"):
        p = f"/{top}"
        if os.path.islink(p):
            cmd += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            cmd += ["--ro-bind", p, p]
    roots = _bound_roots()
    for r in roots:
        cmd += ["--ro-bind", r, r]
    for h in hide:
        h = str(h)
        if any(h.startswith(r + "/") for r in roots):  # hiding a bound root itself would hide Python
            if os.path.isdir(h):
                cmd += ["--tmpfs", h]
            elif os.path.exists(h):
                cmd += ["--ro-bind", "/dev/null", h]
    cmd += ["--ro-bind", str(tmp / "grader"), GRADER,
            "--ro-bind", str(tmp / "submission"), INSIDE,
            "--chdir", INSIDE, "--clearenv"]
    for key, value in _child_env().items():
        cmd += ["--setenv", key, value]
    return cmd


def _child_env(token=None) -> dict:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1"}
    if token:
        env["SSD_COURSE_GRADER_TOKEN"] = token
    return env


class Sandbox:
    """One run of the runner over some exercises; ``start()`` then ``wait()``.

    Args:
        exercises: ``{module: (source bytes, job dict)}``: the student's file and the
            job (function name and cases, inputs only) of each exercise to run.
        isolation: from ``choose_isolation``.
        limits: per-exercise limits.
        parallel: exercise children running at once.
        hide: extra paths the child must not see (e.g. the grader's output file).
    """

    def __init__(self, exercises: dict, isolation: Isolation, limits: Limits, parallel=2, hide=()):
        self.exercises, self.isolation, self.limits = exercises, isolation, limits
        self.parallel, self.hide = max(1, parallel), hide
        self.runs = {m: ExerciseRun(m) for m in exercises}
        self.ready = False
        self.zygote_output = bytearray()
        self._thread = None
        self._error = None

    # -- start --------------------------------------------------------------------------------
    def start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="ssd-course-grade-"))
        (self.tmp / "grader").mkdir()
        exercises_dir = self.tmp / "submission" / "ssd_course" / "exercises"
        exercises_dir.mkdir(parents=True)
        shutil.copyfile(RUNNER, self.tmp / "grader" / "runner.py")
        strong = self.isolation.strong
        inside = Path(INSIDE) if strong else self.tmp / "submission"
        grader = Path(GRADER) if strong else self.tmp / "grader"

        control_r, control_w = os.pipe()
        self._fds = {control_r: ("control", None)}
        keep_open, jobs = [control_w], []
        for module, (source, job) in self.exercises.items():
            (exercises_dir / f"{module}.py").write_bytes(source)
            pipes = {name: os.pipe() for name in ("result", "out", "err")}
            for name, (r, w) in pipes.items():
                self._fds[r] = (name, module)
                keep_open.append(w)
            jobs.append(dict(job, module=module, path=str(inside / "ssd_course" / "exercises" / f"{module}.py"),
                             result_fd=pipes["result"][1], out_fd=pipes["out"][1], err_fd=pipes["err"][1]))
        all_fds = [fd for j in jobs for fd in (j["result_fd"], j["out_fd"], j["err_fd"])]
        for j in jobs:
            j["close_fds"] = [fd for fd in all_fds if fd not in (j["result_fd"], j["out_fd"], j["err_fd"])]
        job = {"control_fd": control_w, "exercises": jobs, "jobs": self.parallel,
               "time_limit": self.limits.time_s, "memory_limit": self.limits.memory_bytes,
               "file_limit": self.limits.file_bytes}
        (self.tmp / "grader" / "job.json").write_text(json.dumps(job))

        python = [sys.executable, "-I", "-B", "-u", str(grader / "runner.py"), str(grader / "job.json")]
        self.token = secrets.token_hex(8)
        if strong:
            cmd = _bwrap_command(_bwrap_probe()[0], self.tmp, self.limits, _hidden_paths(self.hide))
            cmd, env, cwd = cmd + python, _child_env(), None
        else:
            cmd, env, cwd = python, _child_env(self.token), str(self.tmp / "submission")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                         pass_fds=keep_open, start_new_session=True)
        finally:
            for fd in keep_open:
                os.close(fd)
        self._fds[self.proc.stdout.fileno()] = ("zygote", None)
        rounds = -(-len(self.exercises) // self.parallel)
        self.deadline = time.monotonic() + STARTUP_S + rounds * (self.limits.time_s + 5)
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    # -- the I/O loop (a thread, so the parent computes expected values meanwhile) ------------
    def _pump(self):
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001  (reported by wait())
            self._error = exc
        finally:
            self._stop()

    def _loop(self):
        sel = selectors.DefaultSelector()
        readers = {}
        for fd, (name, module) in self._fds.items():
            sel.register(fd, selectors.EVENT_READ, (name, module))
            if name in ("result", "control"):
                readers[fd] = runner.FrameReader()
        pending_arrays = {}
        while sel.get_map():
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                break
            for key, _ in sel.select(timeout=min(timeout, 1.0)):
                fd, (name, module) = key.fd, key.data
                try:
                    data = os.read(fd, 1 << 20)
                except OSError:
                    data = b""
                now = time.monotonic()
                if not data:
                    sel.unregister(fd)
                    if name != "zygote":  # the Popen object closes its own pipe
                        os.close(fd)
                    continue
                if name == "zygote":
                    if len(self.zygote_output) < 20000:
                        self.zygote_output += data
                elif name in ("out", "err"):
                    self._capture(fd, sel, self.runs[module], name, data)
                else:
                    self._frames(fd, sel, readers[fd], name, module, data, now, pending_arrays)

    def _capture(self, fd, sel, run, name, data):
        run.output_total += len(data)
        buf = run.stdout if name == "out" else run.stderr
        room = self.limits.shown_bytes - len(run.stdout) - len(run.stderr)
        if room > 0:
            buf += data[:room]
        if run.output_total > self.limits.output_bytes and not run.output_overflow:
            run.output_overflow = True
        if run.output_overflow:
            sel.unregister(fd)   # the child's next write fails (EPIPE): it stops or is killed
            os.close(fd)

    def _frames(self, fd, sel, reader, name, module, data, now, pending):
        run = self.runs.get(module)
        if run is not None:
            run.result_total += len(data)
            if run.result_total > self.limits.result_bytes:
                run.protocol_error = f"sent more than {self.limits.result_bytes >> 20} MB of results"
                sel.unregister(fd)
                os.close(fd)
                return
        try:
            frames = reader.feed(data)
            for kind, payload in frames:
                if kind == b"J":
                    message = json.loads(payload)
                    if not isinstance(message, dict):
                        raise ValueError("a frame that is not a JSON object")
                    entry = (now, message, [])
                    if name == "control":
                        self._control(message)
                    else:
                        run.frames.append(entry)
                    pending[fd] = [entry, int(message.get("n_arrays", 0))]
                else:
                    entry, left = pending.get(fd, (None, 0))
                    if not left:
                        raise ValueError("an array frame without its JSON frame")
                    entry[2].append(runner.decode_array(payload))
                    pending[fd][1] -= 1
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            if name == "control":
                raise GraderError(f"the grader's runner sent a corrupt report: {exc}")
            run.protocol_error = f"the result channel was corrupted ({runner.sanitize(exc, 80)})"
            sel.unregister(fd)
            os.close(fd)

    def _control(self, message):
        if message.get("type") == "ready":
            self.ready = True
        elif message.get("type") == "ended" and message.get("module") in self.runs:
            self.runs[message["module"]].ended = message

    # -- stop and clean up --------------------------------------------------------------------
    def _stop(self):
        """Kill the whole process group (and, without namespaces, any process that carries our token)."""
        for attempt in range(2):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        if not self.isolation.strong:
            kill_by_token(self.token)
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cancel(self) -> None:
        """Stop the runner now (the grader failed elsewhere) and clean up."""
        self.deadline = 0
        self._thread.join()

    def wait(self) -> dict:
        """Block until the runner is done (or its deadline passed); the runs by module."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if not self.ready:
            raise GraderError("the grader's runner did not start: "
                              + self.zygote_output.decode("utf-8", "replace")[-1500:])
        return self.runs


def kill_by_token(token: str) -> int:
    """Kill every process whose environment carries our token (the fallback's leftovers)."""
    needle = f"SSD_COURSE_GRADER_TOKEN={token}".encode()
    killed = 0
    for _ in range(3):  # a process may fork while we look; look again
        found = 0
        for entry in (os.listdir("/proc") if os.path.isdir("/proc") else ()):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        os.kill(int(entry), signal.SIGKILL)
                        found += 1
            except OSError:
                continue
        killed += found
        if not found:
            break
        time.sleep(0.05)
    return killed
