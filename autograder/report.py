"""Reports of a GradeResult: the student's check table, the grader's report, Gradescope JSON.

All three are deterministic: the same submission gives the same text (no
timings, no memory addresses), so a regrade can be compared line by line.
"""
import textwrap

SHOWN_OUTPUT_LINES = 15
# Checks that stopped an exercise as a whole: its one reason is printed once, not per case.
WHOLE_EXERCISE = ("crash", "timeout", "file")
LINE_CHARS = 160


def _indent(text, prefix):
    return textwrap.indent(text, prefix)


def _case_lines(outcome, details=True):
    tag = "[hidden] " if outcome.hidden else ""
    name = outcome.title.split(": ", 1)[1]
    lines = [f"  {'PASS' if outcome.passed else 'FAIL'}  {tag}{name}"]
    if details and not outcome.passed and outcome.check not in WHOLE_EXERCISE:
        lines.append(_indent(outcome.message(), "        "))
    return lines


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


def check_table(result) -> str:
    """PASS/FAIL per public case with hints; one line per exercise; what the hidden cases add."""
    out = []
    for ex in result.exercises:
        out.append(f"{ex.module} ({ex.function}):")
        public = [o for o in ex.outcomes if not o.hidden]   # a table for students: public cases only
        for outcome in public:
            out += _case_lines(outcome, details=not ex.common_failure())
        if ex.summary():
            out.append(_indent(ex.summary(), "  => ").replace("\n  => ", "\n     "))
        out += _output_lines(ex)
        passed = sum(o.passed for o in public)
        hidden = result.hidden_counts.get(ex.module)
        tail = f" — {hidden} hidden cases run at grading" if hidden else ""
        out.append(f"{ex.module}: {passed}/{len(public)} public cases pass{tail}")
        out.append("")
    if not result.isolation.strong:
        out.append(f"note: {result.isolation.note}")
    out.append("all public cases pass" if result.passed else
               "some cases fail: read the hints above, fix, and run the check again")
    return "\n".join(out)


def grade_report(result) -> str:
    """The grader's report: every case (hidden ones without expected values), scores, reasons."""
    kind = "public + hidden cases" if result.hidden else "public cases"
    reference = "solutions/" if result.reference == "live" else "stored public expectations"
    out = [f"Grading {result.submission} ({kind}; expected values from {reference})",
           f"isolation: {result.isolation.note}", ""]
    for ex in result.exercises:
        out.append(f"{ex.module}: {ex.score}/{ex.max_score} points "
                   f"({sum(o.passed for o in ex.outcomes)}/{len(ex.outcomes)} cases)")
        if ex.sha256:
            out.append(f"  graded file: sha256 {ex.sha256}")
        if ex.reason:
            out.append(f"  0 points: {ex.reason}")
        else:
            for outcome in ex.outcomes:
                out += _case_lines(outcome, details=not ex.common_failure())
            if ex.summary():
                out.append(_indent(ex.summary(), "  => ").replace("\n  => ", "\n     "))
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
