"""Reports of a GradeResult: the student's check table, the grader's report, Gradescope JSON.

All three are deterministic: the same submission gives the same text (no
timings, no memory addresses), so a regrade can be compared line by line.
"""
import textwrap

from autograder import scoring

SHOWN_OUTPUT_LINES = 15
# Checks that stopped an exercise as a whole: its one reason is printed once, not per case.
WHOLE_EXERCISE = ("crash", "timeout", "file")
LINE_CHARS = 160


def _indent(text, prefix):
    return textwrap.indent(text, prefix)


HINT_WIDTH = 96      # hint lines are wrapped: a terminal, a notebook and a feedback page show them whole
SHOWN_TITLES = 4     # the cases a hint explains, by title; more are counted


def _points(n) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def _case_lines(outcome, details=True):
    tag = "[hidden] " if outcome.hidden else ""
    name = outcome.title.split(": ", 1)[1]
    marks = " (edge)" if outcome.edge else ""
    if outcome.withheld:
        marks = " (edge: not counted, no case showing a computation passed)"
    lines = [f"  {'PASS' if outcome.passed else 'FAIL'}  {tag}{name}  [{_points(outcome.points)}]{marks}"]
    if details and not outcome.passed and outcome.check not in WHOLE_EXERCISE:
        text = f"{outcome.check}: {outcome.detail}" if outcome.detail else outcome.check
        lines.append(_indent(text, "        "))
        if outcome.inputs:
            lines += textwrap.wrap(f"inputs: {outcome.inputs}", HINT_WIDTH, initial_indent="        ",
                                   subsequent_indent="          ")
    return lines


def _diagnosis_lines(outcomes):
    """Each hint once, with the cases it explains; then the failures no known mistake explains."""
    failing = [o for o in outcomes if not o.passed and o.check not in WHOLE_EXERCISE]
    groups = {}
    for o in failing:
        if o.hint:
            groups.setdefault(o.hint, []).append(o)
    lines = []
    for hint, explained in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        titles = [o.title.split(": ", 1)[1] for o in explained if not o.hidden]
        hidden = len(explained) - len(titles)
        shown = "; ".join(f"'{t}'" for t in titles[:SHOWN_TITLES])
        more = len(titles) - SHOWN_TITLES
        where = ", ".join(x for x in (shown, f"{more} more" if more > 0 else "",
                                      f"{hidden} hidden" if hidden else "") if x)
        lines += textwrap.wrap(f"hint: {hint}", HINT_WIDTH, initial_indent="  ", subsequent_indent="        ")
        lines += textwrap.wrap(f"it explains {len(explained)} failing case(s): {where}", HINT_WIDTH,
                               initial_indent="        ", subsequent_indent="          ")
    unexplained = [o for o in failing if not o.hint]
    if unexplained:
        lines.append(f"  {len(unexplained)} failing case(s) that no known mistake explains: each says "
                     "below what differs")
    return lines


def _exercise_lines(ex, outcomes):
    """An exercise's block: what slipped and what is diagnosed first, then the case table."""
    if ex.reason or ex.common_failure():
        lines = [_indent(ex.summary(), "  => ").replace("\n  => ", "\n     ")]
        return lines + [line for o in outcomes for line in _case_lines(o, details=False)]
    lines = [f"  {line}" for line in scoring.slip_lines(outcomes)] + _diagnosis_lines(outcomes)
    return lines + [line for o in outcomes for line in _case_lines(o)]


def _score_line(outcomes) -> str:
    earned = sum(o.score for o in outcomes)
    return f"{earned}/{sum(o.points for o in outcomes)} points"


def _output_lines(ex):
    """What the student's code printed (escaped by the sandbox), every line behind a ``|``
    so that no printed line can pass for a line of the report."""
    hidden = ["  (what it printed during hidden cases is not shown)"] if ex.output_hidden else []
    if not ex.output.strip():
        return hidden
    lines = ex.output.rstrip("\n").splitlines()
    shown = lines[:SHOWN_OUTPUT_LINES]
    more = "" if ex.output_total <= len(ex.output.encode()) and len(lines) <= SHOWN_OUTPUT_LINES \
        else f" (first {len(shown)} lines of {ex.output_total} bytes)"
    return [f"  your code printed{more}:"] + [f"    | {line[:LINE_CHARS]}" for line in shown] + hidden


def check_table(result, final=False) -> str:
    """Per exercise: its score, what slipped, each hint once with the cases it explains, then
    PASS/FAIL per public case; what the hidden cases add. `final`: a grade, not a check, so it
    does not ask for another run."""
    out = [textwrap.fill(scoring.WEIGHTING, HINT_WIDTH), ""]
    for ex in result.exercises:
        public = [o for o in ex.outcomes if not o.hidden]   # a table for students: public cases only
        out.append(f"{ex.module} ({ex.function}): {_score_line(public)} on the public cases")
        out += _exercise_lines(ex, public)
        out += _output_lines(ex)
        passed = sum(o.passed for o in public)
        hidden = result.hidden_counts.get(ex.module)
        tail = f" — {hidden} hidden cases run at grading" if hidden else ""
        out.append(f"{ex.module}: {passed}/{len(public)} public cases pass{tail}")
        out.append("")
    if not result.isolation.strong:
        out.append(f"note: {result.isolation.note}")
    if result.passed:
        out.append("all public cases pass")
    else:
        out.append("some cases fail: the hints above say what to change" if final else
                   "some cases fail: read the hints above, fix, and run the check again")
    return "\n".join(out)


def grade_report(result) -> str:
    """The grader's report: every case (hidden ones without expected values), scores, reasons."""
    kind = "public + hidden cases" if result.hidden else "public cases"
    reference = "solutions/" if result.reference == "live" else "stored public expectations"
    out = [f"Grading {result.submission} ({kind}; expected values from {reference})",
           f"isolation: {result.isolation.note}", textwrap.fill(scoring.WEIGHTING, HINT_WIDTH), ""]
    for ex in result.exercises:
        out.append(f"{ex.module}: {ex.score}/{ex.max_score} points "
                   f"({sum(o.passed for o in ex.outcomes)}/{len(ex.outcomes)} cases)")
        if ex.sha256:
            out.append(f"  graded file: sha256 {ex.sha256}")
        if ex.reason:
            out.append(f"  0 points: {ex.reason}")
        else:
            out += _exercise_lines(ex, ex.outcomes)
        out += _output_lines(ex)
        out.append("")
    out.append(f"Total: {result.score}/{result.max_score} points")
    return "\n".join(out)


# Gradescope's visibility values (its specification's "Controlling Test Case Visibility").
PUBLIC, HIDDEN = "visible", "after_published"
FAILURE_STUDENT_LINE = "The autograder could not grade this submission: {reason}. Your score is 0 " \
                       "for now; your instructor has the details and will regrade it."


def gradescope(result, execution_time=None) -> dict:
    """Gradescope's ``results.json`` for `result`, keeping to its specification.

    Top level: ``score``, ``execution_time`` (whole seconds, only when given: a timing
    would make two gradings of one file differ), ``output``, ``visibility``,
    ``stdout_visibility`` (hidden: stdout is the instructor's report), ``tests``,
    ``extra_data``. One test per case: ``name`` (``[hidden]`` at the end for hidden
    cases), ``score``, ``max_score``, ``status`` (passed/failed), ``output`` (the
    message and hint; a hidden case's never holds expected values), ``visibility``
    (visible, or after_published for hidden cases), ``tags`` ([module]).
    ``extra_data`` holds ``max_score`` and ``exercises: {module: {score, max_score,
    sha256 of the file as graded or None, reason or None}}``, the isolation and the
    reference.
    """
    tests = []
    for ex in result.exercises:
        for o in ex.outcomes:
            output = ex.reason if ex.reason else o.message()
            tests.append({
                "name": o.title + (" [hidden]" if o.hidden else ""),
                "score": o.score,
                "max_score": o.points,
                "status": "passed" if o.passed else "failed",
                "output": output or "passed",
                "visibility": HIDDEN if o.hidden else PUBLIC,
                "tags": [ex.module],
            })
    data = {
        "score": result.score,
        "output": f"{result.score}/{result.max_score} points; isolation: {result.isolation.kind}",
        "visibility": PUBLIC,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"max_score": result.max_score,
                       "exercises": {ex.module: {"score": ex.score, "max_score": ex.max_score,
                                                 "sha256": ex.sha256, "reason": ex.reason}
                                     for ex in result.exercises},
                       "isolation": result.isolation.note, "reference": result.reference,
                       "hidden_cases": result.hidden},
    }
    return _timed(data, execution_time)


def gradescope_failure(reason: str, execution_time=None) -> dict:
    """The ``results.json`` of a grading that could not run: score 0, no tests, and a
    one-line `reason` for the student (the traceback belongs in stdout, not here)."""
    reason = " ".join(str(reason).split())[:LINE_CHARS] or "unknown error"
    data = {"score": 0, "output": FAILURE_STUDENT_LINE.format(reason=reason.rstrip(".")),
            "visibility": PUBLIC, "stdout_visibility": "hidden", "tests": [],
            "extra_data": {"error": reason}}
    return _timed(data, execution_time)


def _timed(data: dict, execution_time) -> dict:
    """`data` with ``execution_time`` (whole seconds, >= 0) in the specification's place."""
    if execution_time is None:
        return data
    out = {"score": data["score"], "execution_time": max(0, round(execution_time))}
    out.update((k, v) for k, v in data.items() if k != "score")
    return out
