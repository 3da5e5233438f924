"""Grading cases: what to call, with which inputs, worth how many points.

A case is data, not code: its calls hold declarative input specs (built into
tensors by ``autograder.values.build_arg``, identically in the parent and in the
sandboxed child), and it names where its expected value comes from
(``reference``), how to compare (``compare``) and which known mistakes to look
for when it fails (``mistakes``).

    autograder/cases/<module>.py     one exercise, public (shipped to students): its CASES,
                                     the MISTAKES it recognises (hint, optional detector),
                                     its PROPERTIES and its ERROR_PATTERNS
    autograder/hidden/<module>.py    the same exercise, grader only: its hidden CASES and the
                                     code of its mistakes and accepted alternatives

Names are checked when a module loads, never matched by luck: a case naming a
mistake or property its exercise's module does not define raises ValueError.
Public cases are a strict subset of all cases: every exercise has hidden ones.
"""
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from autograder import hints
from ssd_course import registry

DEFAULT_TOL = {  # (atol, rtol) of a float comparison, by the output's dtype
    "float64": (1e-8, 1e-7),
    "float32": (1e-5, 1e-4),
    "float16": (1e-2, 1e-2),
    "bfloat16": (3e-2, 3e-2),
}


# --- input specs ------------------------------------------------------------------------------

def tensor(values, dtype="float32", layout="contiguous", grad=False) -> dict:
    """Spec of a tensor argument: values (any nested list / array), cast to `dtype` in the child.

    ``layout="transposed"`` or ``"strided"`` makes the child pass a non-contiguous
    view with the same values; ``grad=True`` makes it a leaf that requires grad.
    """
    array = np.asarray(values, dtype=np.int64 if dtype.startswith(("int", "uint", "bool"))
                       else np.float64)
    return {"tensor": array.ravel().tolist(), "shape": list(array.shape), "dtype": dtype,
            "layout": layout, "grad": grad}


def py(value) -> dict:
    """Spec of a plain Python argument; tuples and lists keep their type."""
    def tag(v):
        if isinstance(v, tuple):
            return {"tuple": [tag(x) for x in v]}
        if isinstance(v, list):
            return {"list": [tag(x) for x in v]}
        return v
    return {"py": tag(value)}


def array_of(spec: dict) -> np.ndarray:
    """The values of a tensor spec as a float64 (or int64) array."""
    dtype = np.int64 if spec["dtype"].startswith(("int", "uint", "bool")) else np.float64
    return np.asarray(spec["tensor"], dtype=dtype).reshape(spec["shape"])


# --- seeded random inputs ---------------------------------------------------------------------

def random_boxes(seed, n, scale=1.0, offset=0.0, min_size=0.05):
    """`n` random valid ``xyxy`` boxes in [offset, offset + scale], rounded to 1/1024 of `scale`."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1 - min_size, size=(n, 2))
    wh = rng.uniform(min_size, 1, size=(n, 2)) * (1 - xy)
    boxes = np.concatenate([xy, xy + wh], axis=1) * scale + offset
    return np.round(boxes * 1024 / scale) * scale / 1024


def random_normal(seed, shape, scale=1.0):
    return np.round(np.random.default_rng(seed).normal(0, scale, size=shape), 6)


def random_ints(seed, low, high, shape):
    return np.random.default_rng(seed).integers(low, high, size=shape)


def random_permutation(seed, n):
    return np.random.default_rng(seed).permutation(n)


# --- cases ------------------------------------------------------------------------------------

# Computed in float32, these come back in float32 or in their own dtype: both are accepted
# (the areas of pixel boxes overflow float16, so torchvision computes in float32 too).
HALF_DTYPES = ("float16", "bfloat16")
SMALL_BOX_AREA = 1e-2    # below it an epsilon added to a union (1e-7, 1e-5) moves the IoU visibly


def tensor_specs(call) -> list:
    """The tensor argument specs of `call`, positional then keyword."""
    return [s for s in (*call.args, *call.kwargs.values()) if isinstance(s, dict) and "tensor" in s]


def _tensor_tags(spec: dict, boxes=False) -> set:
    """dtype, layout, empty, and for `boxes` ([N, 4] xyxy) their units and sizes."""
    tags = {f"dtype:{spec['dtype']}"}
    if spec.get("layout", "contiguous") != "contiguous":
        tags.add(f"layout:{spec['layout']}")
    if 0 in spec["shape"]:
        tags.add("empty")
    values = array_of(spec)
    if boxes and values.size:
        tags.add("units:[-1, 1]" if values.min() < 0 else "units:[0, 1]" if values.max() <= 1
                 else "units:pixels")
        area = (values[:, 2] - values[:, 0]) * (values[:, 3] - values[:, 1])
        if (area == 0).any():
            tags.add("boxes:zero-area")
        if ((area > 0) & (area < SMALL_BOX_AREA)).any():
            tags.add("boxes:small")
    return tags

@dataclass(frozen=True)
class Call:
    """One call of the student's function.

    Args:
        args: positional argument specs (``tensor(...)`` / ``py(...)``).
        kwargs: keyword argument specs.
        grad: ``{"wrt": [arg indices], "upstream": tensor spec or None}``: the child
            back-propagates ``upstream`` (1 for a scalar) and reports those args' ``.grad``.
        time_limit: seconds after which the child interrupts the call (timed cases).
    """
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    grad: dict = None
    time_limit: float = None

    def job(self) -> dict:
        return {"args": list(self.args), "kwargs": self.kwargs, "grad": self.grad,
                "time_limit": self.time_limit}


@dataclass
class Case:
    """A named, pointed check of one exercise.

    Args:
        exercise: module name (``jaccard``).
        name: what is checked, as a sentence (``identical boxes have IoU 1``).
        calls: the calls to make; most cases have one.
        points: what the case is worth.
        reference: where expected outputs come from: ``solutions``, ``torchvision``,
            or the name of a generator of all valid answers (e.g. ``nms_tie_orders``).
        compare: ``match`` (each call's output against the reference) or the name of a
            property relating the calls' outputs (its exercise module's ``PROPERTIES``).
        mistakes: known mistakes to recognise when the case fails, tried in this order
            (names in its exercise module's ``MISTAKES``).
        grad_options: references whose gradients are all accepted (default: ``reference``).
        float64_reference: compute the reference in float64 and cast back (low-precision inputs).
        max_seconds: wall-time limit of each call, measured by the parent (timed cases).
        tol: (atol, rtol) overriding ``DEFAULT_TOL``; a case with float16 or bfloat16 inputs
            defaults to that dtype's tolerance, whatever dtype the answer comes back in
            (computing in float32 is accepted, see ``HALF_DTYPES``).
        meta: data a property needs (e.g. the permutation applied to the inputs).
        edge: an edge case (empty input, disjoint boxes...) that a function doing nothing
            could pass: its points count only once a non-edge case of the exercise passes.
            Every property case is one (a constant answer is symmetric).
        about: the contract details this case checks beyond the values (``"dtype"``,
            ``"shape"``, ``"device"``); a slip in a detail it is not about is noted once and
            costs it nothing. A case with inputs of another dtype than float32 and int64 (the
            dtype of indices and targets) is about dtype; one with int64 boxes says so.
    """
    exercise: str
    name: str
    calls: tuple
    points: int = 1
    reference: str = "solutions"
    compare: str = "match"
    mistakes: tuple = ()
    grad_options: tuple = ()
    float64_reference: bool = False
    max_seconds: float = None
    tol: tuple = None
    meta: dict = field(default_factory=dict)
    hidden: bool = False
    edge: bool = False
    about: tuple = ()

    def __post_init__(self):
        _check_names(self)
        half = [d for d in self.input_dtypes if d in HALF_DTYPES]
        if self.tol is None and half:
            self.tol = DEFAULT_TOL[half[0]]
        if self.compare != "match":   # a relation between outputs holds for constant answers too
            self.edge = True
        if any(d not in ("float32", "int64") for d in self.input_dtypes) and "dtype" not in self.about:
            self.about = (*self.about, "dtype")

    @property
    def input_dtypes(self) -> list:
        """The dtypes of the tensor arguments of every call, in order."""
        return [spec["dtype"] for call in self.calls for spec in tensor_specs(call)]

    @property
    def tags(self) -> set:
        """The kinds of thing this case checks, read from its own inputs: dtypes, layouts,
        units and sizes of boxes, empty inputs, arguments by position or keyword, gradients,
        properties, references, timing. Hidden cases may differ from public ones in values
        only, so every tag of a hidden case is the tag of some public case (tests enforce it)."""
        tags = {f"about:{a}" for a in self.about}
        if self.compare != "match":
            tags.add(f"property:{self.compare}")
        if self.reference != "solutions":
            tags.add(f"reference:{self.reference}")
        if self.max_seconds is not None:
            tags.add("timed")
        boxes = getattr(exercise_module(self.exercise), "BOX_ARGS", ())
        for call in self.calls:
            tags |= {f"positional:{i}" for i in range(len(call.args))}
            tags |= {f"keyword:{k}" for k in call.kwargs}
            tags |= {"gradient"} if call.grad else set()
            for i, spec in enumerate((*call.args, *call.kwargs.values())):
                if isinstance(spec, dict) and "tensor" in spec:
                    tags |= _tensor_tags(spec, boxes=i in boxes)
        return tags

    @property
    def id(self) -> str:
        return f"{self.exercise}.{re.sub(r'[^a-z0-9]+', '_', self.name.lower()).strip('_')}"

    @property
    def title(self) -> str:
        return f"{self.exercise}: {self.name}"

    def job(self) -> dict:
        """What the child receives: inputs only, never an expected value."""
        return {"id": self.id, "calls": [c.job() for c in self.calls]}


# --- what an exercise's module declares ----------------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """A known wrong answer to one exercise: what the student reads, and how it is recognised.

    Args:
        hint: what to change, in a sentence or two; never a hidden case's values.
        detect: ``detect(expected, got, tol) -> bool`` (value descriptions, see
            ``autograder.verdict``) for a mistake recognised by the form of what came back:
            a shape, a type, inf where a number belongs. None for one recognised by equality
            with its code (``autograder/hidden/<module>.py``, grader only; a student copy has
            its outputs on the public cases as data) or by one of the module's ERROR_PATTERNS.
        on: what `detect` looks at: ``"output"`` (a call's result) or ``"gradient"`` (a
            gradient that differs from the expected one).
    """
    hint: str
    detect: Callable = None
    on: str = "output"


def exercise_module(exercise: str):
    """The public module of `exercise` (module or function name), ``autograder/cases/<module>.py``.

    Its tables: ``MISTAKES`` {name: Mistake}; ``PROPERTIES`` {name: property(case, expects,
    results) -> a sentence saying what does not hold, or None}; ``ERROR_PATTERNS`` [(regex on
    an error's type + message, mistake name)]. While the module is being imported (its
    cases being built) it is what it has defined so far, so its tables come before its cases.
    """
    return importlib.import_module(f"autograder.cases.{registry.get(exercise).module}")


def mistakes(exercise: str) -> dict:
    return exercise_module(exercise).MISTAKES


def properties(exercise: str) -> dict:
    return exercise_module(exercise).PROPERTIES


def hint(exercise: str, name: str) -> str:
    """The text of hint `name`: a mistake of `exercise`, else a generic hint; KeyError if neither."""
    own = mistakes(exercise)
    return own[name].hint if name in own else hints.HINTS[name]


def error_hint(exercise: str, error: dict):
    """The hint name for an exception raised by `exercise`'s code, or None."""
    return hints.for_error(error, exercise_module(exercise).ERROR_PATTERNS)


def _check_tables(module):
    """The module's tables, or ValueError saying what is missing or malformed."""
    where = module.__name__
    tables = [getattr(module, t, None) for t in ("MISTAKES", "PROPERTIES", "ERROR_PATTERNS")]
    if any(t is None for t in tables):
        raise ValueError(f"{where} must define MISTAKES, PROPERTIES and ERROR_PATTERNS before its cases")
    own, props, patterns = tables
    for name, mistake in own.items():
        if not isinstance(mistake, Mistake) or not mistake.hint:
            raise ValueError(f"{where}: mistake {name!r} needs a Mistake with a hint")
        if name in hints.HINTS:   # one name, one text: an exercise cannot reword a generic hint
            raise ValueError(f"{where}: mistake {name!r} shadows the generic hint of that name")
        if mistake.on not in ("output", "gradient") or mistake.on == "gradient" and not mistake.detect:
            raise ValueError(f"{where}: mistake {name!r}: on={mistake.on!r} (output, or gradient "
                             "with a detector)")
    if "match" in props:
        raise ValueError(f"{where}: 'match' is not a property name (it compares to the reference)")
    for pattern, name in patterns:
        re.compile(pattern)
        if name not in own:
            raise ValueError(f"{where}: error pattern {pattern!r} names {name!r}, not a mistake of its own")
    return own, props


def _check_names(case):
    """The mistakes and the property `case` names are defined by its exercise's module."""
    module = exercise_module(case.exercise)
    own, props = _check_tables(module)
    unknown = [m for m in case.mistakes if m not in own]
    if unknown:
        raise ValueError(f"case {case.id}: mistakes {unknown} are not in {module.__name__}.MISTAKES "
                         f"({', '.join(own)})")
    if case.compare != "match" and case.compare not in props:
        raise ValueError(f"case {case.id}: compare={case.compare!r} is neither 'match' nor in "
                         f"{module.__name__}.PROPERTIES ({', '.join(props) or 'none'})")


def hidden_available() -> bool:
    """True in the instructor's repository, where ``autograder/hidden/`` sits beside these cases."""
    return (Path(__file__).resolve().parent.parent / "hidden" / "__init__.py").is_file()


def public_cases(module: str) -> list:
    return list(importlib.import_module(f"autograder.cases.{module}").CASES)


def hidden_cases(module: str) -> list:
    cases = list(importlib.import_module(f"autograder.hidden.{module}").CASES)
    for case in cases:
        case.hidden = True
    return cases


def parity_gaps(module: str) -> dict:
    """{hidden case id: its tags that no public case of the exercise has}: the kinds of check
    (a dtype, a layout, a unit scale, a size class of boxes, a property) that only hidden cases
    would make. Empty when hidden cases differ from public ones in values only."""
    public = set().union(*(c.tags for c in public_cases(module)))
    return {c.id: sorted(c.tags - public) for c in hidden_cases(module) if c.tags - public}


def collect(exercises=None, hidden=False) -> list:
    """The cases of `exercises` (module or function names; all when None), public first.

    Raises:
        ValueError: unknown exercise, duplicate case ids, or hidden cases asked for
            in a copy that has none (a student copy).
    """
    modules = [registry.get(e).module for e in exercises] if exercises else \
        [e.module for e in registry.EXERCISES]
    if hidden and not hidden_available():
        raise ValueError("this copy of the course has no hidden cases (autograder/hidden/): "
                         "grading with hidden cases needs the instructor's repository")
    cases = []
    for module in dict.fromkeys(modules):
        cases += public_cases(module)
        if hidden:
            cases += hidden_cases(module)
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return cases
