"""The exercise markers: the one parser of the regions students write.

Each solution in solutions/ marks the student's part:

    # ==== BEGIN EXERCISE (about N lines) ====
    # HINT: ...            (kept in the stub)
    ...solution code...    (blanked in the stub)
    # ==== END EXERCISE ====

`lines` labels every line of a solution; the stub generator (`stubs`), the
release's leak check (`release`) and the nbgrader course builder
(`nbgrader_course`) all read the regions through it, so the three agree on
what a region is. Ships to students: the lessons print `not_implemented_message`.
"""
import re

from ssd_course import registry

BEGIN = re.compile(r"^(?P<indent>\s*)# ==== BEGIN EXERCISE.*====\s*$")
END = re.compile(r"^\s*# ==== END EXERCISE ====\s*$")
HINT = re.compile(r"^\s*# HINT:")

# The label of each line of a marked source.
OUTSIDE, BEGIN_LINE, HINT_LINE, SOLUTION, END_LINE = "outside", "begin", "hint", "solution", "end"


def not_implemented_message(ex: registry.Exercise) -> str:
    """What an untouched stub raises (and what a lesson's `needs` prints)."""
    return (f"Exercise {ex.number} (lesson {ex.lesson}): {ex.function} is not written yet. "
            f"Write it in {ex.path}, then run check('{ex.module}').")


def lines(source: str, name: str) -> list:
    """[(label, line with its newline)] for every line of `source`, in order.

    Args:
        source: a solution's text; name: its module name, for the error messages.
    Raises:
        ValueError: nested or unmatched markers, or no region at all.
    """
    out, inside = [], False
    for line in source.splitlines(keepends=True):
        if BEGIN.match(line):
            if inside:
                raise ValueError(f"{name}: nested BEGIN EXERCISE marker")
            inside, label = True, BEGIN_LINE
        elif END.match(line):
            if not inside:
                raise ValueError(f"{name}: END EXERCISE without BEGIN")
            inside, label = False, END_LINE
        elif inside:
            label = HINT_LINE if HINT.match(line) else SOLUTION
        else:
            label = OUTSIDE
        out.append((label, line))
    if inside:
        raise ValueError(f"{name}: BEGIN EXERCISE without END")
    if not any(label == BEGIN_LINE for label, _ in out):
        raise ValueError(f"{name}: no BEGIN EXERCISE marker found")
    return out


def solution_code(source: str, name: str) -> list:
    """The stripped, non-blank lines inside the regions that a stub blanks out (hints excluded)."""
    return [line.strip() for label, line in lines(source, name) if label == SOLUTION and line.strip()]
