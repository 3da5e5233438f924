"""One exercise child: the only process that runs a student's code.

Forked by the zygote (``runner.py``), it first closes every descriptor but its
own, sets its limits (address space, CPU time) and loads the system-call filter
(``seccomp.py``); only then does it import the student's file. From there on it
serves the grader, one call at a time, over its own pipes:

    grader -> child   {"type": "call", "call": n, "args", "kwargs", "grad", "time_limit"}
                      (the grader's clock starts; the child lays the tensor arguments in
                      the shared memory the grader owns, where values.placements says)
    child -> grader   {"type": "result", "call": n, "error" | "output", "grads"}
    grader -> child   {"type": "end"}                    (after the last call)

Nothing here is trusted by the grader: it measures the time itself, reads the
inputs back from its own shared memory, and takes dtypes and shapes from the
arrays (``messages.py``). The inputs of a call reach the child only when the
grader sends that call, so no file in the sandbox holds a case's inputs.

This file runs inside the sandbox: standard library, numpy and torch only.
"""
import mmap
import os
import resource
import signal
import sys

try:
    from autograder import seccomp, values, wire
except ImportError:  # inside the sandbox these files lie side by side
    import seccomp
    import values
    import wire

MAX_FILES = 64
MEMORY_PATTERNS = ("can't allocate memory", "not enough memory", "out of memory",
                   "cannot allocate memory")


class CaseTimeout(BaseException):
    """Raised by the per-call alarm; a BaseException so that `except Exception` cannot swallow it."""


class Fatal(Exception):
    """Ends an exercise child early: memory, recursion, exit calls, a broken runner."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


class Channel:
    """Blocking frames over a pair of pipes (this side trusts the grader)."""

    def __init__(self, read_fd, write_fd):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.reader, self.queue = wire.FrameReader(), []
        self.reader.LIMITS = {b"J": 1 << 30, b"A": 1 << 30}

    def send(self, message, arrays=()):
        view = memoryview(wire.encode_frames(message, arrays))
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self) -> dict:
        while not self.queue:
            data = os.read(self.read_fd, 1 << 20)
            if not data:
                raise Fatal("runner", "the grader closed the channel")
            self.queue += [wire.decode_json(p) for _, p in self.reader.feed(data)]
        return self.queue.pop(0)


# --- errors -------------------------------------------------------------------------------------

def _student_line(tb, path):
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(exc, path) -> dict:
    line = _student_line(exc.__traceback__, path)
    return {"type": type(exc).__name__[:60], "message": wire.clean(exc, 300),
            "where": f"{os.path.basename(path)}, line {line}" if line else None}


def _classify_fatal(exc):
    """Errors that end the exercise (0 points with one reason) rather than one case."""
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError)
                                        and any(p in str(exc).lower() for p in MEMORY_PATTERNS)):
        return Fatal("memory", "ran out of memory")
    if isinstance(exc, RecursionError):
        return Fatal("recursion", "recursed without end (RecursionError)")
    if isinstance(exc, SystemExit):
        return Fatal("exit", f"called sys.exit({wire.clean(exc.code, 40)})")
    if isinstance(exc, KeyboardInterrupt):
        return Fatal("interrupt", "raised KeyboardInterrupt")
    return None


# --- the inputs, in the grader's shared memory ------------------------------------------------

class SharedInputs:
    """The tensor arguments of the current call, laid in the grader's (sealed) memfd where
    ``values.placements`` says, so that the grader reads them back after the call itself."""

    def __init__(self, fd, size):
        self.memory = mmap.mmap(fd, size)
        self.size = size

    def place(self, args, call):
        """Tensors equal to `args` (same values, strides and grad) living in shared memory."""
        import torch

        placed = list(args)
        for i, where in enumerate(values.placements(call)):
            x = args[i]
            if where is None:
                continue
            offset, nbytes = where
            if x.untyped_storage().nbytes() != nbytes or offset + nbytes > self.size:
                raise Fatal("runner", "an input's storage does not match its layout")
            shared = torch.frombuffer(self.memory, dtype=torch.uint8, count=nbytes, offset=offset)
            # the storage's bytes as a uint8 tensor over the same memory (bytes(storage) would
            # iterate in Python: 0.2 s for 33 KB)
            storage = torch.empty(0, dtype=torch.uint8).set_(x.untyped_storage(), 0, (nbytes,), (1,))
            shared.copy_(storage)
            y = shared.view(x.dtype).as_strided(x.shape, x.stride(), x.storage_offset()).detach()
            placed[i] = y.requires_grad_(x.requires_grad)
        return placed


# --- one exercise ---------------------------------------------------------------------------------

def load_exercise(path, module_name):
    """Import the student's file by path, as ``ssd_course.exercises.<module>``.

    The submission's package ``__init__`` files are never executed and nothing of
    the submission is put on ``sys.path``, so a ``torch.py`` beside it cannot
    shadow the real library.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"ssd_course.exercises.{module_name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _import(ex, channel):
    """The student's function, or None after reporting why it could not be had."""
    path = ex["path"]
    try:
        module = load_exercise(path, ex["module"])
    except BaseException as exc:
        fatal = _classify_fatal(exc)
        if fatal:
            raise fatal from None  # the grader says "while importing": no case had started
        if isinstance(exc, SyntaxError):
            error = {"type": "SyntaxError", "message": wire.clean(exc.msg, 200),
                     "where": f"{os.path.basename(path)}, line {exc.lineno}"}
        else:
            error = _error(exc, path)
        channel.send({"type": "import_error", "error": error})
        return None
    fn = getattr(module, ex["function"], None)
    if not callable(fn):
        channel.send({"type": "import_error", "error": {
            "type": "missing", "message": f"defines no function {ex['function']}", "where": None}})
        return None
    channel.send({"type": "loaded"})
    return fn


def serve(ex: dict, channel: Channel, shared: SharedInputs) -> None:
    import torch

    # Our own references: student code may patch torch afterwards.
    backward = (torch.Tensor.backward, torch.mul, torch.sum)
    fn = _import(ex, channel)
    if fn is None:
        return
    while True:
        command = channel.receive()
        if command.get("type") != "call":
            break
        args = shared.place([values.build_arg(a) for a in command["args"]], command)
        kwargs = {k: values.build_arg(v) for k, v in command["kwargs"].items()}
        run_call(fn, command, args, kwargs, channel, ex["path"], backward)
    channel.send({"type": "finished"})


def _alarm(seconds):
    def on_alarm(signum, frame):
        raise CaseTimeout()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def run_call(fn, command, args, kwargs, channel, path, backward):
    result, error = None, None
    try:
        if command.get("time_limit"):
            _alarm(command["time_limit"])
        try:
            result = fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CaseTimeout:
        error = {"type": "timeout", "message": f"still running after {command['time_limit']} s",
                 "where": None}
    except BaseException as exc:
        fatal = _classify_fatal(exc)
        if fatal:
            raise fatal from None
        error = _error(exc, path)
    _flush()   # what it printed reaches its pipe before the result does
    arrays = []
    message = {"type": "result", "call": command["call"], "error": error}
    if error is None:
        message["output"] = _describe_safely(result, arrays)
        if command.get("grad") is not None:
            message["grads"], message["grad_error"] = _gradients(result, args, command["grad"],
                                                                 arrays, backward, path)
    channel.send(message, arrays)


def _describe_safely(obj, arrays):
    """`describe`, or a plain 'other' when the object resists (a meta tensor, a hostile class)."""
    try:
        return values.describe(obj, arrays)
    except Exception as exc:
        del arrays[:]  # a half-described object may have left arrays behind
        return {"kind": "other", "type": type(obj).__name__[:60],
                "repr": f"could not be read ({wire.clean(exc, 80)})"}


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # a closed or replaced stream is the student's business
            pass


def _gradients(result, args, grad, arrays, backward, path):
    """Backpropagate ``grad["upstream"]`` (or 1 for a scalar) and describe the inputs' .grad."""
    import torch

    if not isinstance(result, torch.Tensor):
        return None, "the result is not a tensor"
    if not result.requires_grad:
        return None, "the result does not require grad: the computation was cut from the input"
    try:
        backward_, mul, tsum = backward
        if grad.get("upstream") is not None:
            upstream = values.build_arg(grad["upstream"]).to(result.dtype)
            if upstream.shape != result.shape:
                return None, "the result's shape does not allow the gradient check"
            result = tsum(mul(result, upstream))  # d/dx of sum(result * upstream): same gradient
        backward_(result)
    except BaseException as exc:
        fatal = _classify_fatal(exc)
        if fatal:
            raise fatal from None
        error = _error(exc, path)
        return None, f"backward() raised {error['type']}: {error['message']}"
    grads = []
    for i in grad["wrt"]:
        g = args[i].grad
        grads.append({"kind": "none"} if g is None else values.describe(g, arrays))
    return grads, None


# --- the process ----------------------------------------------------------------------------------

def _vm(field):
    """A ``Vm...`` figure of /proc/self/status in bytes (None where /proc is not there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _close_all_but(keep):
    """Close every descriptor not in `keep`: the other exercises' pipes, the zygote's control."""
    start = 0
    for fd in sorted(keep) + [os.sysconf("SC_OPEN_MAX")]:
        if fd > start:   # closerange(n, n) would close everything from n up (close_range(n, -1))
            os.closerange(start, fd)
        start = fd + 1


def _confine(ex: dict, limits: dict):
    """Descriptors, limits and the filter, before any student code runs. The child stays in
    the zygote's process group (the filter denies setsid), which the grader kills whole."""
    os.dup2(ex["out_fd"], 1)
    os.dup2(ex["err_fd"], 2)
    _close_all_but({0, 1, 2, ex["cmd_fd"], ex["result_fd"], ex["memory_fd"]})
    # Memory: the data segment (every private writable mapping: heap, anonymous mmap, thread
    # stacks) may grow by the limit, whatever else is unmapped to make room; the address
    # space too (the filter denies shared anonymous memory, which the first does not count).
    for field, limit in (("VmData", resource.RLIMIT_DATA), ("VmSize", resource.RLIMIT_AS)):
        used = _vm(field)
        if limits["memory"] and used is not None:  # Linux; elsewhere no such limits
            resource.setrlimit(limit, (used + limits["memory"], used + limits["memory"]))
    cpu = int(limits["cpu"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))   # SIGXCPU, then SIGKILL
    # Descriptors bound what the kernel holds outside the address space (pipe buffers, epolls).
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_FILES, MAX_FILES))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import tempfile
    # gettempdir() would otherwise probe by creating a file, which the filter refuses, and
    # libraries that only ask for the folder's name (torchvision at import) would fail
    tempfile.tempdir = os.environ.get("TMPDIR", "/tmp")
    seccomp.load()


def main(ex: dict, limits: dict) -> None:
    """Body of a forked exercise child; never returns."""
    code = 0
    channel = Channel(ex["cmd_fd"], ex["result_fd"])
    try:
        try:
            _confine(ex, limits)
        except seccomp.FilterError as exc:
            raise Fatal("sandbox", str(exc)) from None
        channel.send({"type": "hello"})
        shared = SharedInputs(ex["memory_fd"], ex["memory_bytes"])
        os.close(ex["memory_fd"])
        serve(ex, channel, shared)
    except Fatal as fatal:
        code = _report(channel, fatal, 3)
    except BaseException as exc:  # the runner itself failed (e.g. on a hostile object)
        fatal = _classify_fatal(exc) or Fatal("runner", wire.clean(
            f"the grader could not handle the result: {type(exc).__name__}: {exc}", 200))
        code = _report(channel, fatal, 4)
    finally:
        _flush()
        os._exit(code)


def _report(channel, fatal, code):
    try:
        channel.send({"type": "fatal", "kind": fatal.kind, "message": fatal.message})
    except BaseException:
        pass
    return code
