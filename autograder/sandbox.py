"""Running one submission's exercises in a box, driven call by call from the trusted side.

One box per grading run (``box.py`` says what a box is and guarantees) holds the
zygote (``runner.py``), which imports torch once and forks one child per
exercise (``child.py``). This process drives every child itself:

- it sends each call's inputs only when that call is due (public cases first),
  and measures the call's time on its own clock, from sending it to the result;
- the child lays the tensor arguments in a sealed memfd this process created,
  where ``values.placements`` says, and this process reads them back after the
  call: whether an input changed is seen here, not reported;
- every frame is bounded before it is buffered (``wire.FrameReader``), every
  message checked against its schema (``messages.py``); a child that breaks the
  protocol loses its exercise (one line), never the others, never the grader;
- what the child prints is kept until the first hidden call goes out, counted
  but not kept after that, so hidden inputs never reach a report.
"""
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
from dataclasses import dataclass
from pathlib import Path

from autograder import box as box_mod
from autograder import messages, wire
from autograder.box import GraderError, Isolation
from autograder.calls import CallProtocol, Driver, ExerciseRun

HERE = Path(__file__).resolve().parent
BOX_FILES = ("runner.py", "child.py", "values.py", "wire.py", "seccomp.py")
INSIDE = "/tmp/submission"      # where the submission's files appear in the box
GRADER = "/tmp/grader"          # the box's own code and its job file
STARTUP_S = 30.0                # importing torch under load, before any student code runs


@dataclass
class Limits:
    """Limits of one grading. Times in seconds, sizes in bytes."""
    time_s: float = 30.0                 # wall and CPU time of one exercise's child
    memory_bytes: int = 3 << 30          # address space of one exercise's child beyond the zygote's
    tasks: int = 64                      # processes + threads of the whole box
    output_bytes: int = 1 << 20          # stdout + stderr; more is "huge output"
    shown_bytes: int = 2000              # kept for the report
    result_bytes: int = 128 << 20        # frames on one exercise's result pipe
    file_bytes: int = 64 << 20           # the box's /tmp (nothing in it is writable by graded code)


TMP_PREFIX = "ssd-course-grade-"


def child_env(token=None) -> dict:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1",
           # Libraries that make their cache folder at import (torch._dynamo, which
           # torchvision.ops imports) are pointed at one that exists: nothing can be created
           "TORCHINDUCTOR_CACHE_DIR": "/tmp", "XDG_CACHE_HOME": "/tmp", "MPLCONFIGDIR": "/tmp"}
    if token:
        env["SSD_COURSE_GRADER_TOKEN"] = token
    return env


def reference_cache() -> Path:
    from autograder.reference import cache_dir
    return cache_dir().resolve()


def hidden_paths(extra=()):
    """Folders the child must not see even where they sit inside a bound folder."""
    from ssd_course import impl

    paths = [HERE, reference_cache()]
    if impl.solutions_dir() is not None:
        paths.append(impl.solutions_dir().resolve())
    paths += [Path(p).resolve() for p in extra]
    return paths


class Sandbox(CallProtocol):
    """One run of the box over some exercises; ``start()`` then ``wait()``.

    Args:
        exercises: ``{module: Exercise}``.
        isolation: from ``choose_isolation``.
        limits: ``Limits``.
        parallel: exercise children running at once.
        hide: extra paths the child must not see (e.g. the grader's output file).
    """

    def __init__(self, exercises: dict, isolation: Isolation, limits: Limits, parallel=2, hide=(),
                 warm=None):
        self.exercises, self.isolation, self.limits = exercises, isolation, limits
        self.parallel, self.hide, self.warm = max(1, parallel), hide, warm
        self.runs = {m: ExerciseRun(m) for m in exercises}
        self.ready, self.box_report = False, {}
        self.zygote_output = bytearray()
        self._thread, self._error, self.cgroup, self.user = None, None, None, None
        self.control_broken, self.peak_bytes, self.proc = None, None, None

    # -- start --------------------------------------------------------------------------------
    def start(self):
        if self.warm is None:
            box_mod.sweep_dead(tempfile.gettempdir(), TMP_PREFIX)   # boxes of killed graders
            self.tmp = box_mod.owned_folder(tempfile.gettempdir(), TMP_PREFIX)
        else:
            self.tmp = self.warm.ensure().folder()
        try:
            self._start()
        except BaseException:
            for fd, (name, _) in getattr(self, "_fds", {}).items():   # the loop never ran
                if not (name == "zygote" and self.proc is not None):
                    os.close(fd)
            self._cleanup()
            raise
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def _start(self):
        self.user = box_mod.BoxUser()
        if self.user.uid is None:
            box_mod.Undumpable.enter()
            self.undumpable = True
        self.token = secrets.token_hex(8)
        exercises_dir = self.tmp / "submission" / "ssd_course" / "exercises"
        exercises_dir.mkdir(parents=True)
        strong = self.isolation.strong
        if self.warm is not None:
            inside = self.warm.inside(self.tmp) / "submission"
        else:
            inside = Path(INSIDE) if strong else self.tmp / "submission"
        control_r, control_w = os.pipe()
        self._fds = {control_r: ("control", None)}
        self.drivers, keep_open, jobs = {}, [control_w], []
        for module, exercise in self.exercises.items():
            (exercises_dir / f"{module}.py").write_bytes(exercise.source)
            driver = self.drivers[module] = Driver(module, exercise, self.runs[module])
            pipes = {name: os.pipe() for name in ("cmd", "result", "out", "err")}
            for name in ("result", "out", "err"):
                self._fds[pipes[name][0]] = (name, module)
                keep_open.append(pipes[name][1])
            driver.cmd_fd = pipes["cmd"][1]
            os.set_blocking(driver.cmd_fd, False)   # a child that stops reading cannot block us
            keep_open += [pipes["cmd"][0], driver.memory_fd]
            jobs.append({"module": module, "function": exercise.function,
                         "path": str(inside / "ssd_course" / "exercises" / f"{module}.py"),
                         "cmd_fd": pipes["cmd"][0], "result_fd": pipes["result"][1],
                         "out_fd": pipes["out"][1], "err_fd": pipes["err"][1],
                         "memory_fd": driver.memory_fd, "memory_bytes": driver.memory_bytes})
        self._readable(self.tmp)
        tasks = self.limits.tasks
        if self.user.uid is None:   # the box runs as this user: RLIMIT_NPROC counts all its tasks
            tasks += box_mod.user_tasks(os.getuid())
        job = {"control_fd": control_w, "exercises": jobs, "jobs": self.parallel,
               "uid": self.user.uid, "tasks": tasks,
               "preload_all": self.user.uid is not None and not strong,
               "file_limit": self.limits.file_bytes,
               "limits": {"memory": self.limits.memory_bytes, "cpu": self.limits.time_s,
                          "wall": self.limits.time_s}}
        try:
            if self.warm is not None:
                self._hand_to_warm(job, keep_open, inside)
            else:
                self._launch(job, keep_open, strong)
        finally:
            for fd in keep_open:
                if fd not in [d.memory_fd for d in self.drivers.values()]:
                    os.close(fd)
        rounds = -(-len(self.exercises) // self.parallel)
        startup = STARTUP_S if self.warm is None else 5.0
        self.deadline = time.monotonic() + startup + rounds * (self.limits.time_s + 5)

    def _launch(self, job, keep_open, strong):
        """A fresh box: its own bubblewrap (or process group), started for this submission."""
        grader = self.tmp / "grader"
        grader.mkdir()
        for name in BOX_FILES:
            shutil.copyfile(HERE / name, grader / name)
        (grader / "job.json").write_text(json.dumps(job))
        self._readable(grader)
        grader_in = Path(GRADER) if strong else grader
        python = [sys.executable, "-I", "-B", "-u", str(grader_in / "runner.py"),
                  str(grader_in / "job.json")]
        name = f"box-{self.user.uid or os.getpid()}-{self.token}"
        self.cgroup = box_mod.Cgroup.delegated(
            name, self.parallel * self.limits.memory_bytes + (1 << 30), self.limits.tasks)
        if strong:
            cmd = box_mod.bwrap_command(box_mod.bwrap_probe()[0], self.tmp,
                                        {self.tmp / "grader": GRADER, self.tmp / "submission": INSIDE},
                                        self.limits, hidden_paths(self.hide), child_env())
            cmd, env, cwd = cmd + python, child_env(), None
        else:
            cmd, env, cwd = python, child_env(self.token), str(self.tmp / "submission")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     pass_fds=keep_open, start_new_session=True,
                                     preexec_fn=self.cgroup.enter if self.cgroup else None)
        self._fds[self.proc.stdout.fileno()] = ("zygote", None)

    def _hand_to_warm(self, job, keep_open, inside):
        """A warm box: its template forks this submission's zygote (``warm.py``)."""
        output_r, output_w = os.pipe()
        self._fds[output_r] = ("zygote", None)
        keep_open.append(output_w)
        job.update(output_fd=output_w, fds=list(keep_open),
                   cwd="/tmp" if self.isolation.strong else str(inside))
        self.warm.submit(job, keep_open)

    def _readable(self, top: Path):
        """The box's user must read the job, the box's code and the submission, and no other
        box's user may: the folder goes to the box's group, mode 0750 / 0640 (the zygote
        starts as a root without CAP_DAC_OVERRIDE, so root stays the owner)."""
        if self.user.uid is None:
            return
        for folder, dirs, files in os.walk(top):
            os.chown(folder, 0, self.user.uid)
            os.chmod(folder, 0o750)
            for f in files:
                os.chown(os.path.join(folder, f), 0, self.user.uid)
                os.chmod(os.path.join(folder, f), 0o640)

    # -- the I/O loop (a thread, so the parent computes expected values meanwhile) ------------
    def _pump(self):
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001  (reported by wait())
            self._error = exc
        finally:
            self._stop()

    def _loop(self):
        self.sel = sel = selectors.DefaultSelector()
        self.readers = {}
        for fd, (name, module) in self._fds.items():
            sel.register(fd, selectors.EVENT_READ, (name, module))
            if name in ("result", "control"):
                self.readers[fd] = (wire.FrameReader(), [])
        while any(key.data[0] != "cmd" for key in sel.get_map().values()):
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                break
            for key, events in sel.select(timeout=min(timeout, 1.0)):
                name, module = key.data
                if name == "cmd":
                    self._write(self.drivers[module])
                    continue
                try:
                    data = os.read(key.fd, 1 << 20)
                except OSError:
                    data = b""
                if not data:
                    # the Popen object of a fresh box closes its own pipe
                    self._close(key.fd, closing_zygote=name == "zygote" and self.proc is not None)
                    continue
                if name == "zygote":
                    if len(self.zygote_output) < 20000:
                        self.zygote_output += data
                elif name in ("out", "err"):
                    self._capture(key.fd, self.runs[module], name, data)
                else:
                    self._frames(key.fd, name, module, data)

    def _close(self, fd, closing_zygote=False):
        try:
            self.sel.unregister(fd)
        except (KeyError, ValueError):
            pass
        if not closing_zygote:
            try:
                os.close(fd)
            except OSError:
                pass

    def _capture(self, fd, run, name, data):
        run.output_total += len(data)
        if not run.hidden_started:
            buf = run.stdout if name == "out" else run.stderr
            room = self.limits.shown_bytes - len(run.stdout) - len(run.stderr)
            if room > 0:
                buf += data[:room]
        if run.output_total > self.limits.output_bytes:
            run.output_overflow = True
            self._close(fd)   # the child's next write fails (EPIPE): it stops or is killed

    def _drain(self, run, module):
        """Read what the child printed so far, before a hidden call makes output unshown."""
        for fd, (name, m) in list(self._fds.items()):
            if m == module and name in ("out", "err") and fd in self.sel.get_map():
                os.set_blocking(fd, False)
                try:
                    while True:
                        data = os.read(fd, 1 << 16)
                        if not data:
                            break
                        self._capture(fd, run, name, data)
                except (BlockingIOError, OSError):
                    pass

    # -- frames from a child or the zygote ------------------------------------------------------
    def _frames(self, fd, name, module, data):
        reader, pending = self.readers[fd]
        run = self.runs.get(module)
        try:
            if run is not None:
                run.result_total += len(data)
                if run.result_total > self.limits.result_bytes:
                    raise messages.ProtocolError(
                        f"sent more than {self.limits.result_bytes >> 20} MB of results")
            for kind, payload in reader.feed(data):
                if kind == b"J":
                    if pending and pending[0]["n_arrays"] > len(pending[1]):
                        raise wire.FrameError("a message before the arrays of the last one")
                    pending[:] = [wire.decode_json(payload), []]
                else:
                    if not pending or len(pending[1]) >= pending[0]["n_arrays"]:
                        raise wire.FrameError("an array frame without its message")
                    pending[1].append(wire.decode_array(payload))
                if pending[0]["n_arrays"] == len(pending[1]):
                    message, arrays = pending
                    pending.clear()
                    if name == "control":
                        self._control(message)
                    else:
                        self._message(run, message, arrays)
        except Exception as exc:   # noqa: BLE001  (whatever a child sends costs its exercise only)
            if name == "control":
                self.control_broken = wire.clean(exc, 120)
            elif run.protocol_error is None:
                what = exc if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
                # after a hidden call went out, even a frame's size could carry its inputs
                run.protocol_error = "broke the grader's protocol" + (
                    "" if run.hidden_started else f" ({wire.clean(what, 120)})")
            self._close(fd)
            if run is not None:
                self._end_calls(self.drivers[module])

    def _control(self, message):
        kind = message.get("type")
        if kind == "ready":
            self.ready = True
            self.box_report = {k: message.get(k) for k in ("uid", "capabilities")}
        elif kind == "ended" and message.get("module") in self.runs:
            self.runs[message["module"]].ended = {
                k: message[k] for k in ("module", "seconds", "timeout", "signal", "exit")
                if isinstance(message.get(k), (int, float, str))}

    # -- stop and clean up --------------------------------------------------------------------
    def _stop(self):
        """Kill the box: its process group, its user's processes, its cgroup; remove its files.
        (In a warm box, the submission's processes are all its user's: ``_cleanup`` kills them.)"""
        for key in list(self.sel.get_map().values()) if hasattr(self, "sel") else ():
            if key.data[0] == "cmd":   # the driver's own descriptor: closed by _cleanup
                self.sel.unregister(key.fd)
            else:                      # a read end left open by a deadline
                self._close(key.fd, closing_zygote=key.data[0] == "zygote" and self.proc is not None)
        if hasattr(self, "sel"):
            self.sel.close()
        for attempt in range(2 if self.proc is not None else 0):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        if self.proc is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
        self._cleanup()

    def _cleanup(self):
        if self.cgroup is not None:
            self.peak_bytes = self.cgroup.peak()
            self.cgroup.close()
        if self.user is not None and self.user.uid is not None:
            box_mod.kill_user(self.user.uid)
            # the files go before the user does: the next box to take this uid finds none
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self.user is not None:
            self.user.release()
        if getattr(self, "undumpable", False):
            box_mod.Undumpable.leave()
            self.undumpable = False
        if not self.isolation.strong and self.warm is None and getattr(self, "token", None):
            kill_by_token(self.token)
        for driver in getattr(self, "drivers", {}).values():
            for fd in (driver.memory_fd, getattr(driver, "cmd_fd", None)):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            driver.cmd_fd = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cancel(self) -> None:
        """Stop the box now (the grader failed elsewhere) and clean up."""
        self.deadline = 0
        self._thread.join()

    def wait(self) -> dict:
        """Block until the box is done (or its deadline passed); the runs by module."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if not self.ready:
            said = self.zygote_output.decode("utf-8", "replace")[-1500:]
            if self.warm is not None and not self.warm.alive():
                said = f"{said} ({self.warm.why_dead()})"
            raise GraderError(f"the grader's runner did not start: {said}")
        return self.runs


def kill_by_token(token: str) -> int:
    """Kill every process whose environment carries our token (a box without a user of its own)."""
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
