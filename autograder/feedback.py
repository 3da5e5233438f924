"""What feedback shows of a case beyond its verdict: its inputs, when they are small."""

from autograder import cases
from ssd_course import registry

MAX_SHOWN_INPUTS = 48   # numbers: a case's inputs up to this many are shown when it fails


def picture_data(case, expects, results, call_index=0):
    """What ``autograder.pictures`` draws of a public failing case of an exercise whose module
    sets ``PICTURE``: the call's input arrays, and the expected and returned output arrays
    (tensors only; the first option of several valid answers). None for other exercises."""
    if not getattr(cases.exercise_module(case.exercise), "PICTURE", False):
        return None
    i = min(call_index or 0, len(case.calls) - 1)
    if i >= len(results) or not results[i] or "output" not in results[i]:
        return None

    def arrays(desc):
        if desc.get("kind") == "one_of":
            return arrays(desc["options"][0])
        if desc.get("kind") in ("tuple", "list"):
            return [a for item in desc["items"] for a in arrays(item)]
        return [desc["array"]] if desc.get("kind") == "tensor" and desc.get("array") is not None else []

    inputs = [cases.array_of(s) if "tensor" in s else None for s in case.calls[i].args]
    return {"exercise": case.exercise, "title": case.name, "inputs": inputs,
            "expected": arrays(expects[i]["output"]), "got": arrays(results[i]["output"])}


def _compact(array) -> str:
    """A nested list of numbers, each in at most 6 significant digits: [[0, 0.5], [1, 2]]."""
    if array.ndim == 0:
        return f"{array.item():.6g}"
    if array.size == 0:
        return f"(empty, shape {list(array.shape)})"
    return "[" + ", ".join(_compact(a) for a in array) + "]"


def inputs_text(case, call_index=0) -> str:
    """The inputs of call `call_index` of a public case, by parameter name, when they are small."""
    from autograder.values import build_python

    call = case.calls[min(call_index or 0, len(case.calls) - 1)]
    params = registry.get(case.exercise).params
    named = [(params[i] if i < len(params) else f"argument {i + 1}", spec)
             for i, spec in enumerate(call.args)] + list(call.kwargs.items())
    shown, size = [], 0
    for name, spec in named:
        if "tensor" in spec:
            array = cases.array_of(spec)
            size += array.size
            text = _compact(array) + ("" if spec["dtype"] == "float32" else f" ({spec['dtype']})")
        else:
            text = repr(build_python(spec["py"]))
        shown.append(f"{name}={text}")
    return ", ".join(shown) if size <= MAX_SHOWN_INPUTS else ""
