"""`ssd-course grade-all`: a whole class in one command, one grade sheet, resumable, in shards.

    ssd-course grade-all SUBMISSIONS --out DIR [--jobs N] [--shard I/N] [--force]
    ssd-course grade-all merge DIR... --out DIR

`SUBMISSIONS` holds one entry per student, named by the student's id: a course
copy, a folder of loose exercise files, a folder holding either further down, or
a ``.zip`` of any of those (``autograder.layout``). Each student is graded by
``api.grade``, with the isolation and limits of ``grade``, in one of N worker
processes that load the expected values once (``reference.available()``),
keep the grader's imports, and grade in a warm box (``autograder/warm.py``: torch
imported once, a user of its own per student; ``--fresh-boxes`` starts a box per
student instead). Written under DIR:

    grades.csv                    one row per student (``COLUMNS``)
    similarity.csv                pairs of students with the same code (``autograder.similarity``)
    students/<id>/report.txt      the grader's report
    students/<id>/results.json    Gradescope's results.json (``report.gradescope``)
    students/<id>/files/*.py      the exercise files as graded (their sha256 is in the sheet)
    students/<id>/row.json        the sheet's row; written last, the folder renamed into place

A student's folder appears whole or not at all, so a run that was stopped resumes
where it stopped (``--force`` regrades everyone). A submission that cannot be read
or that breaks the grader costs its own row (the ``error`` column), never the run.
``--shard I/N`` grades the students whose id hashes to I of N, the same slice on
any machine; ``merge`` joins the shards' folders into one sheet.
"""
import json
import sys
import tempfile
import time
from pathlib import Path

from autograder.classroom import (STUDENTS, Options, Progress, entries, fingerprint, grade_class,
                                  in_shard, is_done, parse_shard, read_row, sweep_scratch,
                                  write_student)
from autograder.sheet import write_sheet
from ssd_course import registry


def student_files(folders) -> dict:
    """{student: {module: bytes}} of the graded files kept in each student's folder."""
    out = {}
    for folder in folders:
        files = Path(folder) / "files"
        out[Path(folder).name] = {p.stem: p.read_bytes() for p in sorted(files.glob("*.py"))} \
            if files.is_dir() else {}
    return out


def write_similarity(path: Path, folders) -> int:
    """``similarity.csv`` of the students in `folders`; returns the number of pairs."""
    from autograder import similarity
    pairs = similarity.pairs(student_files(folders), similarity.course_bases())
    similarity.write(path, pairs)
    return len(pairs)


# --- command line --------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSIONS",
                        help="the folder holding one entry per student (course copy, folder of "
                             "loose files, or .zip); or `merge DIR...` to join shards")
    parser.add_argument("--out", required=True, metavar="DIR", help="where the sheet and reports go")
    parser.add_argument("--jobs", default="2", metavar="N",
                        help="students graded at once (default 2; each in a box of its own)")
    parser.add_argument("--shard", default=None, metavar="I/N",
                        help="grade only slice I of N (1 <= I <= N), the same on every machine")
    parser.add_argument("--force", action="store_true", help="regrade students already graded")
    parser.add_argument("--exercise", action="append", dest="exercises", metavar="NAME",
                        help="grade only this exercise (repeatable; default: all six)")
    parser.add_argument("--isolation", choices=("auto", "bubblewrap", "process"), default="auto",
                        help="how student code is isolated (default: bubblewrap where it works)")
    parser.add_argument("--fresh-boxes", action="store_true",
                        help="start a fresh box per student, as `grade` does, instead of one warm "
                             "box per worker (slower: each box imports torch)")
    parser.add_argument("--time-limit", default="30", metavar="S",
                        help="wall-time limit of one exercise, seconds (default 30)")


class UsageError(ValueError):
    """A bad option or folder: one line on stderr and exit 2, before anything is graded."""


def _options(args) -> tuple:
    """(jobs, shard, Options) from `args`; UsageError on a bad value."""
    try:
        jobs = int(args.jobs)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise UsageError(f"expected --jobs N with N >= 1, got {args.jobs!r}")
    try:
        time_s = float(args.time_limit)
    except ValueError:
        time_s = 0.0
    if not 0 < time_s < float("inf"):
        raise UsageError(f"expected a positive number of seconds, got {args.time_limit!r}")
    try:
        shard = parse_shard(args.shard) if args.shard else None
        exercises = tuple(dict.fromkeys(registry.get(e).module for e in args.exercises)) \
            if args.exercises else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return jobs, shard, Options(str(Path(args.out).resolve()), exercises, args.isolation, time_s,
                                warm=not args.fresh_boxes)


def run(args) -> int:
    try:
        if args.submissions[0] == "merge":
            return run_merge(args.submissions[1:], Path(args.out))
        if len(args.submissions) != 1:
            raise UsageError("expected one SUBMISSIONS folder (or `merge DIR...`)")
        return run_class(Path(args.submissions[0]), args)
    except UsageError as exc:
        print(f"grade-all: {exc}", file=sys.stderr)
        return 2


def _out_folder(out: Path, submissions=None) -> Path:
    """The output folder, made; UsageError when it cannot be, or lies inside the class."""
    if submissions is not None:
        inside = out.resolve()
        if inside == submissions.resolve() or submissions.resolve() in inside.parents:
            raise UsageError(f"--out {out} lies inside the submissions folder: put it beside it")
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as exc:
        raise UsageError(f"cannot write to {out} ({exc.strerror or exc})") from None
    return out


def run_class(submissions: Path, args) -> int:
    """Grade the class in `submissions`; exit 0 when every row was written (whatever the
    scores or errors), 2 for a bad option or folder, 130 when interrupted (resumable)."""
    if not submissions.is_dir():
        raise UsageError(f"submissions folder not found: {submissions}")
    jobs, shard, options = _options(args)
    out = _out_folder(Path(args.out), submissions)
    sweep_scratch(out)                           # what a killed run was writing: regraded below
    from autograder.box import GraderError, choose_isolation
    try:
        choose_isolation(options.isolation)      # no seccomp, no bubblewrap asked for: stop now
    except GraderError as exc:
        raise UsageError(str(exc)) from None
    options.hide = (str(submissions.resolve()), options.out)
    chosen = [e for e in entries(submissions) if in_shard(e.student, shard)]
    todo, kept = [], []
    for entry in chosen:
        mark = fingerprint(Path(entry.path))
        row = read_row(out / STUDENTS / entry.student)
        if not args.force and is_done(row, mark, options):
            kept.append(row)
        else:
            todo.append((entry, mark))
    where = f" (shard {shard[0]}/{shard[1]})" if shard else ""
    print(f"grade-all: {len(chosen)} students{where}: {len(todo)} to grade, {len(kept)} already "
          f"graded; {jobs} at once", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        rows = grade_class(todo, options, jobs, Progress(len(todo))) if todo else []
    except KeyboardInterrupt:
        print("\ngrade-all: interrupted; the students graded so far are kept: run the same "
              "command again to go on", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    rate = f", {len(rows) / seconds * 60:.1f} per minute" if rows else ""
    return _finish(out, kept + rows, f"graded {len(rows)} in {seconds:.1f} s{rate}")


def _finish(out: Path, rows: list, done: str) -> int:
    """Write the sheet and the similarity sheet of `rows`; print `done` and where they are."""
    sheet = write_sheet(out / "grades.csv", rows)
    n_pairs = write_similarity(out / "similarity.csv", [out / STUDENTS / r["student"] for r in rows])
    errors = sum(bool(r.get("error")) for r in rows)
    print(f"grade-all: {done}; {len(rows)} rows in {sheet} ({errors} with an error); "
          f"{n_pairs} similar pairs in {out / 'similarity.csv'}")
    return 0


def run_merge(folders: list, out: Path) -> int:
    """Join shard folders into one sheet at `out` (their students' folders copied there)."""
    if not folders:
        raise UsageError("merge: name the shard folders to join (DIR...)")
    seen = {}
    for folder in map(Path, folders):
        if not (folder / STUDENTS).is_dir():
            raise UsageError(f"merge: {folder} holds no {STUDENTS}/ folder (not a grade-all output)")
        for student in sorted(p for p in (folder / STUDENTS).iterdir() if not p.name.startswith(".")):
            if read_row(student) is None:
                continue
            if student.name in seen and seen[student.name].resolve() != student.resolve():
                raise UsageError(f"merge: {student.name} was graded in two shards: "
                                 f"{seen[student.name].parent.parent} and {folder}")
            seen[student.name] = student
    out = _out_folder(out)
    rows = []
    for name, folder in sorted(seen.items()):
        target = out / STUDENTS / name
        if folder.resolve() != target.resolve():
            row = read_row(folder)
            files = student_files([folder])[name]
            write_student(out, row, (folder / "report.txt").read_text(),
                          json.loads((folder / "results.json").read_text()), files)
        rows.append(read_row(target))
    return _finish(out, rows, f"merged {len(rows)} students from {len(folders)} folders")


def main(argv=None) -> int:
    """``python -m autograder.grade_all ...``: the same command as ``ssd-course grade-all``."""
    from ssd_course.tools.cli import Parser
    parser = Parser(prog="ssd-course grade-all", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
