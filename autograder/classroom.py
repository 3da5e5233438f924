"""Grading a class: the students of a folder, each in a box of its own, over worker processes.

The engine of `ssd-course grade-all` (`autograder.grade_all`, the command):

    entries / in_shard    one entry per student (named by the student's id), the slice of a shard
    grade_student         one student in a worker: `api.grade` in its own box, the row, the files
    write_student         the student's folder, written whole then renamed (so a run resumes)
    grade_class           N workers that load the expected values once (`reference.available()`),
                          keep the grader's imports and a warm box (``warm.py``: torch imported
                          once, a user of its own per student); a worker that dies costs its row
"""
import atexit
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from autograder.box import owned_folder, sweep_dead
from autograder.sheet import MODULES
from ssd_course import registry

ROW_FORMAT = 1                # row.json's format: a row of another format is graded again
STUDENTS = "students"
CLASS_TMP_PREFIX = "ssd-course-class-"   # a worker's copy of the hand-in it grades


# --- the class: entries, ids, shards -------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One student's hand-in: `student` is the entry's name (a zip's without ``.zip``)."""
    student: str
    path: str
    error: str = ""               # set when the entry cannot be graded at all (a clash of ids)


def entries(submissions: Path) -> list:
    """The students of `submissions`, sorted by id; dot-files and macOS's ``__MACOSX`` skipped.

    Two entries with one id (``alice/`` and ``alice.zip``) give one entry whose ``error``
    says so: neither is graded, rather than one silently over the other.
    """
    by_id = {}
    for path in sorted(Path(submissions).iterdir()):
        if path.name.startswith(".") or path.name == "__MACOSX":
            continue
        student = path.stem if path.suffix.lower() == ".zip" and not path.is_dir() else path.name
        by_id.setdefault(student, []).append(path)
    out = []
    for student, paths in sorted(by_id.items()):
        clash = f"two entries for one student: {', '.join(p.name for p in paths)}" \
            if len(paths) > 1 else ""
        out.append(Entry(student, str(paths[0]), clash))
    return out


def parse_shard(text: str) -> tuple:
    """``"I/N"`` -> (I, N) with 1 <= I <= N; ValueError with a one-line message otherwise."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        i = n = 0
    if not 1 <= i <= n:
        raise ValueError(f"expected --shard I/N with 1 <= I <= N (e.g. 2/4), got {text!r}")
    return i, n


def in_shard(student: str, shard) -> bool:
    """Whether `student` belongs to `shard` (I, N): by a hash of the id, so a slice is the
    same on every machine and stays the same when a late submission joins the class."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest()[:12], 16) % n == i - 1


def fingerprint(path: Path) -> str:
    """What the hand-in is now, cheaply: a zip's sha256, a folder's file names, sizes and
    mtimes. A resumed run regrades a student whose fingerprint changed."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            rel = os.path.relpath(os.path.join(folder, name), path)
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


# --- one student (runs in a worker process) ------------------------------------------------------

@dataclass
class Options:
    """What every student is graded with (sent to the workers once per task)."""
    out: str
    exercises: tuple = None
    isolation: str = "auto"
    time_s: float = 30.0
    parallel: int = 2             # exercise children of one student at once
    hide: tuple = ()              # the class and the results: never in a student's box
    warm: bool = True             # a warm box per worker (``warm.py``) where one can be had


_REFERENCE, _WARM = None, None


def _init_worker(grader_pid: int):
    """Once per worker: tied to the grader's life, then the expected values, loaded (or
    computed) before the first student."""
    global _REFERENCE
    from autograder import cases, reference

    _die_with(grader_pid)
    _REFERENCE = reference.available()
    _REFERENCE.expect(cases.collect(hidden=True)[0])   # loads the whole cache now


def _die_with(grader_pid: int):
    """SIGKILL this worker when the grade-all process ends, however it ends: a pool's worker
    whose parent was killed would otherwise wait for work forever, holding its warm box."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != grader_pid:      # it ended before the line above
        os._exit(1)


def _warm_box(options: Options):
    """The worker's warm box, started at its first student; None where a student gets a
    fresh box (asked for, or a grader that is not root: ``warm.usable``)."""
    global _WARM
    from autograder import box, warm
    from autograder.sandbox import Limits

    if not options.warm or not warm.usable():
        return None
    if _WARM is None:
        _WARM = warm.WarmBox(box.choose_isolation(options.isolation), Limits(time_s=options.time_s),
                             options.hide).start()
        atexit.register(_WARM.close)
    return _WARM


def max_points(exercises=None) -> int:
    """Points of the assignment: every case, hidden ones included, of `exercises` (default six)."""
    from autograder import cases
    return sum(c.points for c in cases.collect(list(exercises) if exercises else None, hidden=True))


def grade_student(entry: Entry, options: Options, mark: str) -> dict:
    """Grade one entry and write its folder; returns its row (never raises for the entry).

    `mark` is the entry's fingerprint, stored in the row so a resumed run can tell whether
    the hand-in changed.
    """
    from autograder import api, layout, report
    from autograder.sandbox import GraderError, Limits

    start = time.perf_counter()
    row = {"student": entry.student, "layout": "", "error": entry.error, "retry": False}
    found, result, text = None, None, ""
    tmp = owned_folder(tempfile.gettempdir(), CLASS_TMP_PREFIX)   # swept if this worker is killed
    try:
        if entry.error:
            raise layout.SubmissionError(entry.error)
        found = layout.prepare(Path(entry.path), Path(tmp) / "copy")
        result = api.grade(found.root, list(options.exercises) if options.exercises else None,
                           isolation=options.isolation, limits=Limits(time_s=options.time_s),
                           parallel=options.parallel, reference=_REFERENCE or None,
                           hide=options.hide, warm=_warm_box(options))
    except layout.SubmissionError as exc:
        row["error"] = str(exc)
    except GraderError as exc:          # the machinery, not the code: worth a retry
        row.update(error=f"the grader could not run: {exc}", retry=True)
    except Exception as exc:            # noqa: BLE001  a grader bug costs this row only
        row.update(error=f"the grader failed: {type(exc).__name__}: {exc}", retry=True)
        text = traceback.format_exc()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - start
    row.update(_scores(result, options), seconds=round(seconds, 1), fingerprint=mark,
               exercises=list(options.exercises or ()), format=ROW_FORMAT)
    if found:
        row.update(layout=found.layout, notes="; ".join(found.notes))
    if result:
        text = _report(found, result)
        data = report.gradescope(result, execution_time=seconds)
    else:
        text = f"Grading {entry.student}: not graded: {row['error']}\n{text}"
        data = report.gradescope_failure(row["error"], execution_time=seconds)
    graded = set(options.exercises or MODULES)
    files = {m: b for m, b in found.files.items() if m in graded} if found else {}
    write_student(Path(options.out), row, text, data, files)
    return row


def _scores(result, options) -> dict:
    """The sheet's score, hash and isolation cells (all zero / empty without a result)."""
    cells = {m: "" for m in MODULES} | {f"{m}_sha256": "" for m in MODULES}
    graded = options.exercises or MODULES
    if result is None:
        cells.update({registry.get(m).module: 0 for m in graded},
                     total=0, max=max_points(options.exercises), isolation="")
        return cells
    for ex in result.exercises:
        cells[ex.module], cells[f"{ex.module}_sha256"] = ex.score, ex.sha256 or ""
    cells.update(total=result.score, max=result.max_score, isolation=result.isolation.kind)
    return cells


def _report(found, result) -> str:
    """The grader's report, with where the files were found and what was refused."""
    lines = [f"layout: {found.layout}"] + [f"note: {n}" for n in found.notes]
    return "\n".join(lines) + "\n" + result.report() + "\n"


def write_student(out: Path, row: dict, text: str, results: dict, files: dict) -> Path:
    """Write ``out/students/<id>/`` whole: into a scratch folder, renamed into place (atomic).

    A previous folder of the student is swapped out, then removed; a run killed at any
    point leaves either the old folder, the new one, or none (graded again on resume).
    """
    students = out / STUDENTS
    students.mkdir(parents=True, exist_ok=True)
    final = students / row["student"]
    scratch = owned_folder(students, ".new-")
    (scratch / "report.txt").write_text(text)
    (scratch / "results.json").write_text(json.dumps(results, indent=1))
    if files:
        (scratch / "files").mkdir()
        for module, data in files.items():
            (scratch / "files" / f"{module}.py").write_bytes(data)
    (scratch / "row.json").write_text(json.dumps(row, indent=1))
    old = None
    if final.exists():
        old = owned_folder(students, ".old-")
        os.replace(final, old / "folder")
    os.replace(scratch, final)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return final


def sweep_scratch(out: Path) -> int:
    """Remove what killed writers on this machine left (`box.sweep_dead`): the scratch folders
    of `write_student` in ``out/students/`` and the workers' copies of hand-ins; returns how many."""
    students = Path(out) / STUDENTS
    return sweep_dead(students, ".new-") + sweep_dead(students, ".old-") \
        + sweep_dead(tempfile.gettempdir(), CLASS_TMP_PREFIX)


def read_row(folder: Path):
    """The row of a student's folder, or None when it is missing or unreadable."""
    try:
        return json.loads((Path(folder) / "row.json").read_text())
    except (OSError, ValueError):
        return None


def is_done(row, mark: str, options: Options) -> bool:
    """Whether a stored row stands: same hand-in, same exercises, and no grader failure."""
    return bool(row) and row.get("format") == ROW_FORMAT and row.get("fingerprint") == mark \
        and row.get("exercises") == list(options.exercises or ()) and not row.get("retry")


# --- the class, over worker processes ------------------------------------------------------------

class Progress:
    """One line per student on stderr (redrawn in place on a terminal): done/total, eta."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, row: dict):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        left = (self.total - self.done) * elapsed / self.done
        what = f"error: {row['error'][:60]}" if row.get("error") else f"{row['total']}/{row['max']}"
        line = f"grade-all: [{self.done}/{self.total}] {row['student']} {what} " \
               f"({elapsed:.0f} s, about {left:.0f} s to go)"
        end = "" if self.tty and self.done < self.total else "\n"
        print(("\r\x1b[K" if self.tty else "") + line, end=end, file=self.stream, flush=True)


def _pool(jobs: int):
    import multiprocessing
    # spawn: a fresh interpreter per worker; forking a process that has loaded torch is unsafe
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))


def grade_class(todo: list, options: Options, jobs: int, progress=None, work=None) -> list:
    """Grade the (entry, fingerprint) pairs of `todo` over `jobs` workers; returns their rows.

    A worker that dies (the grader's own process, not the box) costs the students it
    held only after each of them has been graded again alone: then only the one that
    killed it is at fault, and its row says so. `work(entry, options, fingerprint) -> row`
    grades one student in a worker (default ``grade_student``; a module-level function).
    """
    return _Workers(todo, options, jobs, progress, work or grade_student).run()


class _Workers:
    """The pool of `grade_class`: at most `jobs` students in flight, suspects one at a time."""

    def __init__(self, todo, options, jobs, progress, work):
        self.queue, self.alone, self.rows = deque(todo), deque(), []
        self.options, self.jobs, self.progress, self.work = options, jobs, progress, work
        self.running = {}            # future -> (task, graded alone, start time)

    def run(self) -> list:
        self.pool = _pool(self.jobs)
        try:
            while self.queue or self.alone or self.running:
                self._submit()
                done, _ = wait(self.running, return_when=FIRST_COMPLETED)
                broken = [t for t in map(self._collect, done) if t]
                if broken:
                    self._restart(broken)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return self.rows

    def _submit(self):
        while self.alone and not self.running:
            self._start(self.alone.popleft(), True)
        while self.queue and not self.alone and len(self.running) < self.jobs:
            self._start(self.queue.popleft(), False)

    def _start(self, task, alone):
        future = self.pool.submit(self.work, task[0], self.options, task[1])
        self.running[future] = (task, alone, time.perf_counter())

    def _collect(self, future):
        """Take a finished future's row; returns its (task, alone, start) when its worker died."""
        task, alone, started = self.running.pop(future)
        try:
            self._add(future.result())
        except BrokenProcessPool:
            return task, alone, started
        except Exception as exc:            # noqa: BLE001  e.g. a full disk: no row written
            print(f"grade-all: {task[0].student}: its results could not be written "
                  f"({type(exc).__name__}: {exc}); run again to grade it", file=sys.stderr)
        return None

    def _add(self, row):
        self.rows.append(row)
        if self.progress:
            self.progress.step(row)

    def _restart(self, broken):
        """A worker died: the pool is lost with what it held; a fresh one takes over."""
        wait(self.running)
        broken += [t for t in map(self._collect, list(self.running)) if t]
        self.pool.shutdown(wait=False)
        self.pool = _pool(self.jobs)
        for task, alone, started in broken:
            if alone or len(broken) == 1:
                self._add(_crashed(task, self.options, time.perf_counter() - started))
            else:
                self.alone.append(task)


def _crashed(task, options, seconds: float) -> dict:
    """The row of a student whose grading took the grader's worker process down."""
    from autograder import report

    entry, mark = task
    row = {"student": entry.student, "layout": "", "retry": False, "fingerprint": mark,
           "error": "the grader's worker process died while grading this submission",
           "seconds": round(seconds, 1), "exercises": list(options.exercises or ()), "format": ROW_FORMAT,
           "notes": ""}
    row.update(_scores(None, options))
    write_student(Path(options.out), row, f"Grading {entry.student}: not graded: {row['error']}\n",
                  report.gradescope_failure(row["error"], execution_time=seconds), {})
    return row
