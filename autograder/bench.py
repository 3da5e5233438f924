"""`grade_line()`: how long a full grading of a correct submission takes (for `ssd-course bench`)."""
import shutil
import tempfile
from pathlib import Path

from autograder import api, cases, reference
from ssd_course import impl, registry


def solutions_submission(root: Path) -> Path:
    """A course copy at `root` whose six exercise files are the reference solutions."""
    exercises = root / "ssd_course" / "exercises"
    exercises.mkdir(parents=True, exist_ok=True)
    for ex in registry.EXERCISES:
        shutil.copyfile(impl.solutions_dir() / f"{ex.module}.py", exercises / f"{ex.module}.py")
    return root


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


if __name__ == "__main__":
    print(grade_line())
