"""What the cells of an nbgrader assignment call, inside the notebook's kernel.

An assignment folder (what `ssd-course nbgrader` writes, nbgrader releases and
students submit) holds the lesson's notebook and its exercise files, flat:

    04_iou_matching/04_iou_matching.ipynb
    04_iou_matching/jaccard.py
    04_iou_matching/matching.py

Two kinds of cell use this module, both one line and locked:

- the set-up cell at the top, ``use_assignment_files()``: the lesson's code
  (``impl.jaccard``, the model, the loss) then runs the exercise files of this
  folder, and those of earlier lessons from the sibling assignment folders;
- one graded cell per exercise, ``score("jaccard", points=10)``: grades the
  file ``jaccard.py`` of the kernel's working directory (nbgrader runs a
  submission with its own folder as the working directory), prints the
  autograder's per-case table and returns the points as the cell's value,
  which nbgrader takes as partial credit.

An exercise file that is a symbolic or hard link, or not a regular file, earns 0
with a line saying so: it may be another's file (the instructor's solution). At
autograde nbgrader's copy of the submission has followed such links, so the
submitted folder is checked before the copy (``autograder.nbgrader_preprocessors``)
and its findings reach this kernel in ``REFUSED_ENV``.

The grading itself runs in the autograder's isolated child processes, on a
private copy of that one file: the kernel never imports the student's code, so
nothing the file does at import (printing, warnings, patching) reaches the
cell's output. At autograde time the course's configuration comments out every
other code cell first (``autograder.nbgrader_preprocessors``), so no student
cell runs in this kernel before a graded cell.
"""
import contextlib
import copy as copy_module
import dataclasses
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from ssd_course import registry

# The one line of a graded cell and of the set-up cell. `autograder.nbgrader_preprocessors`
# recognises graded cells by this exact text, so change both together.
GRADED_CELL = 'from autograder.nbgrader_cell import score; score("{module}", points={points})'
SETUP_CELL = "from autograder.nbgrader_cell import use_assignment_files; use_assignment_files()"
GRADE_ID = "grade_{module}"          # nbgrader grade_id of the graded cell of an exercise
SETUP_ID = "assignment_files"        # nbgrader grade_id of the (locked, ungraded) set-up cell

# nbgrader sets this in the kernel's environment: "autograde" when grading submissions,
# "validate" for `nbgrader validate`; unset when a student runs the notebook.
EXECUTION_ENV = "NBGRADER_EXECUTION"
# Set by `nbgrader_preprocessors.ExecuteInThisPython` in the grading kernel's environment:
# JSON {module: one-line reason} for the exercise files of the submitted folder that were not
# graded (a link, not a regular file). nbgrader copies the submission before the kernel starts
# and its copy follows links, so only the submitted folder itself can tell.
REFUSED_ENV = "SSD_COURSE_REFUSED_FILES"


# --- the graded cell -------------------------------------------------------------------------

def score(exercise: str, points: float, folder=None) -> float:
    """Grade this assignment's file of `exercise`, print the report, return the points earned.

    Args:
        exercise (str): module or function name (``"jaccard"``, ``"map_to_ground_truth"``).
        points (float): the cell's points in nbgrader (the score is scaled to them).
        folder: the assignment folder (default: the working directory, as nbgrader runs it).

    Returns:
        float: points earned, in [0, points]: ``points * passed cases' score / max score``.
        A missing exercise file earns 0, with a message saying what to submit.

    Hidden cases run whenever they are installed (the instructor's machine, where
    nbgrader autogrades); during ``nbgrader autograde`` their absence is an error,
    never a silent public-only grade. Nothing is written to stderr: a graded cell
    that writes there scores 0 in nbgrader, so messages (warnings from imports) are
    shown on stdout instead.
    """
    ex = registry.get(exercise)
    folder = Path(folder or os.getcwd()).resolve()
    with _quiet_stderr() as captured, _without_folder_on_path(folder):
        points_earned = _score(ex, float(points), folder)
    if captured.getvalue().strip():
        print("\n(messages written to stderr while grading, shown here instead:)\n"
              + captured.getvalue().rstrip())
    return points_earned


def _score(ex: registry.Exercise, points: float, folder: Path) -> float:
    path = folder / f"{ex.module}.py"
    refused = _refused_at_autograde().get(ex.module) or file_problem(path)
    if refused or not path.is_file():
        why = refused or f"{path.name} is not in the submitted folder ({folder.name})"
        print(f"{ex.function}: 0 points: {why}.\n"
              f"Write exercise {ex.number} in the file {path.name}, next to the notebook, and submit "
              f"it with the notebook.")
        return 0.0
    hidden = _hidden_cases_available()
    if not hidden and os.environ.get(EXECUTION_ENV) == "autograde":
        raise RuntimeError("nbgrader autograde needs the hidden cases, and this Python has none: "
                           "autograde on the instructor's machine, where ssd-course's autograder "
                           "with its hidden cases is installed")
    with tempfile.TemporaryDirectory(prefix="ssd-course-nbgrader-") as tmp:
        root = Path(tmp)
        copy = _private_copy(path, root, ex)
        result = _grade(root, ex, hidden)
        _check_graded(result, root, ex, copy, path)
    print(feedback_table(result))
    earned = points * result.score / result.max_score if result.max_score else 0.0
    earned = min(points, max(0.0, round(earned, 2)))
    print(f"\n{ex.function}: {earned:g} / {points:g} points = {points:g} x {result.score}/{result.max_score}, "
          f"the points of the cases passed over all the cases' points"
          + (" (public and hidden)" if hidden else
             "  (public cases only: the hidden cases run when your instructor grades)"))
    return earned


def file_problem(path: Path):
    """Why the exercise file `path` cannot be graded as the student's own file, or None.

    Args:
        path (Path): ``<folder>/<module>.py``; not followed if it is a link.

    Returns:
        str or None: one line naming the file (``"jaccard.py is a hard link: submit the file
        itself"``), or None for a regular file with one name, or no file at all (the caller
        says what to submit). A symbolic link or a second name (hard link) could make a
        file that is not the student's (``solutions/jaccard.py``) pass for theirs; anything
        but a regular file (a FIFO, a device) could block or never end when read.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"{path.name} is a symbolic link: submit the file itself"
    if not stat.S_ISREG(st.st_mode):
        return f"{path.name} is not a regular file"
    if st.st_nlink > 1:
        return f"{path.name} is a hard link: submit the file itself"
    return None


def _refused_at_autograde() -> dict:
    """{module: reason} found in the submitted folder and passed on in ``REFUSED_ENV`` ({} if none)."""
    try:
        refused = json.loads(os.environ.get(REFUSED_ENV) or "{}")
    except ValueError:
        return {}
    if not isinstance(refused, dict):
        return {}
    return {k: v for k, v in refused.items() if isinstance(v, str)}


def _private_copy(path: Path, root: Path, ex: registry.Exercise) -> Path:
    """Copy the submitted file to ``root/ssd_course/exercises/<module>.py``, the layout graders read.

    Only this one file is copied: nothing else in the submission folder (a ``torch.py``,
    an ``autograder/`` of its own) can reach the grader.
    """
    copy = root / ex.path
    copy.parent.mkdir(parents=True)
    shutil.copyfile(path, copy)
    return copy


def _check_graded(result, root: Path, ex: registry.Exercise, copy: Path, submitted: Path) -> None:
    """Fail loudly unless the grade is that of the submitted file, and of nothing else.

    The grader read the folder it was given (our private copy, holding only this
    file), graded this one exercise, and the copy still matches the submission.
    """
    graded = Path(result.submission).resolve()
    modules = [e.module for e in result.exercises]
    if graded != root.resolve() or modules != [ex.module]:
        raise RuntimeError(f"the autograder graded {modules} in {graded}, not {ex.module} in "
                           f"{root}: refusing to report a score")
    if _sha256(copy) != _sha256(submitted):
        raise RuntimeError(f"{submitted.name} changed while it was graded: grade it again")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def feedback_table(result) -> str:
    """What the student reads: the table of ``ssd-course check`` for the public cases, then
    the hidden cases by name with the kind of check that failed (never values or hints)."""
    from autograder import report

    public = copy_module.copy(result)
    public.exercises = [dataclasses.replace(e, outcomes=[o for o in e.outcomes if not o.hidden])
                        for e in result.exercises]
    public.hidden_counts = {}
    lines = [report.check_table(public, final=True)]
    hidden = [o for e in result.exercises for o in e.outcomes if o.hidden]
    if hidden:
        passed = sum(o.passed for o in hidden)
        lines += ["", f"hidden cases: {passed}/{len(hidden)} pass"]
        for o in hidden:
            name = o.title.split(": ", 1)[-1]
            lines.append(f"  {'PASS' if o.passed else 'FAIL'}  [hidden] {name}"
                         + ("" if o.passed else f"  ({o.check})"))
    return "\n".join(lines)


# --- the autograder's API, in one place ---------------------------------------------------

def _hidden_cases_available() -> bool:
    from autograder import cases
    return cases.hidden_available()


def _grade(root: Path, ex: registry.Exercise, hidden: bool):
    from autograder import api
    return api.grade(root, exercises=[ex.module], hidden=hidden)


# --- keeping the cell's output clean ------------------------------------------------------

@contextlib.contextmanager
def _quiet_stderr():
    """Send everything written to stderr (Python-level and file descriptor 2) to a buffer.

    The buffer's text is printed on stdout afterwards: nothing is lost, and a warning
    printed by some import does not cost the student the cell's points.
    """
    buffer = io.StringIO()
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(buffer):
                yield buffer
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            sink.seek(0)
            buffer.write(sink.read().decode("utf-8", "replace"))


@contextlib.contextmanager
def _without_folder_on_path(folder: Path):
    """Take the submission folder off ``sys.path`` while grading.

    Jupyter puts the notebook's folder first on ``sys.path``: a file there named like
    a module the grader imports later (``numpy.py``) would otherwise be imported in
    its place.
    """
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if p and _resolved(p) != folder]
    try:
        yield
    finally:
        sys.path[:] = saved


def _resolved(entry: str):
    try:
        return Path(entry).resolve()
    except OSError:
        return None


# --- the set-up cell ------------------------------------------------------------------------

def use_assignment_files(folder=None, verbose: bool = True) -> dict:
    """Make the lesson's code run the exercise files of this assignment (and of earlier ones).

    An exercise's file is looked for in `folder` (default: the working directory),
    then in the sibling assignment folder of the lesson that introduced it
    (``../03_anchors/anchors.py``), then the installed course's own copy is used.

    Returns:
        dict: {module name: Path of the file the lesson's code will run}.
    """
    import ssd_course.exercises as package

    folder = Path(folder or os.getcwd()).resolve()
    found = {}
    for ex in registry.EXERCISES:
        here = folder / f"{ex.module}.py"
        siblings = sorted(folder.parent.glob(f"{ex.lesson}_*/{ex.module}.py"))
        candidates = [here] if here.is_file() else siblings[:1]
        if candidates:
            found[ex.module] = candidates[0]
    extra = []
    for path in found.values():
        if str(path.parent) not in extra:
            extra.append(str(path.parent))
    # Searched first for `ssd_course.exercises.<module>`: `impl` and the pipeline import from there.
    package.__path__[:] = extra + [p for p in package.__path__ if p not in extra]
    for ex in registry.EXERCISES:   # forget copies imported from elsewhere before this cell ran
        module = sys.modules.get(f"ssd_course.exercises.{ex.module}")
        if module is not None and Path(getattr(module, "__file__", "")).resolve() != found.get(ex.module):
            del sys.modules[module.__name__]
    installed = Path(package.__file__).resolve().parent
    result = {ex.module: found.get(ex.module, installed / f"{ex.module}.py") for ex in registry.EXERCISES}
    if verbose:
        print("The lesson's code runs these exercise files:")
        for module, path in result.items():
            where = ("this folder" if path.parent == folder
                     else "the installed course (not an assignment file)" if path.parent == installed
                     else f"../{path.parent.name}")
            print(f"  {module + '.py':<18} {where}")
    return result
