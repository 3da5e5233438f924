"""How long grading takes, for `ssd-course bench`.

    grade_line()       one full grading of a correct submission, expected values computed / cached
    grade_all_line()   a class of N complete submissions: `grade-all --jobs 2` against
                       `--fresh-boxes` and N separate `grade` calls, from the command line,
                       in the same run
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import api, cases, reference
from autograder.layout import solutions_submission
from ssd_course import impl


def grade_line() -> str:
    """Grade solutions/ in full twice, measured side by side in one run:

    cold   expected values computed from solutions/ and torchvision in the grader's process
    warm   expected values loaded from the grader's cache (what every later grading does)
    """
    if impl.solutions_dir() is None:
        return "grade: skipped (no solutions/ in this copy)"
    live = reference.Live(impl.solutions_dir())
    cached = reference.Cached(live)
    n_cases = len(cases.collect(hidden=True))
    with tempfile.TemporaryDirectory(prefix="ssd-course-bench-") as tmp:
        submission = solutions_submission(Path(tmp))
        cold = api.grade(submission, reference=live)
        if not cached.hit:
            cached.expect(cases.collect(hidden=True)[0])  # fill the cache, untimed
        warm = api.grade(submission, reference=cached)
    return (f"grade: full grading of solutions/ (6 exercises, {n_cases} cases incl. hidden, "
            f"{warm.score}/{warm.max_score} points) {cold.wall_s:.1f} s wall with expected values "
            f"computed (grader's own work {cold.parent_s:.1f} s), {warm.wall_s:.1f} s with them "
            f"cached ({warm.parent_s:.1f} s) [{warm.isolation.kind} isolation]")


GRADE_ALL_N = 12         # a small class: six rounds of two workers
CLASS_SIZE = 300         # the class the issue sizes grade-all for (goal: <= 5 minutes)


def _timed(cmd) -> float:
    """Seconds `cmd` took, run from the command line as an instructor would; it must succeed."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _grade_all(klass, out, only, *extra) -> float:
    return _timed([sys.executable, "-m", "autograder.grade_all", str(klass), "--out", str(out),
                   "--jobs", "2", *only, *extra])


def grade_all_line(n: int = GRADE_ALL_N, exercises=None) -> str:
    """Grade a synthetic class of `n` complete submissions (copies of solutions/) four ways,
    side by side in one run:

    grade-all     ``python -m autograder.grade_all CLASS --out DIR --jobs 2``: workers that
                  load the expected values and imports once, a warm box each (where the
                  grader is root: ``warm.py``), the class of `n`, then one of `2n`
    fresh boxes   the same with ``--fresh-boxes``: a box started per student
    separate      ``python -m ssd_course grade SUBMISSION`` once per student (what a shell
                  loop over the class does: every call starts Python and loads everything)

    The time for CLASS_SIZE students is extrapolated from the two grade-all runs: what the
    run costs whatever the class (start-up) plus CLASS_SIZE times what each student adds.
    `exercises` (module names) grades fewer than six, for the tests only.
    """
    if impl.solutions_dir() is None:
        return "grade-all: skipped (no solutions/ in this copy)"
    only = [a for m in exercises or () for a in ("--exercise", m)]
    reference.available().expect(cases.collect(hidden=True)[0])   # the cache filled, untimed
    with tempfile.TemporaryDirectory(prefix="ssd-course-bench-class-") as tmp:
        small, large = Path(tmp) / "class", Path(tmp) / "class2"
        for i in range(2 * n):
            solutions_submission(large / f"student{i:03d}")
            if i < n:
                solutions_submission(small / f"student{i:03d}")
        together = _grade_all(small, Path(tmp) / "out", only)
        fresh = _grade_all(small, Path(tmp) / "out-fresh", only, "--fresh-boxes")
        separate = sum(_timed([sys.executable, "-m", "ssd_course", "grade",
                               str(small / f"student{i:03d}"), *only]) for i in range(n))
        double = _grade_all(large, Path(tmp) / "out2", only)
    each = max(double - together, 0.0) / n
    fixed = max(together - n * each, 0.0)
    what = "complete submissions" if not exercises else f"submissions ({', '.join(exercises)} only)"
    return (f"grade-all: {n} {what}: grade-all --jobs 2 {together:.1f} s "
            f"({n / together * 60:.1f} per minute), with --fresh-boxes {fresh:.1f} s, "
            f"{n} separate grade calls {separate:.1f} s; ratios {separate / together:.2f}x "
            f"(separate) and {fresh / together:.2f}x (fresh boxes); {2 * n} with grade-all "
            f"{double:.1f} s: {fixed:.1f} s start-up + {each:.2f} s per submission, "
            f"{CLASS_SIZE} in {(fixed + CLASS_SIZE * each) / 60:.1f} min (extrapolated)")


if __name__ == "__main__":
    print(grade_line())
    print(grade_all_line())
