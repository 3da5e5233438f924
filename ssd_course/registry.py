"""The six exercises: where each lives, which lesson introduces it.

One table that the stubs generator, the implementation switch, the autograder
and the nbgrader course all read, so the names never drift apart.
"""
import ast
import functools
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent     # the course copy holding ssd_course/


@dataclass(frozen=True)
class Exercise:
    number: int       # as numbered in docs/exercises.md
    module: str       # file name in ssd_course/exercises/ and solutions/
    function: str     # the function the student writes
    lesson: str       # the lesson that introduces it (lessons/NN_*.ipynb)

    @property
    def path(self) -> str:
        """Path of the student's file, relative to a course copy's root."""
        return f"ssd_course/exercises/{self.module}.py"

    @property
    def params(self) -> tuple:
        """The function's parameters, in order, to name them in feedback.

        Read from its definition, written once in solutions/ (the stub's is generated from it;
        a student copy reads the stub's), never imported.
        """
        return _params(self.module, self.function)


@functools.lru_cache(maxsize=None)
def _params(module: str, function: str) -> tuple:
    for source in (_ROOT / "solutions" / f"{module}.py", _ROOT / "ssd_course" / "exercises" / f"{module}.py"):
        if source.is_file():
            for node in ast.parse(source.read_text()).body:
                if isinstance(node, ast.FunctionDef) and node.name == function:
                    args = node.args
                    return tuple(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
    return ()


EXERCISES = (
    Exercise(1, "flatten_conv", "flatten_conv", "02"),
    Exercise(2, "anchors", "make_anchors", "03"),
    Exercise(3, "jaccard", "jaccard", "04"),
    Exercise(4, "matching", "map_to_ground_truth", "04"),
    Exercise(5, "focal_loss", "focal_loss", "05"),
    Exercise(6, "nms", "nms", "07"),
)

_BY_NAME = {**{e.module: e for e in EXERCISES}, **{e.function: e for e in EXERCISES}}


def get(name: str) -> Exercise:
    """Look an exercise up by module name (`anchors`) or function name (`make_anchors`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(e.module for e in EXERCISES)
        raise ValueError(f"unknown exercise {name!r}; the exercises are: {known}") from None
