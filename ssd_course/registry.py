"""The six exercises: where each lives, which lesson introduces it.

One table that the stubs generator, the implementation switch, the autograder
and the nbgrader course all read, so the names never drift apart.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    number: int       # as numbered in EXERCISES.md
    module: str       # file name in ssd_course/exercises/ and solutions/
    function: str     # the function the student writes
    lesson: str       # the lesson that introduces it (lessons/NN_*.ipynb)
    params: tuple = ()  # the function's parameters, in order (EXERCISES.md), to name them in feedback

    @property
    def path(self) -> str:
        """Path of the student's file, relative to a course copy's root."""
        return f"ssd_course/exercises/{self.module}.py"


EXERCISES = (
    Exercise(1, "flatten_conv", "flatten_conv", "02", ("x", "k")),
    Exercise(2, "anchors", "make_anchors", "03", ("grids", "zooms", "ratios")),
    Exercise(3, "jaccard", "jaccard", "04", ("box_a", "box_b")),
    Exercise(4, "matching", "map_to_ground_truth", "04", ("overlaps",)),
    Exercise(5, "focal_loss", "focal_loss", "05", ("logits", "targets", "alpha", "gamma")),
    Exercise(6, "nms", "nms", "07", ("boxes", "scores", "overlap", "top_k")),
)

_BY_NAME = {**{e.module: e for e in EXERCISES}, **{e.function: e for e in EXERCISES}}


def get(name: str) -> Exercise:
    """Look an exercise up by module name (`anchors`) or function name (`make_anchors`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(e.module for e in EXERCISES)
        raise ValueError(f"unknown exercise {name!r}; the exercises are: {known}") from None
