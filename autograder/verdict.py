"""Every verdict, computed in the parent from plain data.

For each call of a case, in this order: did it raise; the returned kind (tensor,
tuple, ...), dtype, shape and device; then (after the time limit of a timed
case) the values against the reference with a stated tolerance, or the
property the case names; then the gradients a case asks for; last, that the
inputs are unchanged. The first failing check is the verdict, and
``diagnose`` looks for a known mistake that explains it. A dtype, device or
size-1 dimension that differs while the case is not about that detail is a slip
(``autograder.slips``): noted on the outcome, and the values are compared as if
it were right.

Nothing here knows an exercise: its mistakes (hints, detectors), properties and
error patterns come from its module, ``autograder/cases/<module>.py``, whose
detectors and properties build on the helpers below (``mismatch``, ``tolerance``,
``agrees``, ``tensor_pairs``, ``same_shape_arrays``).

Nothing here trusts the child: outputs are numpy arrays parsed from ``.npy``
bytes, and comparisons use the parent's own numpy.
"""
from dataclasses import dataclass, field

import numpy as np

from autograder import cases, feedback
from autograder.cases import DEFAULT_TOL
from autograder.slips import SLIPS, normalised, part
from ssd_course import registry


@dataclass
class Failure:
    check: str           # error, type, dtype, shape, device, time, values, property, gradient, modified input
    detail: str          # for public cases: what was expected and what came back
    hidden_detail: str   # for hidden cases: what kind of thing went wrong, never expected values
    hint: object = None  # a generic hint's name (hints.HINTS), a mistake of the case's exercise, or a
                         # tuple of the mistakes whose predictions all fit (scoring.settle picks)
    call: int = 0        # which call of the case failed (its inputs are the ones shown)


@dataclass
class Outcome:
    """The verdict on one case."""
    case_id: str
    title: str
    exercise: str
    points: int
    hidden: bool
    passed: bool
    check: str = ""
    detail: str = ""
    hint: str = ""
    hint_name: str = ""   # the mistake or generic hint's name: feedback groups cases by it
    slip: str = ""        # a contract detail this case is not about, noted once per exercise
    inputs: str = ""      # a small public case's inputs, shown when it fails
    edge: bool = False    # counts only once a non-edge case of the exercise passes
    withheld: bool = False   # an edge case passed, but no case showing a computation did
    candidates: tuple = ()   # every known mistake whose prediction is this failing output
    # a public failing case of an exercise with PICTURE: its inputs, expected and returned arrays
    picture: dict = field(default=None, repr=False, compare=False)

    @property
    def score(self) -> int:
        return self.points if self.passed and not self.withheld else 0

    def message(self) -> str:
        """One or two lines: what failed (and a hint); empty when passed."""
        if self.passed:
            return ""
        text = f"{self.check}: {self.detail}" if self.detail else self.check
        return f"{text}\nhint: {self.hint}" if self.hint else text


# --- describing what came back --------------------------------------------------------------

def what(desc: dict) -> str:
    """A returned value in a few words: 'a tuple of 2 items', 'None', 'a Tensor[3, 4] of float32'."""
    kind = desc.get("kind")
    if kind == "tensor":
        name = desc.get("subclass", "Tensor")
        return f"a {name}{list(desc['shape'])} of {desc['dtype']}"
    if kind in ("tuple", "list"):
        return f"a {kind} of {len(desc['items'])} items"
    if kind == "none":
        return "None"
    if kind == "ndarray":
        return f"a numpy array {list(desc['shape'])} of {desc['dtype']}"
    if kind == "number":
        return f"a Python {desc['type']} ({desc['value']!r})"
    if kind == "one_of":
        return what(desc["options"][0])
    return f"an object of type {desc.get('type')} ({desc.get('repr')})"


def _kind(desc) -> str:
    """What came back, without its shape or contents: all a hidden case's feedback says of it
    (a shape or a repr could carry the hidden inputs out)."""
    kind = desc.get("kind")
    return {"tensor": "a tensor", "tuple": "a tuple", "list": "a list", "none": "None",
            "ndarray": "a numpy array", "number": f"a Python {desc.get('type')}"}.get(kind, "another object")


def shape_of(desc) -> tuple:
    return tuple(desc["shape"])


# --- structure: kind, dtype, shape, device --------------------------------------------------

def structure(exp: dict, got: dict, where="result", names=()):
    """The first difference in kind, dtype, shape or device, as a Failure; None if they agree.
    `names`: the contract's names of a tuple result's items (``gt_overlap``, ``gt_idx``)."""
    if exp["kind"] == "one_of":
        failures = [structure(o, got, where, names) for o in exp["options"]]
        if any(f is None for f in failures):
            return None
        # the option in the returned dtype says what else differs (a shape, a device)
        return next((f for f in failures if f.check != "dtype"), failures[0])
    if exp["kind"] in ("tuple", "list"):
        n = len(exp["items"])
        if got.get("kind") not in ("tuple", "list") or len(got["items"]) != n:
            return Failure("type", f"{where}: expected a tuple of {n} tensors, got {what(got)}",
                           f"{where}: expected a tuple of {n} tensors, got {_kind(got)}")
        for i, (e, g) in enumerate(zip(exp["items"], got["items"])):
            failure = structure(e, g, part(where, i, names))
            if failure:
                return failure
        return None
    if got.get("kind") != "tensor":
        return Failure("type", f"{where}: expected a torch.Tensor, got {what(got)}",
                       f"{where}: expected a torch.Tensor, got {_kind(got)}")
    if got.get("subclass"):
        text = f"{where}: expected a plain torch.Tensor, got a {got['subclass']}"
        return Failure("type", text, text, "subclass_returned")
    if got["dtype"] != exp["dtype"]:
        text = f"{where}: expected dtype {exp['dtype']}, got {got['dtype']}"
        return Failure("dtype", text, text)
    if shape_of(got) != shape_of(exp):
        return Failure("shape", f"{where}: expected shape {list(exp['shape'])}, got {list(got['shape'])}",
                       f"{where}: wrong shape")
    if got["device"] != exp["device"]:
        text = f"{where}: expected device {exp['device']}, got {got['device']}"
        return Failure("device", text, text)
    return None


# --- values -----------------------------------------------------------------------------------

def tolerance(dtype: str, override=None):
    if override is not None:
        return override
    return DEFAULT_TOL.get(dtype, (0.0, 0.0))


def mismatch(expected: np.ndarray, got: np.ndarray, tol):
    """Boolean mask of entries that differ beyond `tol` = (atol, rtol); NaN equals NaN only."""
    if got is None or expected.shape != got.shape:
        return np.ones(expected.shape, dtype=bool)
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        return expected != got
    e, g = expected.astype(np.float64), got.astype(np.float64)
    atol, rtol = tol
    with np.errstate(invalid="ignore"):
        close = (e == g) | (np.abs(g - e) <= atol + rtol * np.abs(e))
    return ~(close | (np.isnan(e) & np.isnan(g)))


def values(exp: dict, got: dict, tol=None, where="result", names=()):
    """The first value difference beyond tolerance, as a Failure; None if all agree."""
    if exp["kind"] == "one_of":
        failures = [values(o, got, tol, where, names) for o in exp["options"]]
        if any(f is None for f in failures):
            return None
        if len(failures) == 1:
            return failures[0]
        shown = "; ".join(_listing(o.get("array")) for o in exp["options"][:4])
        return Failure("values", f"{where}: {_listing(got.get('array'))} is none of the "
                                 f"{len(failures)} valid answers ({shown})",
                       f"{where}: values differ from every valid answer")
    if exp["kind"] in ("tuple", "list"):
        for i, (e, g) in enumerate(zip(exp["items"], got["items"])):
            failure = values(e, g, tol, part(where, i, names))
            if failure:
                return failure
        return None
    expected, array = exp["array"], got.get("array")
    if array is None:
        return Failure("values", f"{where}: the values did not come back (too large)",
                       f"{where}: the values did not come back (too large)")
    t = tolerance(exp["dtype"], tol)
    bad = mismatch(expected, array, t)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    tol_text = "exact" if expected.dtype.kind in "biu" else f"atol={t[0]:g}, rtol={t[1]:g}"
    detail = (f"{where}: {int(bad.sum())} of {bad.size} entries differ; first at {list(first)}: "
              f"expected {_num(expected[first])}, got {_num(array[first])} ({tol_text})")
    if expected.ndim == 1 and expected.size <= 12 and array.size <= 12:
        detail = f"{where}: expected {_listing(expected)}, got {_listing(array)} ({tol_text})"
    return Failure("values", detail, f"{where}: values differ from the expected ones ({tol_text})")


def _num(x):
    return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)


def _listing(array):
    if array is None:
        return "?"
    return "[" + ", ".join(_num(x) for x in np.asarray(array).ravel()[:12]) + \
        (", ...]" if np.asarray(array).size > 12 else "]")


def agrees(exp: dict, got: dict, tol=None) -> bool:
    return structure(exp, got) is None and values(exp, got, tol) is None


# --- known mistakes ----------------------------------------------------------------------------

def _leaves(desc):
    if desc.get("kind") in ("tuple", "list"):
        return [leaf for item in desc["items"] for leaf in _leaves(item)]
    if desc.get("kind") == "one_of":
        return _leaves(desc["options"][0])
    return [desc]


def tensor_pairs(exp, got):
    """Pairs of (expected tensor, returned tensor) at the same place, when the structure allows."""
    e, g = _leaves(exp), _leaves(got)
    return [(a, b) for a, b in zip(e, g) if a.get("kind") == "tensor" and b.get("kind") == "tensor"]


def same_shape_arrays(exp, got):
    """(expected array, returned array) of each tensor pair whose shapes agree."""
    return [(a["array"], b["array"]) for a, b in tensor_pairs(exp, got)
            if a.get("array") is not None and b.get("array") is not None
            and a["array"].shape == b["array"].shape]


def _generic(exp, got, check="values"):
    """Hints that need no knowledge of the exercise: wrong kind of result, dtype slips (only
    when the dtype is what failed, against the accepted dtype nearest to it), NaN."""
    kind = got.get("kind")
    if kind == "none":
        return "none_returned"
    if kind == "ndarray":
        return "numpy_returned"
    if kind == "list" and exp.get("kind") == "tensor":
        return "list_returned"
    for e, g in tensor_pairs(exp, got) if check == "dtype" else ():
        if e["dtype"] == "float32" and g["dtype"] == "float64":
            return "float64_result"
        if e["dtype"].startswith(("float", "bfloat")) and g["dtype"] != e["dtype"]:
            return "dtype_changed"
        if e["dtype"] == "int64" and g["dtype"] in ("int32", "int16", "int8", "uint8"):
            return "int32_indices"
    if any(g.dtype.kind == "f" and (np.isnan(g) & ~np.isnan(e.astype(float))).any()
           for e, g in same_shape_arrays(exp, got)):
        return "nan_result"
    return None


def diagnose(case, expect: dict, got: dict, check="values"):
    """The name of the known mistake that explains `got`, or None.

    A mistake explains a failure only when its prediction is what came back and differs from
    the right answer on this case: first a mistake whose code gives that output, then one
    whose detector recognises its form (in the case's order), then a generic slip. A failure
    in a contract detail alone (`check` dtype, device or shape, the values right) is named by
    a detector of the output's form or the detail's generic hint: no value mistake explains
    right values."""
    exp = expect["output"]
    found = normalised(exp, got)
    values_right = check in SLIPS and found is not None and values(exp, found[0], case.tol) is None
    seen = found[0] if found is not None else got
    explaining = [] if values_right else [name for name, wrong in expect.get("mistakes", {}).items()
                                          if _explains(wrong, seen, exp, case.tol)]
    if explaining:
        return explaining[0] if len(explaining) == 1 else tuple(explaining)
    return _detected(case, "output", exp, got) or _generic(exp, got, check)


def _explains(wrong, got, exp, tol) -> bool:
    """One of the mistake's predictions is `got` and is not a right answer on this case."""
    predictions = wrong["options"] if wrong["kind"] == "one_of" else [wrong]
    rights = exp["options"] if exp["kind"] == "one_of" else [exp]
    return any(agrees(p, got, tol) and not any(agrees(p, r, tol) for r in rights) for p in predictions)


def _detected(case, on, exp, got):
    """The first of the case's mistakes whose detector (looking at `on`) recognises `got`."""
    known = cases.mistakes(case.exercise)
    for name in case.mistakes:
        mistake = known[name]
        if mistake.detect is not None and mistake.on == on and mistake.detect(exp, got, case.tol):
            return name
    return None


# --- one case ------------------------------------------------------------------------------------

def evaluate(case, expects: list, results: list, seconds: list) -> Outcome:
    """The verdict on `case` from the reference's `expects` and the child's `results` (per call)."""
    slips = []
    failure = _first_failure(case, expects, results, seconds, slips)
    outcome = Outcome(case.id, case.title, case.exercise, case.points, case.hidden, failure is None,
                      edge=case.edge)
    if slips:
        outcome.slip = "; ".join(dict.fromkeys(hidden if case.hidden else public
                                               for _, public, hidden in slips))
    if failure is not None:
        outcome.check = failure.check
        outcome.detail = failure.hidden_detail if case.hidden else failure.detail
        # several mistakes may predict this output: the first names it for now, and the
        # exercise settles on the one that explains most of its cases (scoring.settle)
        names = failure.hint if isinstance(failure.hint, tuple) else (failure.hint,) if failure.hint else ()
        outcome.candidates = names
        outcome.hint_name = names[0] if names else ""
        outcome.hint = cases.hint(case.exercise, names[0]) if names else ""
        if not case.hidden:
            outcome.inputs = feedback.inputs_text(case, failure.call)
            outcome.picture = feedback.picture_data(case, expects, results, failure.call)
    return outcome


def _first_failure(case, expects, results, seconds, slips):
    """The first failing check of `case`, or None; the slips noted on the way go to `slips`."""
    if len(results) < len(expects) or any(r is None for r in results):
        return Failure("not run", "the call did not complete", "the call did not complete")
    names = getattr(cases.exercise_module(case.exercise), "OUTPUTS", ())
    outputs = []
    for i, (expect, result) in enumerate(zip(expects, results)):
        checked = _call_error(case, result) or _structure(case, expect, result["output"], names, slips)
        if isinstance(checked, Failure):
            checked.call = i
            return checked
        outputs.append(checked)          # the output, with any slip taken out
    if case.max_seconds is not None and any(s is None or s > case.max_seconds for s in seconds):
        text = f"a call took longer than {case.max_seconds:g} s (measured by the grader)"
        return Failure("time", text, text, "too_slow")
    failure = _compared(case, expects, results, outputs, names)
    if failure:
        return failure
    for call, expect, result in zip(case.calls, expects, results):
        if call.grad is not None:
            failure = _gradient(case, expect, result)
            if failure:
                return failure
    for expect, result in zip(expects, results):
        failure = _unmodified(expect["inputs"], result, registry.get(case.exercise).params)
        if failure:
            return failure
    return None


def _call_error(case, result):
    """The call's exception (an interrupt of a timed case included) as a Failure, or None."""
    error = result.get("error")
    if error and error["type"] == "timeout":
        text = f"interrupted: {error['message']} (the limit is {case.max_seconds:g} s)"
        return Failure("time", text, text, "too_slow")
    if error:
        text = f"raised {error['type']}: {error['message']}"
        if error.get("where"):
            text += f" ({error['where']})"
        return Failure("error", text, text, cases.error_hint(case.exercise, error))
    return None


def _structure(case, expect, got, names, slips):
    """A structure Failure, or the output to compare: `got` itself, or with a slip in a detail
    the case is not about taken out (the slip noted in `slips`)."""
    failure = structure(expect["output"], got, names=names)
    if failure is None:
        return got
    found = normalised(expect["output"], got, names=names) if failure.check in SLIPS else None
    if found is not None and not any(detail in case.about for detail, _, _ in found[1]):
        slips += found[1]
        return found[0]
    failure.hint = failure.hint or diagnose(case, expect, got, failure.check)
    return failure


def _compared(case, expects, results, outputs, names):
    """The values against the reference, or the case's property, as a Failure; None if right."""
    if case.compare == "match":
        for i, (expect, got) in enumerate(zip(expects, outputs)):
            failure = values(expect["output"], got, case.tol, names=names)
            if failure:
                failure.hint = diagnose(case, expect, got)
                failure.call = i
                return failure
        return None
    seen = [dict(r, output=o) for r, o in zip(results, outputs)]
    problem = cases.properties(case.exercise)[case.compare](case, expects, seen)
    return Failure("property", problem, problem) if problem else None


def _gradient(case, expect, result):
    if result.get("grad_error"):
        text = f"gradient: {result['grad_error']}"
        cut = "shape" not in result["grad_error"]   # a result of another shape is not a cut graph
        return Failure("gradient", text, text, "grad_cut" if cut else None)
    for i, (exp, got) in enumerate(zip(expect["grads"], result["grads"])):
        where = f"gradient of argument {case.calls[0].grad['wrt'][i] + 1}"
        if got.get("kind") == "none":
            text = f"{where}: none reached the input"
            return Failure("gradient", text, text, "grad_cut")
        failure = structure(exp, got, where) or values(exp, got, case.tol, where)
        if failure:
            failure.check = "gradient"
            failure.hint = _detected(case, "gradient", exp, got) or failure.hint
            return failure
    return None


def _unmodified(originals, result, params=()):
    """The inputs after the call, as the grader read them back from its own memory, against
    their values before it (bit for bit, NaN equal to NaN). `params`: the function's
    parameter names, to say which argument changed."""
    for i, (original, after) in enumerate(zip(originals, result.get("inputs_after") or [])):
        if original is None or after is None:
            continue
        if list(after["shape"]) != list(original.shape) or mismatch(original, after["array"], (0.0, 0.0)).any():
            name = f" (`{params[i]}`)" if i < len(params) else ""
            text = f"argument {i + 1}{name} was modified by the call"
            return Failure("modified input", text, text, "modified_input")
    return None
