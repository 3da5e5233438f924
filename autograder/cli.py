"""`ssd-course check` (students) and `ssd-course grade` (graders).

    ssd-course check [EXERCISE ...]            public cases of the copy you work in;
                                               exit 1 when a case fails
    ssd-course grade SUBMISSION [--exercise NAME ...] [--json FILE]
                                               public + hidden cases; exit 0 whenever
                                               grading completed, whatever the score
"""
import json
import sys
from pathlib import Path

from autograder import api
from autograder.sandbox import GraderError, Limits


def _common(parser):
    parser.add_argument("--isolation", choices=("auto", "bubblewrap", "process"), default="auto",
                        help="how student code is isolated (default: bubblewrap where it works)")
    parser.add_argument("--time-limit", type=float, default=Limits.time_s, metavar="S",
                        help=f"wall-time limit of one exercise, seconds (default {Limits.time_s:g})")
    parser.add_argument("--jobs", type=int, default=2, help="exercises graded at once (default 2)")


def _limits(args):
    return Limits(time_s=args.time_limit)


def add_arguments_check(parser):
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE",
                        help="module or function names (default: all six), e.g. jaccard make_anchors")
    parser.add_argument("--submission", type=Path, default=None, metavar="DIR",
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
    parser.add_argument("submission", type=Path, metavar="SUBMISSION",
                        help="a student's course copy (holding ssd_course/exercises/*.py)")
    parser.add_argument("--exercise", action="append", dest="exercises", metavar="NAME",
                        help="grade only this exercise (repeatable; default: all six)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write Gradescope's results.json (plus per-exercise scores) here")
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
        return 2
    print(result.report())
    print(f"(graded in {result.wall_s:.1f} s; the grader's own work {result.parent_s:.1f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.gradescope(), indent=1))
        print(f"wrote {args.json}")
    return 0
