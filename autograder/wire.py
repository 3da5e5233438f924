"""The wire between the grader and an exercise child: frames, their bounds, and text escaping.

Frames (every pipe, both directions): ``b"J"|b"A"`` + 8-byte big-endian length
+ payload; ``J`` is a UTF-8 JSON object, ``A`` an ``.npy`` file read with
``allow_pickle=False``. A JSON frame that carries arrays says how many follow
(``n_arrays``).

The grader's side never believes a frame's size before checking it against a
bound (``FrameReader`` refuses an oversized header before buffering a byte of
its payload), never parses JSON nested deeper than ``MAX_DEPTH``, and checks
every message against the schema in ``sandbox.py``. Arrays are decoded from
their bytes here, so their dtype and shape are facts, not claims.

This file runs inside the sandbox too (the child encodes with it): standard
library and numpy only.
"""
import io
import json
import re
import struct

HEADER = struct.Struct(">cQ")
MAX_JSON_BYTES = 64 << 10        # the largest message the child ever needs is a few KB
MAX_ARRAY_BYTES = 64 << 20       # a [2000, 2000] float64 IoU matrix is 32 MB
MAX_DEPTH = 16                   # nesting of a JSON message
MAX_ARRAYS = 64                  # arrays announced by one message


class FrameError(ValueError):
    """A frame broke the protocol (size, kind, nesting, encoding): that channel is closed."""


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
    """Incremental, bounded parser: feed bytes, get (kind, payload) frames back.

    Raises FrameError as soon as a header names an unknown kind or a size over
    its bound, so at most one bounded frame is ever buffered.
    """

    LIMITS = {b"J": MAX_JSON_BYTES, b"A": MAX_ARRAY_BYTES}

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data: bytes):
        self.buf += data
        frames = []
        while len(self.buf) >= HEADER.size:
            kind, size = HEADER.unpack_from(self.buf)
            if kind not in self.LIMITS:
                raise FrameError("a frame of unknown kind")
            if size > self.LIMITS[kind]:
                raise FrameError(f"a frame of {size} bytes (the limit is {self.LIMITS[kind]})")
            if len(self.buf) < HEADER.size + size:
                break
            frames.append((kind, bytes(self.buf[HEADER.size:HEADER.size + size])))
            del self.buf[:HEADER.size + size]
        return frames


def decode_json(payload: bytes) -> dict:
    """A JSON frame as a dict; FrameError for bad UTF-8, bad JSON, deep nesting or a non-object."""
    if _depth(payload) > MAX_DEPTH:
        raise FrameError(f"a message nested deeper than {MAX_DEPTH} levels")
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FrameError(f"a message that is not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise FrameError("a message that is not a JSON object")
    n = message.get("n_arrays", 0)
    if type(n) is not int or not 0 <= n <= MAX_ARRAYS:
        raise FrameError("a message announcing a bad number of arrays")
    return message


def _depth(payload: bytes) -> int:
    """Deepest bracket nesting, counted outside strings (before json.loads recurses into it)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:          # backslash
                escaped = True
            elif byte == 0x22:          # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):      # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def decode_array(payload: bytes):
    """An ``.npy`` payload as a numpy array; object arrays (pickles) and odd dtypes are refused."""
    import numpy as np

    try:
        array = np.load(io.BytesIO(payload), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001  (numpy raises several kinds on bad headers)
        raise FrameError(f"an array frame that is not a .npy file ({type(exc).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" or array.dtype.byteorder == ">":
        raise FrameError(f"an array of unexpected dtype {getattr(array, 'dtype', '?')}")
    return array


# --- text from the child ----------------------------------------------------------------------

# control characters, line and paragraph separators, bidi overrides, and lone surrogates
# (which no terminal or file encoding can print: a report must never fail to be written)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff]")


def _escape(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text, limit: int = 500, oneline: bool = True) -> str:
    """Text from student code, safe to print: control characters and bidi overrides
    escaped (no terminal codes, no faked lines), memory addresses masked, length bounded.
    ``oneline`` escapes newlines and tabs too."""
    text = str(text)[:limit * 4]
    if oneline:
        text = text.replace("\n", "\\n").replace("\t", " ")
    text = _CONTROL.sub(_escape, text.replace("\r\n", "\n"))
    text = re.sub(r"0x[0-9a-fA-F]{4,}", "0x…", text)
    return text if len(text) <= limit else text[:limit] + "…"
