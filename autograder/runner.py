"""The grader's child side: runs a student's exercise on case inputs, sends back plain data.

This file runs inside the sandbox (see ``sandbox.py``) as ``python -I runner.py
JOB.json``. It must stand alone: it imports only the standard library, numpy
and torch, never the rest of ``autograder`` (which is not visible there).

    zygote        imports torch once, then forks one child per exercise
                  (at most ``jobs`` at a time), enforces each child's wall-time
                  limit and reports how each child ended on the control pipe
    exercise      loads ``ssd_course/exercises/<module>.py`` by path, calls the
    child         function on each case's inputs and writes what came back
                  (kind, dtype, shape, device, values, gradients, inputs after
                  the call) on its own result pipe; stdout/stderr go to pipes
                  of their own, which the parent captures and truncates

The child never sees an expected value: it builds inputs from declarative specs
and reports raw outputs; the parent compares. The parent also imports this file,
to build the very same input tensors for its reference (``build_arg``) and to
describe the reference's outputs in the same form (``describe``).

Wire format (both pipes): frames of ``b"J"|b"A"`` + 8-byte big-endian length +
payload; ``J`` is a UTF-8 JSON object, ``A`` an ``.npy`` file (read with
``allow_pickle=False``). A JSON frame that carries arrays says how many follow.
"""
import io
import json
import os
import re
import signal
import struct
import sys
import time

HEADER = struct.Struct(">cQ")
MAX_ARRAY_ELEMENTS = 16_000_000  # larger outputs are described, not sent
REPR_CHARS = 120


# --- frames -------------------------------------------------------------------------------

def encode_frames(message: dict, arrays=()) -> bytes:
    """One JSON frame (with ``n_arrays``) followed by one ``.npy`` frame per array."""
    import numpy as np

    message = dict(message, n_arrays=len(arrays))
    chunks = [json.dumps(message).encode()]
    for array in arrays:
        buf = io.BytesIO()
        np.save(buf, array if array.flags.c_contiguous else array.copy(), allow_pickle=False)
        chunks.append(buf.getvalue())
    out = bytearray()
    for kind, payload in zip([b"J"] + [b"A"] * len(arrays), chunks):
        out += HEADER.pack(kind, len(payload)) + payload
    return bytes(out)


class FrameReader:
    """Incremental parser for the parent: feed bytes, get (kind, payload) frames back."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data: bytes):
        self.buf += data
        frames = []
        while len(self.buf) >= HEADER.size:
            kind, size = HEADER.unpack_from(self.buf)
            if kind not in (b"J", b"A"):
                raise ValueError("corrupt frame on the result pipe")
            if len(self.buf) < HEADER.size + size:
                break
            frames.append((kind, bytes(self.buf[HEADER.size:HEADER.size + size])))
            del self.buf[:HEADER.size + size]
        return frames


def decode_array(payload: bytes):
    """An ``.npy`` payload as a numpy array; object arrays (pickles) are refused."""
    import numpy as np

    array = np.load(io.BytesIO(payload), allow_pickle=False)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"unexpected array dtype {array.dtype} on the result pipe")
    return array


def sanitize(text: str, limit: int = 500) -> str:
    """Text from student code, made safe and stable for a report: no addresses, bounded length."""
    text = re.sub(r"0x[0-9a-fA-F]{4,}", "0x…", str(text))
    text = text.replace("\r", " ")
    return text if len(text) <= limit else text[:limit] + "…"


# --- inputs: declarative specs -> tensors (shared with the parent) -------------------------

def build_python(value):
    """Decode the tagged Python values of a spec: {"tuple": [...]}, {"list": [...]}, numbers."""
    if isinstance(value, dict) and "tuple" in value:
        return tuple(build_python(v) for v in value["tuple"])
    if isinstance(value, dict) and "list" in value:
        return [build_python(v) for v in value["list"]]
    return value


def build_arg(spec: dict):
    """Build one argument from its spec.

    A tensor spec is ``{"tensor": nested list, "shape": [...], "dtype": "float32",
    "layout": "contiguous" | "transposed" | "strided", "grad": bool}``: the values
    are given in float64 (or int64) and cast to ``dtype`` the same way in the parent
    and in the child, so both see bit-identical inputs. ``transposed`` stores the
    tensor with its last two dims swapped (4-d: channels last) and returns a
    non-contiguous view with the same values; ``strided`` interleaves junk rows and
    returns every other row.
    """
    import torch

    if "py" in spec:
        return build_python(spec["py"])
    dtype = getattr(torch, spec["dtype"])
    base = torch.tensor(spec["tensor"], dtype=torch.float64 if dtype.is_floating_point else torch.int64)
    base = base.reshape(spec["shape"]).to(dtype)
    layout = spec.get("layout", "contiguous")
    if layout == "transposed" and base.dim() == 4:
        x = base.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)      # channels-last storage
    elif layout == "transposed" and base.dim() >= 2:
        x = base.transpose(-1, -2).contiguous().transpose(-1, -2)
    elif layout == "strided" and base.dim() >= 1:
        junk = torch.full_like(base, 7)
        x = torch.stack([base, junk], dim=1).reshape(-1, *base.shape[1:])[::2]
    else:
        x = base.clone()
    if spec.get("grad"):
        x = x.detach().requires_grad_()
    return x


# --- outputs: anything -> plain data --------------------------------------------------------

def describe(obj, arrays: list, torch=None, depth: int = 0) -> dict:
    """Describe `obj` as JSON-able data; tensor values are appended to `arrays` (numpy)."""
    torch = torch or sys.modules["torch"]
    import numpy as np

    kind = type(obj)
    if issubclass(kind, torch.Tensor):
        desc = {"kind": "tensor", "dtype": str(obj.dtype).replace("torch.", ""),
                "shape": list(obj.shape), "device": str(obj.device),
                "requires_grad": bool(obj.requires_grad)}
        if kind is not torch.Tensor and kind is not torch.nn.Parameter:
            desc["subclass"] = kind.__name__
        if obj.is_complex() or obj.dtype in (torch.qint8, torch.quint8, torch.qint32):
            desc["values"] = None
        elif obj.numel() > MAX_ARRAY_ELEMENTS:
            desc["values"] = None
            desc["too_large"] = True
        else:
            values = obj.detach().to("cpu")
            if values.dtype == torch.bfloat16:
                values = values.float()   # numpy has no bfloat16; float32 holds it exactly
            desc["values"] = len(arrays)
            arrays.append(values.numpy())
        return desc
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        desc = {"kind": "ndarray", "dtype": str(obj.dtype), "shape": list(obj.shape)}
        if obj.size <= MAX_ARRAY_ELEMENTS:
            desc["values"] = len(arrays)
            arrays.append(obj)
        return desc
    if isinstance(obj, (tuple, list)) and depth < 2 and len(obj) <= 8:  # namedtuples too
        return {"kind": "list" if isinstance(obj, list) else "tuple",
                "items": [describe(o, arrays, torch, depth + 1) for o in obj]}
    if obj is None:
        return {"kind": "none"}
    if kind in (bool, int, float):
        return {"kind": "number", "type": kind.__name__, "value": obj}
    try:
        text = repr(obj)
    except BaseException:  # a hostile __repr__ must not take the runner down
        text = "<unprintable>"
    return {"kind": "other", "type": sanitize(kind.__name__, 60), "repr": sanitize(text, REPR_CHARS)}


# --- the exercise child -----------------------------------------------------------------------

class CaseTimeout(BaseException):
    """Raised by the per-call alarm; a BaseException so that `except Exception` cannot swallow it."""


class Fatal(Exception):
    """Ends an exercise child early: memory, recursion, exit calls, a broken runner."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


MEMORY_PATTERNS = ("can't allocate memory", "not enough memory", "out of memory",
                   "cannot allocate memory")


def _student_line(tb, path):
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(exc, path) -> dict:
    name = os.path.basename(path)
    line = _student_line(exc.__traceback__, path)
    return {"type": sanitize(type(exc).__name__, 60), "message": sanitize(exc, 300),
            "where": f"{name}, line {line}" if line else None}


def _classify_fatal(exc, path):
    """Errors that end the exercise (0 points with one reason) rather than one case."""
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError)
                                        and any(p in str(exc).lower() for p in MEMORY_PATTERNS)):
        return Fatal("memory", "ran out of memory")
    if isinstance(exc, RecursionError):
        return Fatal("recursion", "recursed without end (RecursionError)")
    if isinstance(exc, SystemExit):
        return Fatal("exit", f"called sys.exit({sanitize(exc.code, 40)})")
    if isinstance(exc, KeyboardInterrupt):
        return Fatal("interrupt", "raised KeyboardInterrupt")
    return None


class Channel:
    def __init__(self, fd):
        self.fd = fd

    def send(self, message, arrays=()):
        data = encode_frames(message, arrays)
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _alarm(seconds):
    def on_alarm(signum, frame):
        raise CaseTimeout()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


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


def run_exercise(ex: dict, channel: Channel) -> None:
    import torch

    # Keep our own references: student code may patch torch afterwards.
    backward = (torch.Tensor.backward, torch.mul, torch.sum)
    path = ex["path"]
    channel.send({"type": "hello"})
    try:
        module = load_exercise(path, ex["module"])
    except BaseException as exc:
        fatal = _classify_fatal(exc, path)
        if fatal:
            raise fatal from None  # the parent says "while importing": no case had started
        if isinstance(exc, SyntaxError):
            where = f"{os.path.basename(path)}, line {exc.lineno}"
            channel.send({"type": "import_error", "error": {
                "type": "SyntaxError", "message": sanitize(exc.msg, 200), "where": where}})
        else:
            channel.send({"type": "import_error", "error": _error(exc, path)})
        return
    fn = getattr(module, ex["function"], None)
    if not callable(fn):
        channel.send({"type": "import_error", "error": {
            "type": "missing", "message": f"defines no function {ex['function']}", "where": None}})
        return
    channel.send({"type": "loaded"})
    for case in ex["cases"]:
        for index, call in enumerate(case["calls"]):
            run_call(fn, case["id"], index, call, channel, path, backward)
    channel.send({"type": "finished"})


def run_call(fn, case_id, index, call, channel, path, backward):
    args = [build_arg(a) for a in call["args"]]
    kwargs = {k: build_arg(v) for k, v in call.get("kwargs", {}).items()}
    _flush()
    channel.send({"type": "start", "case": case_id, "call": index})
    result, error = None, None
    try:
        if call.get("time_limit"):
            _alarm(call["time_limit"])
        try:
            result = fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except CaseTimeout:
        error = {"type": "timeout", "message": f"still running after {call['time_limit']} s",
                 "where": None}
    except BaseException as exc:
        fatal = _classify_fatal(exc, path)
        if fatal:
            raise Fatal(fatal.kind, fatal.message) from None
        error = _error(exc, path)
    channel.send({"type": "returned", "case": case_id, "call": index})
    arrays = []
    message = {"type": "result", "case": case_id, "call": index, "error": error}
    if error is None:
        message["output"] = _describe_safely(result, arrays)
        grad = call.get("grad")
        if grad is not None:
            message["grads"], message["grad_error"] = _gradients(result, args, grad, arrays,
                                                                 backward, path)
    message["inputs_after"] = [describe(a, arrays) if _is_tensor(a) else None for a in args]
    channel.send(message, arrays)


def _describe_safely(obj, arrays):
    """`describe`, or a plain 'other' when the object resists (a meta tensor, a hostile class)."""
    try:
        return describe(obj, arrays)
    except Exception as exc:
        del arrays[:]  # a half-described object may have left arrays behind
        return {"kind": "other", "type": sanitize(type(obj).__name__, 60),
                "repr": f"could not be read ({sanitize(exc, 80)})"}


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # a closed or replaced stream is the student's business
            pass


def _is_tensor(x):
    import torch
    return isinstance(x, torch.Tensor)


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
            upstream = build_arg(grad["upstream"]).to(result.dtype)
            if upstream.shape != result.shape:
                return None, "the result's shape does not allow the gradient check"
            result = tsum(mul(result, upstream))  # d/dx of sum(result * upstream): same gradient
        backward_(result)
    except BaseException as exc:
        fatal = _classify_fatal(exc, path)
        if fatal:
            raise Fatal(fatal.kind, fatal.message) from None
        return None, f"backward() raised {_error(exc, path)['type']}: {_error(exc, path)['message']}"
    grads = []
    for i in grad["wrt"]:
        g = args[i].grad
        grads.append({"kind": "none"} if g is None else describe(g, arrays))
    return grads, None


def exercise_child(ex: dict, memory_limit: int) -> None:
    """Body of a forked exercise child; never returns."""
    import resource

    code = 0
    channel = Channel(ex["result_fd"])
    try:
        os.setsid()  # own process group: the zygote kills it whole
        os.dup2(ex["out_fd"], 1)
        os.dup2(ex["err_fd"], 2)
        for fd in ex["close_fds"]:
            try:
                os.close(fd)
            except OSError:
                pass
        used = _vm_size()
        if memory_limit and used is not None:  # Linux; elsewhere no address-space limit
            resource.setrlimit(resource.RLIMIT_AS, (used + memory_limit, used + memory_limit))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        run_exercise(ex, channel)
    except Fatal as fatal:
        try:
            channel.send({"type": "fatal", "kind": fatal.kind, "message": fatal.message})
        except BaseException:
            pass
        code = 3
    except BaseException as exc:  # the runner itself failed (e.g. on a hostile object)
        try:
            fatal = _classify_fatal(exc, ex["path"]) or Fatal("runner", sanitize(
                f"the grader could not handle the result: {type(exc).__name__}: {exc}", 200))
            channel.send({"type": "fatal", "kind": fatal.kind, "message": fatal.message})
        except BaseException:
            pass
        code = 4
    finally:
        _flush()
        os._exit(code)


def _vm_size():
    """Bytes of address space this process maps (None where /proc is not there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --- the zygote ---------------------------------------------------------------------------------

def _set_subreaper():
    # Orphans of any exercise child are re-parented to us, so none can hide.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def _strays(me, running):
    """Processes re-parented to the zygote that are not a running exercise child."""
    strays = []
    for entry in (os.listdir("/proc") if os.path.isdir("/proc") else ()):
        if not entry.isdigit() or int(entry) in running or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            strays.append(int(entry))
    return strays


def zygote(job_path: str) -> int:
    import resource

    with open(job_path) as f:
        job = json.load(f)
    control = Channel(job["control_fd"])
    # Inherited by every exercise child: no core dumps, no file larger than the limit.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job["file_limit"], job["file_limit"]))
    import numpy  # noqa: F401  (loaded before the fork, once for all children)
    import torch

    torch.set_num_threads(1)
    _set_subreaper()
    me = os.getpid()
    pending, running = list(job["exercises"]), {}
    control.send({"type": "ready"})
    while pending or running:
        while pending and len(running) < job["jobs"]:
            ex = pending.pop(0)
            _flush()
            pid = os.fork()
            if pid == 0:
                os.close(job["control_fd"])
                exercise_child(ex, job["memory_limit"])
            running[pid] = (ex["module"], time.monotonic(), False)
            for fd in (ex["result_fd"], ex["out_fd"], ex["err_fd"]):
                os.close(fd)  # the child holds them now
        _reap(running, control, job["time_limit"])
        for pid in _strays(me, running):
            _kill(pid)
        time.sleep(0.01)
    for pid in _strays(me, {}):
        _kill(pid)
    control.send({"type": "done"})
    return 0


def _kill(pid):
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _reap(running, control, time_limit):
    now = time.monotonic()
    for pid, (module, started, killed) in list(running.items()):
        if not killed and now - started > time_limit:
            _kill_group(pid)
            running[pid] = (module, started, True)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid not in running:
            continue  # a stray, already killed
        module, started, killed = running.pop(pid)
        _kill_group(pid)  # whatever it left in its process group goes too
        report = {"type": "ended", "module": module, "seconds": round(time.monotonic() - started, 2)}
        if killed:
            report["timeout"] = time_limit
        elif os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exit"] = os.WEXITSTATUS(status)
        control.send(report)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(zygote(sys.argv[1]))
