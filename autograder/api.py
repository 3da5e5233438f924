"""The autograder's Python API: ``check`` for students, ``grade`` for graders.

    check("jaccard")                  public cases of your own copy, a PASS/FAIL table, True/False
    grade("path/to/submission")       public + hidden cases; a GradeResult with
                                      .score, .max_score, .report(), .gradescope()

Both run the student's code in the sandbox (``autograder.sandbox``), one child
process per exercise, while this process computes the expected values
(``autograder.reference``); every verdict is made here (``autograder.verdict``).
Importing this module is cheap: torch loads when grading starts, fastai never.
"""
import hashlib
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from autograder import cases as case_registry
from autograder import report as report_mod
from autograder import box as box_mod
from autograder import calls as calls_mod
from autograder import sandbox as sandbox_mod
from autograder import hints, messages, scoring, wire
from autograder.layout import MAX_SOURCE_BYTES, solutions_submission
from autograder.verdict import Outcome, evaluate
from ssd_course import registry



@dataclass
class ExerciseResult:
    """Outcomes of one exercise; `reason` says why it scored 0 as a whole (crash, timeout, ...)."""
    module: str
    function: str
    outcomes: list
    reason: str = None
    output: str = ""              # what the student's code printed (truncated)
    output_total: int = 0
    sha256: str = None            # of the file's bytes as graded (None: no file): for audits and regrades
    output_hidden: bool = False   # it printed during hidden cases: counted, not shown

    @property
    def score(self) -> int:
        return sum(o.score for o in self.outcomes)

    @property
    def max_score(self) -> int:
        return sum(o.points for o in self.outcomes)

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    def summary(self) -> str:
        """Why the exercise failed in one line, when every case failed the same way."""
        if self.reason:
            return self.reason
        if self.common_failure():
            first = self.outcomes[0]
            return f"every case {first.detail}" + (f"\nhint: {first.hint}" if first.hint else "")
        return ""

    def common_failure(self) -> bool:
        """True when every case failed with the same error (a stub, a crash on any input)."""
        first = self.outcomes[0] if self.outcomes else None
        return bool(first) and all(not o.passed and o.check == "error" and o.detail == first.detail
                                   for o in self.outcomes)


@dataclass
class GradeResult:
    submission: str
    exercises: list
    hidden: bool
    isolation: sandbox_mod.Isolation
    reference: str                      # "live" (solutions/) or "frozen" (a student copy)
    wall_s: float = 0.0
    parent_s: float = 0.0               # the parent's own work: expected values and verdicts
    hidden_counts: dict = field(default_factory=dict)   # module -> hidden cases not run (check)

    @property
    def score(self) -> int:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> int:
        return sum(e.max_score for e in self.exercises)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.exercises)

    @property
    def outcomes(self) -> list:
        return [o for e in self.exercises for o in e.outcomes]

    def outcome(self, case_id: str) -> Outcome:
        for o in self.outcomes:
            if o.case_id == case_id:
                return o
        raise KeyError(f"no case {case_id} in this result")

    def report(self) -> str:
        """The readable report a grader prints (all cases, hidden ones without expected values)."""
        return report_mod.grade_report(self)

    def check_table(self) -> str:
        """The student's PASS/FAIL table with hints and a line per exercise."""
        return report_mod.check_table(self)

    def gradescope(self) -> dict:
        """Gradescope's results.json (``report.gradescope``; per-exercise scores under ``extra_data``)."""
        return report_mod.gradescope(self)

    def verdicts(self) -> list:
        """(case id, score, check, detail, hint) for every case: what determinism is checked on."""
        return [(o.case_id, o.score, o.check, o.detail, o.hint) for o in self.outcomes] + \
            [(e.module, e.reason) for e in self.exercises]


def locate(submission: Path, module: str):
    """The student's file for `module`: (bytes, None) or (None, one-line reason).

    Only a regular file with one name, inside the submission, is read: a symbolic link,
    a hard link (``st_nlink > 1``: another name of a file that may lie outside, such as
    the instructor's ``solutions/jaccard.py``), a folder, FIFO or device is refused.
    The type is checked before opening (opening a device can act on it) and again on
    the open file, so the path cannot be swapped for a link in between.
    """
    import stat

    rel = f"ssd_course/exercises/{module}.py"
    path = submission / rel
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None, f"file not found: {rel}"
    if stat.S_ISLNK(st.st_mode):
        return None, f"{rel} is a symbolic link: submit the file itself"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{rel} is not a regular file"
    if not str(path.resolve()).startswith(str(submission.resolve()) + os.sep):
        return None, f"{rel} lies outside the submission folder"     # through a linked folder
    try:   # O_NONBLOCK: a FIFO swapped in after the check must not hang the grader
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"{rel} cannot be read ({exc.strerror})"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None, f"{rel} is not a regular file"
        if st.st_nlink > 1:
            return None, f"{rel} is a hard link: submit the file itself"
        data = f.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        return None, f"{rel} is larger than {MAX_SOURCE_BYTES >> 20} MB"
    return data, None


def default_submission() -> Path:
    """The current folder when it is a course copy, else the copy this package belongs to."""
    cwd = Path.cwd()
    if (cwd / "ssd_course" / "exercises").is_dir():
        return cwd
    from ssd_course import impl
    return impl.repo_root()


def grade(submission=None, exercises=None, hidden=True, isolation="auto", limits=None,
          parallel=2, reference=None, hide=(), warm=None) -> GradeResult:
    """Grade a submission folder (a course copy: ``SUBMISSION/ssd_course/exercises/*.py``).

    Args:
        submission: the folder; default ``default_submission()``.
        exercises: module or function names; default all six.
        hidden: also run the hidden cases (the instructor's repository only).
        isolation: ``auto`` | ``bubblewrap`` | ``process`` (see ``autograder.sandbox``).
        limits: ``sandbox.Limits`` (time, memory, output per exercise).
        parallel: exercise children running at once.
        reference: a ``reference.Live``/``Frozen``; default what this copy has.
        hide: more paths the graded code must not see (e.g. where results are written).
        warm: a started ``warm.WarmBox`` to grade in (grade-all's workers), instead of a
            fresh box; its isolation and hidden paths are the ones that hold.

    Returns:
        GradeResult. It never raises because of the submission's code; it raises
        ``sandbox.GraderError`` when the grading machinery itself cannot run.
    """
    from autograder import reference as reference_mod

    start = time.perf_counter()
    submission = Path(submission or default_submission())
    if not submission.is_dir():
        raise FileNotFoundError(f"submission folder not found: {submission}")
    by_module = OrderedDict()
    for case in case_registry.collect(exercises, hidden=hidden):
        by_module.setdefault(case.exercise, []).append(case)
    iso = warm.isolation if warm is not None else box_mod.choose_isolation(isolation)
    limits = limits or sandbox_mod.Limits()
    found = {m: locate(submission, m) for m in by_module}          # {module: (source, reason)}
    jobs = {m: _exercise(m, source, by_module[m]) for m, (source, reason) in found.items() if not reason}

    # The children run while this process computes the expected values.
    box = sandbox_mod.Sandbox(jobs, iso, limits, parallel, hide, warm).start() if jobs else None
    parent_start = time.perf_counter()
    try:
        ref = reference or reference_mod.available()
        expects = {c.id: ref.expect(c) for cases in by_module.values() for c in cases}
    except BaseException:
        if box:
            box.cancel()
        raise
    parent_s = time.perf_counter() - parent_start
    runs = _finish(box, jobs, iso, limits, hide, warm)

    verdict_start = time.perf_counter()
    results = []
    for module, cases in by_module.items():
        ex, reason = registry.get(module), found[module][1]
        results.append(_whole(ex, cases, reason, "file") if reason else
                       _exercise_result(ex, cases, runs[module], expects, limits))
        if not reason:
            results[-1].sha256 = hashlib.sha256(found[module][0]).hexdigest()
    parent_s += time.perf_counter() - verdict_start
    result = GradeResult(str(submission), results, hidden, _held(iso, box, limits), ref.mode,
                         parent_s=parent_s)
    if not hidden:
        result.hidden_counts = _hidden_counts(by_module)
    result.wall_s = time.perf_counter() - start
    return result


def _finish(box, jobs, iso, limits, hide, warm) -> dict:
    """The runs of the sandbox, with a solo rerun of each exercise a sibling kept from ending."""
    runs = box.wait() if box else {}
    for run in runs.values():
        broken = [e for e in run.events if e.get("type") == "fatal" and e.get("kind") == "sandbox"]
        if broken:   # the box could not be closed around the code: grade nothing rather than weakly
            raise sandbox_mod.GraderError(f"the sandbox could not be set up: "
                                          f"{wire.clean(broken[0].get('message'), 200)}")
    # A child that took the runner down (killed or stopped it) cost its siblings their
    # run: each of those runs again on its own, where only it can be at fault.
    unfinished = [m for m, r in runs.items() if r.ended is None]
    if len(jobs) > 1:
        for module in unfinished:
            runs[module] = sandbox_mod.Sandbox({module: jobs[module]}, iso, limits, 1, hide, warm) \
                .start().wait()[module]
    return runs


def _hidden_counts(by_module) -> dict:
    """{module: number of hidden cases} for the check's last line (stored in a student copy)."""
    if case_registry.hidden_available():
        return {m: len(case_registry.hidden_cases(m)) for m in by_module}
    return _frozen_hidden_counts(by_module)


def _frozen_hidden_counts(by_module):
    counts_file = Path(__file__).resolve().parent / "cases" / "hidden_counts.json"
    if counts_file.is_file():
        import json
        counts = json.loads(counts_file.read_text())
        return {m: counts.get(m, 0) for m in by_module}
    return {}


def _exercise(module, source, cases) -> calls_mod.Exercise:
    """What the sandbox runs for `module`: every call of its cases, public cases first."""
    ordered = sorted(cases, key=lambda c: c.hidden)   # stable: the cases' own order otherwise
    calls = [(c.id, i, c.hidden, call) for c in ordered for i, call in enumerate(c.job()["calls"])]
    return calls_mod.Exercise(source, registry.get(module).function, calls)


def _held(iso, box, limits):
    """The isolation with its report line saying what held, from what the box reported."""
    if box is None or not box.box_report:
        return iso
    cgroup = box.warm.cgroup if box.warm is not None else box.cgroup
    note = box_mod.guarantees(iso, box.box_report.get("uid"), box.box_report.get("capabilities"),
                              limits, cgroup, warm=box.warm is not None)
    return box_mod.Isolation(iso.kind, note)


def _whole(ex, cases, reason, check) -> ExerciseResult:
    """Every case of the exercise fails for one reason (0 points)."""
    outcomes = [Outcome(c.id, c.title, c.exercise, c.points, c.hidden, False, check, reason)
                for c in cases]
    return ExerciseResult(ex.module, ex.function, outcomes, reason=reason)


SIGNALS = {11: "a segmentation fault", 6: "an abort", 7: "a bus error", 8: "a floating-point "
           "exception", 9: "SIGKILL", 4: "an illegal instruction", 25: "a file larger than the limit",
           24: "more CPU time than the limit"}


def _exercise_result(ex, cases, run, expects, limits) -> ExerciseResult:
    titles = {c.id: c.name for c in cases}
    during = f" in case '{titles[run.current]}'" if run.current in titles else " while importing"
    reason = _reason(run, during, limits, ex)
    if reason:   # each case is labelled with what stopped the exercise as a whole
        result = _whole(ex, cases, reason, "timeout" if reason.startswith(TIMEOUT_REASON) else "crash")
    else:
        outcomes = scoring.gate([_judge(case, expects[case.id], run) for case in cases])
        scoring.settle(outcomes, lambda name: case_registry.hint(ex.module, name))
        result = ExerciseResult(ex.module, ex.function, outcomes)
    result.output, result.output_total = run.output_text(), run.output_total
    result.output_hidden = run.hidden_started and run.output_total > len(run.stdout) + len(run.stderr)
    return result


def _judge(case, expects, run) -> Outcome:
    """The verdict on one case; a result the verdict cannot even read fails that case only."""
    results = [run.results.get((case.id, i)) for i in range(len(case.calls))]
    secs = [run.seconds.get((case.id, i)) for i in range(len(case.calls))]
    try:
        return evaluate(case, expects, results, secs)
    except Exception as exc:  # noqa: BLE001  (the child's data is hostile; the grader goes on)
        detail = f"the grader could not read the result ({type(exc).__name__})"
        return Outcome(case.id, case.title, case.exercise, case.points, case.hidden, False,
                       "error", detail)


TIMEOUT_REASON = "did not finish within"
FATAL_WORDS = {"memory": "ran out of memory", "recursion": "recursed without end (RecursionError)",
               "exit": "called sys.exit()", "interrupt": "raised KeyboardInterrupt",
               "runner": "the grader could not handle the result", "sandbox": "the sandbox failed"}



def _reason(run, during, limits, ex):
    """One line when the exercise as a whole failed; None when its cases can be judged."""
    name = f"{ex.module}.py"
    if run.output_overflow:  # no case named: when the pipe filled up depends on timing
        return f"printed more than {limits.output_bytes >> 10} KB of output: remove the prints " \
               "from loops"
    if run.protocol_error:
        return f"{run.protocol_error}{during}"
    for message in run.events:
        if message.get("type") == "import_error":
            error = messages.error(message["error"])
            where = f" ({error['where']})" if error.get("where") else ""
            if error["type"] == "SyntaxError":
                return f"syntax error{where}: {error['message']}"
            if error["type"] == "missing":
                return f"{name} {error['message']}"
            denied = case_registry.error_hint(ex.module, error) == "sandbox_denied"
            hint = " (each exercise file must stand alone)" if "ssd_course" in error["message"] else \
                f" ({hints.HINTS['sandbox_denied']})" if denied else ""
            return f"importing {name} raised {error['type']}: {error['message']}{where}{hint}"
        if message.get("type") == "fatal":
            kind = message["kind"]
            limit = f" (limit {limits.memory_bytes / (1 << 30):g} GiB)" if kind == "memory" else ""
            advice = {"exit": ": never exit from an exercise, raise an error instead"}.get(kind, "")
            # after a hidden call, the grader's own words: the child's could quote its inputs
            text = FATAL_WORDS[kind] if run.hidden_started else wire.clean(message["message"], 200)
            return f"{text}{limit}{during}{advice}"
    ended = run.ended
    if ended is None:
        return f"the grading process was stopped{during}: an exercise must not signal or stop " \
               "other processes"
    if "timeout" in ended:
        return f"{TIMEOUT_REASON} {ended['timeout']:g} s{during}: an infinite loop?"
    if "signal" in ended:
        what = SIGNALS.get(ended["signal"], "a signal" if run.hidden_started else f"signal {ended['signal']}")
        return f"crashed with {what}{during}"
    if not any(m.get("type") == "finished" for m in run.events):
        status = "" if run.hidden_started else f" with status {ended.get('exit')}"
        return f"the process exited{status}{during} (os._exit or exit called?): never exit from " \
               "an exercise"
    return None


def check(*exercises, submission=None, isolation="auto", file=None, quiet=False, **kwargs) -> bool:
    """Run the public cases for `exercises` (all six when none given) and print a PASS/FAIL table.

    Args:
        exercises: module or function names, e.g. ``"jaccard"``, ``"make_anchors"``.
        submission: the course copy holding ``ssd_course/exercises/`` (default: the one
            you work in).
        file: where the table goes (default: stdout; nothing is written to stderr).

    Returns:
        True when every public case passes.
    """
    if submission is None and _solutions_in_use():
        # An instructor's run of the lessons (SSD_COURSE_IMPL=solutions, e.g. run-lessons):
        # the pipeline runs the solutions, so the check cells check them too.
        import tempfile
        with tempfile.TemporaryDirectory(prefix="ssd-course-check-") as tmp:
            if not quiet:
                print("checking the reference solutions (SSD_COURSE_IMPL=solutions)", file=file or sys.stdout)
            return check(*exercises, submission=solutions_submission(Path(tmp)), isolation=isolation,
                         file=file, quiet=quiet, **kwargs)
    result = grade(submission, exercises or None, hidden=False, isolation=isolation, **kwargs)
    if not quiet:
        print(result.check_table(), file=file or sys.stdout)
        if file is None and "ipykernel" in sys.modules:   # a notebook: a picture where it says more
            from autograder import pictures
            pictures.show(result)
    return result.passed


def _solutions_in_use() -> bool:
    """True in the instructor's repository when SSD_COURSE_IMPL=solutions (never in a student copy)."""
    from ssd_course import impl
    try:
        return impl.current() == "solutions" and impl.solutions_dir() is not None
    except ValueError:          # a misspelt SSD_COURSE_IMPL: check the student's copy, as by default
        return False
