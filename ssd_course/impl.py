"""Which implementation of the six exercise functions the pipeline runs.

    student     ssd_course/exercises/   your code (the default)
    solutions   solutions/              the instructor's reference (not in student copies)

The model, the loss and the post-processing call the functions below, so a
student who finishes the exercises trains with their own code. Choose with the
environment variable ``SSD_COURSE_IMPL=solutions``, with ``use("solutions")``
in Python, or with a command's ``--impl`` flag. Training prints the choice
(``describe()``) before it starts, so a run always says whose code it used.
"""
import importlib
import os
import sys
from pathlib import Path

from ssd_course import registry

ENV_VAR = "SSD_COURSE_IMPL"
CHOICES = ("student", "solutions")
DEFAULT = "student"
_PACKAGES = {"student": "ssd_course.exercises", "solutions": "solutions"}


def use(which: str) -> None:
    """Make the pipeline run `which` ("student" or "solutions") from now on.

    Also sets ``SSD_COURSE_IMPL`` so that child processes (data-loader workers,
    notebook kernels started from here) make the same choice.
    """
    if which not in CHOICES:
        raise ValueError(f"{ENV_VAR} must be one of {CHOICES}, got {which!r}")
    if which == "solutions" and solutions_dir() is None:
        raise ValueError("the reference solutions are not part of this copy of the course "
                         "(a student copy has no solutions/): use 'student'")
    os.environ[ENV_VAR] = which


def current() -> str:
    """The implementation in use: "student" unless SSD_COURSE_IMPL says otherwise."""
    which = os.environ.get(ENV_VAR, DEFAULT) or DEFAULT
    if which not in CHOICES:
        raise ValueError(f"{ENV_VAR}={which!r} is not one of {CHOICES}")
    if which == "solutions" and not os.path.isfile(_SOLUTIONS_INIT):
        raise ValueError(f"{ENV_VAR}=solutions, but the reference solutions are not part of this copy "
                         f"of the course (a student copy has no solutions/): unset {ENV_VAR} or set it to 'student'")
    return which


# Resolved once: the loss asks for an exercise function several times per batch (per
# image in the blog's loop), so a lookup must cost a dictionary read and one stat, not
# a walk up the filesystem.
_ROOT = Path(__file__).resolve().parent.parent
_SOLUTIONS_INIT = str(_ROOT / "solutions" / "__init__.py")


def repo_root() -> Path:
    """The course copy this package belongs to (the folder holding ssd_course/)."""
    return _ROOT


def solutions_dir():
    """The solutions/ folder next to this package, or None in a student copy."""
    return _ROOT / "solutions" if os.path.isfile(_SOLUTIONS_INIT) else None


def module(name: str):
    """The module of exercise `name` in the current implementation.

    A student's module is re-imported when its file changed since it was
    loaded, so an edited exercise takes effect without restarting the kernel.
    """
    ex, which = registry.get(name), current()
    qualname = f"{_PACKAGES[which]}.{ex.module}"
    mod = sys.modules.get(qualname)
    if mod is None:
        if which == "solutions":
            _put_solutions_on_path()
        mod = importlib.import_module(qualname)
    elif which == "student" and _changed_since_import(mod):
        mod = importlib.reload(mod)
    _remember_mtime(mod)
    return mod


def function(name: str):
    """The callable for exercise `name` (module or function name) in the current implementation."""
    return getattr(module(name), registry.get(name).function)


def command_default() -> str:
    """What a command runs without ``--impl``: the solutions where they are here (the instructor's
    repository: the demo, the benchmarks and training must work before any exercise is written),
    the student's code in a student copy."""
    return "solutions" if solutions_dir() is not None else "student"


def solutions_extra(name: str):
    """A helper module of the solutions that is not an exercise (e.g. "batched"), or None.

    None with the student's code in use or in a student copy, so the caller falls back
    to a path built on the exercise functions alone.
    """
    if current() != "solutions":                 # current() has checked that solutions/ is here
        return None
    mod = sys.modules.get(f"solutions.{name}")
    if mod is None:
        _put_solutions_on_path()
        mod = importlib.import_module(f"solutions.{name}")
    return mod


def describe() -> str:
    """One line saying whose exercise code runs, e.g. for the top of a training log."""
    which = current()
    where = solutions_dir() if which == "solutions" else repo_root() / "ssd_course" / "exercises"
    how = f"{ENV_VAR}=student|solutions" if solutions_dir() is not None else "your code in a student copy"
    return f"exercise functions: {which} ({where})  [{how}]"


def _put_solutions_on_path() -> None:
    # An editable install maps `solutions` already; a plain checkout may not.
    root = str(repo_root())
    if importlib.util.find_spec("solutions") is None and root not in sys.path:
        sys.path.append(root)


def _mtime(mod):
    path = getattr(mod, "__file__", None)
    return os.stat(path).st_mtime_ns if path and os.path.exists(path) else None


def _remember_mtime(mod) -> None:
    if not hasattr(mod, "_ssd_course_mtime"):
        mod._ssd_course_mtime = _mtime(mod)


def _changed_since_import(mod) -> bool:
    changed = _mtime(mod) != getattr(mod, "_ssd_course_mtime", None)
    if changed:
        del mod._ssd_course_mtime  # re-stamped after the reload
    return changed


# The pipeline calls `impl.jaccard(...)`, `impl.nms(...)`, ...: one forwarder per exercise, made
# from the registry, so an exercise's signature is written once, in its solution.
def _forwarder(ex: registry.Exercise):
    def forward(*args, **kwargs):
        return function(ex.module)(*args, **kwargs)
    forward.__name__ = forward.__qualname__ = ex.function
    forward.__doc__ = (f"`{ex.function}({', '.join(ex.params)})` of the implementation in use "
                       f"(exercise {ex.number}; its contract: docs/exercises.md).")
    return forward


for _ex in registry.EXERCISES:
    globals()[_ex.function] = _forwarder(_ex)
