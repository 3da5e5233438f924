"""Slips: one contract detail wrong (a dtype, a device, a dimension of size 1), the values right.

A case that is not about the detail (``Case.about``) notes the slip and compares the values
as if the detail were right; a case about it fails. So one slip costs the cases about that
detail, and the report says it once (``autograder.scoring``).
"""


def part(where: str, i: int, names=()) -> str:
    """How feedback names item `i` of a tuple result: by the contract's name where it has one."""
    return names[i] if where == "result" and i < len(names) else f"{where}[{i}]"


SLIPS = ("dtype", "device", "shape")   # the details a slip can be in (a shape: extra size-1 dims)


def normalised(exp: dict, got: dict, where="result", names=()):
    """(`got` with the dtype, device and size-1 dimensions of `exp`, [(detail, public text,
    hidden text)] of each slip) when those are all that differ in structure; None otherwise.
    The values are untouched: they are compared next, as if the slip were not there."""
    if exp["kind"] == "one_of":
        found = [normalised(o, got, where, names) for o in exp["options"]]
        found = [f for f in found if f is not None]
        return min(found, key=lambda f: len(f[1])) if found else None
    if exp["kind"] in ("tuple", "list"):
        if got.get("kind") not in ("tuple", "list") or len(got["items"]) != len(exp["items"]):
            return None
        items, slips = [], []
        for i, (e, g) in enumerate(zip(exp["items"], got["items"])):
            found = normalised(e, g, part(where, i, names))
            if found is None:
                return None
            items.append(found[0])
            slips += found[1]
        return dict(got, items=items), slips
    if got.get("kind") != "tensor" or got.get("subclass"):
        return None
    return _normalised_tensor(exp, got, where)


def _normalised_tensor(exp, got, where):
    slips, out = [], dict(got)
    if got["dtype"] != exp["dtype"]:
        text = f"{where}: dtype {got['dtype']} where the contract says {exp['dtype']}"
        slips.append(("dtype", text, text))
        out["dtype"] = exp["dtype"]
    if list(got["shape"]) != list(exp["shape"]):
        squeeze = [d for d in exp["shape"] if d != 1]   # [3, 1] against [1, 3] is no slip: same ndim
        if len(got["shape"]) == len(exp["shape"]) or [d for d in got["shape"] if d != 1] != squeeze:
            return None
        slips.append(("shape", f"{where}: shape {list(got['shape'])} where the contract says "
                               f"{list(exp['shape'])} (a dimension of size 1 too many or too few)",
                      f"{where}: a dimension of size 1 too many or too few"))
        out["shape"] = list(exp["shape"])
        if got.get("array") is not None:
            out["array"] = got["array"].reshape(exp["shape"])
    if got["device"] != exp["device"]:
        text = f"{where}: device {got['device']} where the contract says {exp['device']}"
        slips.append(("device", text, text))
        out["device"] = exp["device"]
    return out, slips
