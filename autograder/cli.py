"""`ssd-course check` (students) and `ssd-course grade` (graders).

    ssd-course check [EXERCISE ...]            public cases of the copy you work in;
                                               exit 1 when a case fails
    ssd-course grade SUBMISSION [--exercise NAME ...] [--json FILE]
                                               public + hidden cases; exit 0 whenever
                                               grading completed, whatever the score

Both exit 2, with one line on stderr, when an option or the submission folder is not
usable (a time limit that is 0 or not finite, a --json file that cannot be written):
checked before any grading starts.
"""
import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from autograder import api, report
from autograder.sandbox import GraderError, Limits
from ssd_course import registry


# --- option types: a bad value is one line from argparse and exit 2, before any grading -------

def seconds(text: str) -> float:
    """A time limit: a finite number of seconds > 0 (0 would fail every file, inf never stop)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def jobs(text: str) -> int:
    """How many exercises run at once: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def exercise(text: str) -> str:
    """An exercise's module or function name (``jaccard``, ``make_anchors``)."""
    try:
        registry.get(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def folder(text: str) -> Path:
    """A submission: an existing folder."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"submission folder not found: {text}")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"the submission is not a folder: {text}")
    return path


def writable_file(text: str) -> Path:
    """Where a file will be written after grading: tried now, so no grading is lost to a typo.

    Missing folders on the way are created (as the write would); then a scratch file is
    made in the folder (or the existing file opened for writing, not truncated), which
    also catches what permission bits do not show: a read-only mount, a root-owned tree.
    """
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: name the file to write")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: {ancestor} is not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            os.close(os.open(path, os.O_WRONLY))
        else:
            tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {text} ({exc.strerror or exc})") from None
    return path


def _common(parser):
    parser.add_argument("--isolation", choices=("auto", "bubblewrap", "process"), default="auto",
                        help="how student code is isolated (default: bubblewrap where it works)")
    parser.add_argument("--time-limit", type=seconds, default=Limits.time_s, metavar="S",
                        help=f"wall-time limit of one exercise, seconds (default {Limits.time_s:g})")
    parser.add_argument("--jobs", type=jobs, default=2, help="exercises graded at once (default 2)")


def _limits(args):
    return Limits(time_s=args.time_limit)


def add_arguments_check(parser):
    parser.add_argument("exercises", nargs="*", type=exercise, metavar="EXERCISE",
                        help="module or function names (default: all six), e.g. jaccard make_anchors")
    parser.add_argument("--submission", type=folder, default=None, metavar="DIR",
                        help="the course copy to check (default: the current one)")
    _common(parser)


def run_check(args) -> int:
    try:
        passed = api.check(*args.exercises, submission=args.submission, isolation=args.isolation,
                           limits=_limits(args), parallel=args.jobs)
    except (ValueError, FileNotFoundError, GraderError) as exc:
        print(f"check: {exc}")
        return 2
    return 0 if passed else 1


def add_arguments_grade(parser):
    parser.add_argument("submission", type=folder, metavar="SUBMISSION",
                        help="a student's course copy (holding ssd_course/exercises/*.py)")
    parser.add_argument("--exercise", action="append", dest="exercises", type=exercise, metavar="NAME",
                        help="grade only this exercise (repeatable; default: all six)")
    parser.add_argument("--json", type=writable_file, default=None, metavar="FILE",
                        help="also write Gradescope's results.json here (per-exercise scores under "
                             "extra_data; written even when grading fails)")
    parser.add_argument("--public-only", action="store_true",
                        help="run the public cases only (as `check` does)")
    _common(parser)


def run_grade(args) -> int:
    hide = [args.json.resolve()] if args.json else []  # earlier results there stay unseen
    try:
        result = api.grade(args.submission, args.exercises, hidden=not args.public_only,
                           isolation=args.isolation, limits=_limits(args), parallel=args.jobs,
                           hide=hide)
    except (ValueError, FileNotFoundError, GraderError) as exc:
        print(f"grade: {exc}", file=sys.stderr)
        if args.json:   # Gradescope needs a results.json even when no grading happened
            _write_json(args.json, report.gradescope_failure(str(exc), execution_time=0))
        return 2
    print(result.report())
    print(f"(graded in {result.wall_s:.1f} s; the grader's own work {result.parent_s:.1f} s)")
    if args.json:
        if not _write_json(args.json, report.gradescope(result, execution_time=result.wall_s)):
            return 2
        print(f"wrote {args.json}")
    return 0


def _write_json(path: Path, data: dict) -> bool:
    """Write results.json at `path`; False (and one line on stderr) when the disk refuses."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
    except OSError as exc:    # checked before grading; the disk can still fill up
        print(f"grade: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True
