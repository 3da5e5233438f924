"""What the grader accepts from an exercise child: a strict schema, and facts from arrays.

The child runs the student's code in its own address space, so anything it says
may have been written by the student. This module is the only door:

    check(message)        the message's type and every field's type and size, or
                          ProtocolError (that exercise scores 0, the rest go on)
    value(desc, arrays)   a returned value whose dtype and shape are read from the
                          arrays the grader decoded itself; a claim that disagrees
                          with its array is a protocol error; text is escaped
    error(desc)           an exception's type, message and line, escaped

Times are never in a message: the grader measures them (``sandbox.py``), and
whether inputs changed it reads from the shared memory it owns.
"""
import math

import numpy as np

from autograder.wire import clean

TYPES = {"hello", "loaded", "import_error", "result", "fatal", "finished"}
KINDS = {"tensor", "ndarray", "tuple", "list", "none", "number", "other"}
FATAL_KINDS = {"memory", "recursion", "exit", "interrupt", "runner", "sandbox"}
MAX_ITEMS = 8
HIDDEN_TEXT = "(not shown for hidden cases)"
HIDDEN_GRAD_TEXT = "the gradients could not be computed (the reason is not shown for hidden cases)"


def builtin_exception(name: str) -> bool:
    """True for the name of one of Python's own exception classes (ValueError, ...)."""
    import builtins

    kind = getattr(builtins, name, None)
    return isinstance(kind, type) and issubclass(kind, BaseException)


class ProtocolError(ValueError):
    """The child broke the protocol: the exercise scores 0 with this one line."""


def _need(ok, what):
    if not ok:
        raise ProtocolError(what)


def check(message: dict, arrays: list) -> dict:
    """`message` if it fits the schema of its type (ProtocolError otherwise)."""
    kind = message.get("type")
    _need(kind in TYPES, f"a message of unknown type {clean(kind, 30)!s}")
    if kind == "import_error":
        _need(isinstance(message.get("error"), dict), "an import error without its error")
    elif kind == "fatal":
        _need(message.get("kind") in FATAL_KINDS and isinstance(message.get("message"), str),
              "a malformed fatal report")
    elif kind == "result":
        _need(isinstance(message.get("call"), int), "a result without its call number")
        _need(message.get("error") is None or isinstance(message["error"], dict),
              "a result with a malformed error")
        if message.get("error") is None:
            _need(isinstance(message.get("output"), dict), "a result without an output")
            _need(message.get("grads") is None or (isinstance(message["grads"], list)
                                                    and len(message["grads"]) <= MAX_ITEMS),
                  "a result with malformed gradients")
        _need(len(arrays) == message.get("n_arrays", 0), "a result whose arrays did not all arrive")
    return message


def value(desc, arrays: list, hidden: bool = False, depth: int = 0) -> dict:
    """A description from the child (or the reference) as trusted data, ``"array"`` in place.

    For a hidden case nothing the child chose as text or number survives (a subclass's
    name, a device, a repr, a claimed dtype or shape): each could carry the inputs out."""
    _need(isinstance(desc, dict) and desc.get("kind") in KINDS and depth <= 2,
          "a malformed description of the returned value")
    kind = desc["kind"]
    if kind in ("tensor", "ndarray"):
        out = _array_value(desc, arrays)
        if hidden:
            out.update({"device": out["device"] if out["device"] == "cpu" else "another device"},
                       **({"subclass": "a subclass of Tensor"} if "subclass" in out else {}))
            if out["array"] is None:
                out.update(dtype="…", shape=[])
        return out
    if kind in ("tuple", "list"):
        items = desc.get("items")
        _need(isinstance(items, list) and len(items) <= MAX_ITEMS, "a malformed tuple")
        return {"kind": kind, "items": [value(d, arrays, hidden, depth + 1) for d in items]}
    if kind == "number":
        v, t = desc.get("value"), desc.get("type")
        _need(t in ("bool", "int", "float") and type(v).__name__ == t, "a malformed number")
        if hidden:
            return {"kind": "number", "type": t, "value": "…"}
        return {"kind": "number", "type": t, "value": v if t != "float" or math.isfinite(v) else v}
    if kind == "other":
        return {"kind": "other", "type": clean(desc.get("type"), 60),
                "repr": HIDDEN_TEXT if hidden else clean(desc.get("repr"), 120)}
    return {"kind": "none"}


def _array_value(desc, arrays):
    index = desc.get("values")
    out = {"kind": desc["kind"], "device": clean(desc.get("device", "cpu"), 20),
           "requires_grad": desc.get("requires_grad") is True}
    if desc.get("subclass") is not None:
        out["subclass"] = clean(desc["subclass"], 60)
    if index is None:   # too large or complex: only claims, which can only fail the case
        out.update(dtype=clean(desc.get("dtype"), 20), shape=_claimed_shape(desc.get("shape")),
                   array=None, too_large=bool(desc.get("too_large")))
        return out
    _need(type(index) is int and 0 <= index < len(arrays), "a value pointing at no array")
    array = arrays[index]
    if desc.get("bits"):     # bfloat16 as its raw 16 bits: the upper half of a float32
        _need(array.dtype in (np.int16, np.uint16), "bfloat16 bits that are not 16-bit integers")
        array, dtype = (array.view(np.uint16).astype(np.uint32) << 16).view(np.float32), "bfloat16"
    else:
        dtype = str(array.dtype)
    out.update(dtype=dtype, shape=list(array.shape), array=array)
    return out


def _claimed_shape(shape):
    ok = isinstance(shape, list) and len(shape) <= 8 and all(type(s) is int and s >= 0 for s in shape)
    return shape if ok else []


def error(desc: dict) -> dict:
    """An exception the child reports: its type, message and the student's line, escaped
    (the sandbox decides whether a hidden case's message may be shown)."""
    where, kind = desc.get("where"), clean(desc.get("type"), 60)
    if kind == "timeout":   # the child's alarm: the grader words it, not the child
        return {"type": kind, "message": "still running at the call's time limit", "where": None}
    return {"type": kind, "message": clean(desc.get("message"), 300),
            "where": clean(where, 80) if isinstance(where, str) else None}
