"""One exercise child, driven call by call from the trusted side: the grader's half of the protocol.

`Sandbox` (``sandbox.py``) owns the box and its descriptors; for each exercise
child it keeps a `Driver` (which call is due, its clock, the sealed memfd the
child lays the tensor arguments in) and handles the child's messages through
`CallProtocol`, in the only order the protocol allows (``messages.py`` checks
each message's schema):

    hello -> loaded | import_error -> (call -> result)* -> finished     (a fatal report anywhere)

A call's inputs go out only when it is due; its time runs from sending ``go``
to receiving the result; its tensor inputs are read back from the grader's own
memory afterwards (`inputs_after`), never reported. A child that breaks the
order loses its exercise (one line), never the others.
"""
import os
import selectors
import time
from dataclasses import dataclass, field

from autograder import messages, values, wire


@dataclass
class ExerciseRun:
    """What came back from one exercise's child, as the trusted side read it."""
    module: str
    results: dict = field(default_factory=dict)   # (case id, call index) -> checked result
    seconds: dict = field(default_factory=dict)   # (case id, call index) -> measured here
    current: str = None                           # case of the call in flight
    events: list = field(default_factory=list)    # checked import_error / fatal / finished
    hello: bool = False                           # confined: student code may run from here on
    loaded: bool = False
    ended: dict = None                            # the zygote's report on how the child ended
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    output_total: int = 0
    output_overflow: bool = False
    hidden_started: bool = False                  # output after this is counted, not kept
    public_errors: set = field(default_factory=set)   # exception messages of public cases
    public_types: set = field(default_factory=set)    # and their types
    public_wheres: set = field(default_factory=set)   # and the lines they came from
    result_total: int = 0
    protocol_error: str = None

    def output_text(self) -> str:
        text = (bytes(self.stdout) + bytes(self.stderr)).decode("utf-8", "replace")
        return wire.clean(text, limit=len(text) + 1, oneline=False)


@dataclass
class Exercise:
    """One exercise to run: the student's file and the calls, in the order they go out.

    calls: ``[(case id, call index, hidden, call job dict)]``, public cases first.
    """
    source: bytes
    function: str
    calls: list


class Driver:
    """The trusted side of one exercise child: which call is due, its clock, its memory."""

    def __init__(self, module, exercise: Exercise, run: ExerciseRun):
        self.module, self.exercise, self.run = module, exercise, run
        self.index, self.sent_at = 0, None
        self.out, self.cmd_fd, self.done = bytearray(), None, False
        self.memory_bytes = values.memory_bytes([c[3] for c in exercise.calls])
        self.memory_fd = os.memfd_create(f"inputs-{module}", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        os.ftruncate(self.memory_fd, self.memory_bytes)
        import fcntl
        fcntl.fcntl(self.memory_fd, fcntl.F_ADD_SEALS,   # the child can neither grow nor shrink it
                    fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)

    def due(self):
        return self.exercise.calls[self.index] if self.index < len(self.exercise.calls) else None

    def read_memory(self) -> bytes:
        return os.pread(self.memory_fd, self.memory_bytes, 0)


def _expect(condition, what):
    if not condition:
        raise messages.ProtocolError(what)


def inputs_after(memory: bytes, call: dict) -> list:
    """Each tensor argument of `call` as it lies in the grader's memory after the call
    (``{"shape", "array"}``; None for other arguments): read here, never reported."""
    import numpy as np

    out = []
    for spec, where in zip(call["args"], values.placements(call)):
        if where is None:
            out.append(None)
            continue
        offset, nbytes = where
        raw = np.frombuffer(memory, dtype=np.uint16 if spec["dtype"] == "bfloat16" else
                            np.dtype(spec["dtype"]), count=nbytes // values.ITEM_BYTES[spec["dtype"]],
                            offset=offset)
        strides, _ = values.layout(spec)
        array = np.lib.stride_tricks.as_strided(raw, spec["shape"], [s * raw.itemsize for s in strides])
        if spec["dtype"] == "bfloat16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        out.append({"shape": list(spec["shape"]), "array": np.array(array)})
    return out


class CallProtocol:
    """The message handling of `Sandbox` for its exercise children (a mixin: it uses the
    sandbox's `runs`, `drivers`, `sel` and `limits`)."""

    def _message(self, run, message, arrays):
        """One checked message, in the only order the protocol allows: hello; loaded or
        import_error; a result per call, each when due; finished. A fatal report may end it
        anywhere, and nothing may follow an end: so a child can send only a bounded number
        of messages, whatever it tries."""
        messages.check(message, arrays)
        driver, kind = self.drivers[run.module], message["type"]
        now = time.monotonic()
        _expect(not run.events, "a message after its exercise had ended")
        if kind == "hello":
            _expect(not run.hello, "a second hello")
            run.hello = True
            return
        if kind == "fatal":   # before hello only the box's own code had run: a sandbox failure
            _expect(message["kind"] != "sandbox" or not run.hello,
                    "claimed a sandbox failure after its code had started")
            run.events.append(message)
            self._end_calls(driver)
        elif kind in ("loaded", "import_error"):
            _expect(run.hello and not run.loaded, "a report on the import out of turn")
            run.loaded = kind == "loaded"
            if run.loaded:
                self._next(driver)
            else:
                run.events.append(message)
                self._end_calls(driver)
        elif kind == "result":
            _expect(run.loaded, "a result before the exercise was imported")
            self._result(driver, message, arrays, now)
        else:   # finished
            _expect(run.loaded and driver.due() is None, "finished before its last call")
            run.events.append(message)
            self._end_calls(driver)

    def _result(self, driver, message, arrays, now):
        case_id, index, hidden, call = self._expecting(driver, message)
        if driver.sent_at is None:
            raise messages.ProtocolError("a result before the call began")
        run = driver.run
        run.seconds[(case_id, index)] = now - driver.sent_at
        result = {"inputs_after": inputs_after(driver.read_memory(), call)}
        if message.get("error") is not None:
            result["error"] = self._checked_error(run, message["error"], hidden)
        else:
            result["error"] = None
            result["output"] = messages.value(message["output"], arrays, hidden)
            result["grads"], result["grad_error"] = self._gradients(message, arrays, call, hidden)
        run.results[(case_id, index)] = result
        driver.index += 1
        driver.sent_at = None
        self._next(driver)

    @staticmethod
    def _checked_error(run, desc, hidden):
        """A hidden case's exception is told in words that cannot carry its inputs: the
        message and the exception's type only when a public case raised the same (a stub's
        NotImplementedError) or the type is a built-in one; the line only when a public case
        stopped there too (a file can set its own line numbers)."""
        error = messages.error(desc)
        if not hidden:
            run.public_errors.add(error["message"])
            run.public_types.add(error["type"])
            run.public_wheres.add(error["where"])
            return error
        if error["type"] == "timeout":
            return error
        if error["message"] not in run.public_errors:
            error["message"] = messages.HIDDEN_TEXT
        if error["type"] not in run.public_types and not messages.builtin_exception(error["type"]):
            error["type"] = "an exception"
        if error["where"] not in run.public_wheres:
            error["where"] = None
        return error

    @staticmethod
    def _gradients(message, arrays, call, hidden):
        """(gradients, why there are none) of a call that asks for them: one per argument
        named in ``wrt``, or a reason; anything else breaks the protocol."""
        if call.get("grad") is None:
            return None, None
        grads, why = message.get("grads"), message.get("grad_error")
        if why is not None:
            _expect(isinstance(why, str), "a gradient report that is not text")
            return None, messages.HIDDEN_GRAD_TEXT if hidden else wire.clean(why, 200)
        _expect(isinstance(grads, list) and len(grads) == len(call["grad"]["wrt"]),
                "a result without the gradients the call asked for")
        return [messages.value(g, arrays, hidden) for g in grads], None

    def _expecting(self, driver, message):
        due = driver.due()
        if due is None or message["call"] != driver.index:
            raise messages.ProtocolError("a message for a call that was not made")
        return due

    def _next(self, driver):
        due = driver.due()
        if due is None:
            self._end_calls(driver)
            return
        case_id, index, hidden, call = due
        if hidden and not driver.run.hidden_started:
            self._drain(driver.run, driver.module)
            driver.run.hidden_started = True
        driver.run.current = case_id
        self._send(driver, dict(call, type="call", call=driver.index))
        driver.sent_at = time.monotonic()   # the call's clock: its inputs are out

    def _end_calls(self, driver):
        """No more calls: an ``end`` after the last one; after a broken protocol, close the pipe."""
        if driver.done:
            return
        driver.done = True
        if driver.run.protocol_error is None:
            self._send(driver, {"type": "end"})
        elif driver.cmd_fd is not None:
            if driver.cmd_fd in self.sel.get_map():
                self.sel.unregister(driver.cmd_fd)
            os.close(driver.cmd_fd)   # its next read ends it
            driver.cmd_fd = None

    def _send(self, driver, message):
        if driver.cmd_fd is None:
            return
        driver.out += wire.encode_frames(message)
        self._write(driver)

    def _write(self, driver):
        try:
            n = os.write(driver.cmd_fd, driver.out)
            del driver.out[:n]
        except BlockingIOError:
            pass
        except OSError:   # the child is gone
            driver.out.clear()
        registered = driver.cmd_fd in self.sel.get_map()
        if driver.out and not registered:
            self.sel.register(driver.cmd_fd, selectors.EVENT_WRITE, ("cmd", driver.module))
        elif not driver.out and registered:
            self.sel.unregister(driver.cmd_fd)
