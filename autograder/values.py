"""Case inputs and function outputs as plain data, the same on both sides of the sandbox.

    build_arg   a declarative input spec -> the tensor (or Python value) a call gets;
                the parent builds its reference inputs with it and the child its own,
                so both see bit-identical inputs
    describe    any returned object -> JSON-able data with its arrays beside it; the
                child describes the student's output with it, the parent its reference

A description is a claim until the parent has read it through
``messages.value``, which takes dtype and shape from the arrays themselves.

This file runs inside the sandbox too: standard library, numpy and torch only.
"""
import sys

MAX_ARRAY_ELEMENTS = 4_000_000   # larger outputs are described, not sent (wire.MAX_ARRAY_BYTES)
REPR_CHARS = 120


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




# --- where a call's tensor arguments lie in the grader's shared memory -----------------------

ITEM_BYTES = {"float64": 8, "int64": 8, "float32": 4, "int32": 4, "float16": 2, "bfloat16": 2,
              "int16": 2, "uint8": 1, "int8": 1, "bool": 1}
ALIGN = 64


def _contiguous(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.insert(0, step)
        step *= size
    return strides


def layout(spec: dict):
    """(strides, storage elements) of the tensor ``build_arg(spec)`` makes, in elements:
    what the grader needs to read the argument back from the bytes of its storage."""
    shape, kind = list(spec["shape"]), spec.get("layout", "contiguous")
    numel = 1
    for size in shape:
        numel *= size
    if kind == "transposed" and len(shape) == 4:      # channels last: storage [N, H, W, C]
        n, c, h, w = shape
        return [h * w * c, 1, w * c, c], numel
    if kind == "transposed" and len(shape) >= 2:      # storage holds the last two dims swapped
        inner = _contiguous(shape[:-2] + [shape[-1], shape[-2]])
        return inner[:-2] + [inner[-1], inner[-2]], numel
    if kind == "strided" and len(shape) >= 1:         # every other row of [2 * rows, ...]
        inner = _contiguous(shape)
        return [2 * inner[0]] + inner[1:], 2 * numel
    return _contiguous(shape), numel


def placements(call: dict) -> list:
    """[(offset, nbytes) or None] per positional argument of `call`: where the child lays each
    non-empty tensor argument's storage in shared memory (the grader reads it back there)."""
    offset, out = 0, []
    for spec in call["args"]:
        if "tensor" not in spec or 0 in spec["shape"]:
            out.append(None)
            continue
        nbytes = layout(spec)[1] * ITEM_BYTES[spec["dtype"]]
        out.append((offset, nbytes))
        offset += -(-nbytes // ALIGN) * ALIGN
    return out


def memory_bytes(calls) -> int:
    """The shared memory the largest of `calls` needs."""
    return max([4096] + [p[0] + p[1] for call in calls for p in placements(call) if p])


# --- outputs: anything -> plain data ----------------------------------------------------------

def describe(obj, arrays: list, depth: int = 0) -> dict:
    """Describe `obj` as JSON-able data; tensor values are appended to `arrays` (numpy).

    Tensors: ``{"kind": "tensor", "dtype", "shape", "device", "requires_grad",
    "values": index into arrays | None}``; bfloat16 values travel as their raw
    16 bits (``"bits": true``), since numpy has no bfloat16.
    """
    torch = sys.modules["torch"]
    import numpy as np

    kind = type(obj)
    if issubclass(kind, torch.Tensor):
        return _describe_tensor(obj, kind, arrays, torch)
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        desc = {"kind": "ndarray", "dtype": str(obj.dtype), "shape": list(obj.shape), "values": None}
        if obj.size <= MAX_ARRAY_ELEMENTS:
            desc["values"] = len(arrays)
            arrays.append(np.ascontiguousarray(obj).astype(obj.dtype.newbyteorder("=")))
        return desc
    if isinstance(obj, (tuple, list)) and depth < 2 and len(obj) <= 8:  # namedtuples too
        return {"kind": "list" if isinstance(obj, list) else "tuple",
                "items": [describe(o, arrays, depth + 1) for o in obj]}
    if obj is None:
        return {"kind": "none"}
    if kind in (bool, int, float):
        return {"kind": "number", "type": kind.__name__, "value": obj}
    try:
        text = repr(obj)[:REPR_CHARS * 2]
    except BaseException:  # a hostile __repr__ must not take the runner down
        text = "<unprintable>"
    return {"kind": "other", "type": kind.__name__[:60], "repr": text}


def _describe_tensor(obj, kind, arrays, torch):
    desc = {"kind": "tensor", "dtype": str(obj.dtype).replace("torch.", ""),
            "shape": list(obj.shape), "device": str(obj.device),
            "requires_grad": bool(obj.requires_grad), "values": None}
    if kind is not torch.Tensor and kind is not torch.nn.Parameter:
        desc["subclass"] = kind.__name__[:60]
    if obj.is_complex() or obj.is_quantized or obj.numel() > MAX_ARRAY_ELEMENTS:
        desc["too_large"] = obj.numel() > MAX_ARRAY_ELEMENTS
        return desc
    values = obj.detach().to("cpu").contiguous()
    if values.dtype == torch.bfloat16:
        values, desc["bits"] = values.view(torch.int16), True
    desc["values"] = len(arrays)
    arrays.append(values.numpy())
    return desc
