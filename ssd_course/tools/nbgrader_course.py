"""`ssd-course nbgrader OUT`: a ready nbgrader course directory for the graded lessons.

nbgrader (0.9) shapes this course in five ways:

- it strips solutions from notebooks only and copies ``.py`` files verbatim, so
  ``source/`` holds the exercise *stubs*, generated from ``solutions/``; the
  build refuses to write a stub that contains a line of a solution;
- at autograde it overwrites submitted ``.py`` files with their ``source/``
  copies unless each is listed in ``Autograde.exclude_overwriting``: every
  exercise file of every assignment is listed;
- it runs a submitted notebook with the submission's folder as the working
  directory, where Python imports from first: the exercise files sit flat in
  the assignment folder (a folder named ``ssd_course/`` there would shadow the
  installed package), and ``CourseDirectory.ignore`` keeps every file named
  like an importable module out of the autograded folder;
- a graded cell that writes to stderr scores 0, and one whose value is a
  number earns that many points: each graded cell is one line that grades one
  exercise in the autograder's child processes and returns the points.
- its autograde fails for a student whose notebook lost, renamed, duplicated or
  added a grade cell, and its copy of a submission follows symbolic links: the
  configuration puts the source's graded cells back first and never copies an
  exercise file that is a link (``autograder.nbgrader_preprocessors``).

Written:

    OUT/nbgrader_config.py
    OUT/source/<lesson>/<lesson>.ipynb    the lesson: a set-up cell, one graded cell per exercise
    OUT/source/<lesson>/<module>.py       the lesson's exercise stubs

for each lesson that introduces an exercise (02, 03, 04, 05, 07). docs/instructors.md's
"The nbgrader course" walks through the nbgrader commands that follow.
"""
import copy
import re
import shutil
import sys
from pathlib import Path

from ssd_course import registry
from ssd_course.impl import solutions_dir
from ssd_course.tools import lessons, markers, stubs

COURSE_ID = "ssd-course"
POINTS = 10            # per exercise
CELL_TIMEOUT = 120     # seconds per cell at autograde: grading one exercise takes a few
STARTUP_TIMEOUT = 120  # seconds for the kernel to start on a loaded grading machine
# nbgrader's own defaults for CourseDirectory.ignore, extended in the generated config.
NBGRADER_IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
CHECK_CALL = re.compile(r"""^\s*check\(\s*["'](?P<name>\w+)["']\s*\)\s*;?\s*$""")


# --- which lessons, which exercises ---------------------------------------------------------

def graded_lessons(lessons_folder=None) -> dict:
    """{assignment name: (lesson notebook, [exercises it introduces])}, in lesson order.

    The assignment is named after the notebook (``04_iou_matching``).
    """
    notebooks = {p.name[:2]: p for p in lessons.find_lessons(lessons_folder)}
    out = {}
    for ex in registry.EXERCISES:
        path = notebooks.get(ex.lesson)
        if path is None:
            raise FileNotFoundError(
                f"exercise {ex.number} ({ex.function}) belongs to lesson {ex.lesson}, and there is no "
                f"lessons/{ex.lesson}_*.ipynb in {lessons_folder or lessons.lessons_dir()}")
        out.setdefault(path.stem, (path, []))[1].append(ex)
    return out


def check_cell_exercise(cell):
    """The exercise a lesson's check cell checks, from its metadata, or None.

    The lessons mark it ``{"tags": ["check"], "ssd_course": {"exercise": NAME}}``.
    """
    name = cell.get("metadata", {}).get("ssd_course", {}).get("exercise")
    return registry.get(name) if cell.get("cell_type") == "code" and name else None


# --- the notebook ---------------------------------------------------------------------------

def _nbgrader_meta(grade_id: str, points=None) -> dict:
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": True,
            "schema_version": 3, "solution": False, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def graded_cell(ex: registry.Exercise, points: float):
    """The locked one-line cell that grades `ex` and is worth `points`."""
    import nbformat
    from autograder import nbgrader_cell

    source = nbgrader_cell.GRADED_CELL.format(module=ex.module, points=points)
    return nbformat.v4.new_code_cell(
        source, id=f"grade-{ex.module}".replace("_", "-"),
        metadata={"deletable": False, "editable": False,
                  "nbgrader": _nbgrader_meta(nbgrader_cell.GRADE_ID.format(module=ex.module), points)})


def setup_cells(exercises) -> list:
    """A Markdown note and the locked cell that points the lesson's code at this folder's files."""
    import nbformat
    from autograder import nbgrader_cell

    files = ", ".join(f"`{ex.module}.py`" for ex in exercises)
    note = (f"**This lesson is an nbgrader assignment.** Your exercise file{'s' * (len(exercises) > 1)} "
            f"{files} {'are' if len(exercises) > 1 else 'is'} in this folder, next to the notebook: "
            f"write your code there and submit {'them' if len(exercises) > 1 else 'it'} with the notebook. "
            f"The cell below makes the lesson's code use {'them' if len(exercises) > 1 else 'it'} "
            f"(and your files from the earlier lessons' folders). Each graded cell "
            f"(`score(...)`) runs the autograder on your file and shows your points; "
            f"while you work it runs the public cases, and your instructor's grading adds hidden "
            f"ones. When grading, only the graded cells run.")
    return [nbformat.v4.new_markdown_cell(note, id="nbgrader-note"),
            nbformat.v4.new_code_cell(nbgrader_cell.SETUP_CELL, id="nbgrader-setup",
                                      metadata={"deletable": False, "editable": False,
                                                "nbgrader": _nbgrader_meta(nbgrader_cell.SETUP_ID)})]


def assignment_notebook(nb, exercises, points: float = POINTS):
    """The nbgrader version of a lesson notebook.

    - a set-up cell before the first code cell (see `setup_cells`);
    - each exercise's check cell becomes its graded cell (when the check cell
      holds only ``check("name")``; otherwise the graded cell follows it);
    - Markdown that says to edit ``ssd_course/exercises/<module>.py`` names the
      file in the assignment folder instead.

    Raises ValueError when an exercise has no check cell: the graded cell's place
    is the lesson's check cell.
    """
    nb = copy.deepcopy(nb)
    wanted = {ex.module: ex for ex in exercises}
    cells, placed = [], set()
    for cell in nb.cells:
        ex = check_cell_exercise(cell)
        if ex is not None and ex.module in wanted and ex.module not in placed:
            if not CHECK_CALL.match(cell.source):
                cells.append(cell)
            cells.append(graded_cell(ex, points))
            placed.add(ex.module)
            continue
        if cell.cell_type == "markdown":
            for e in exercises:
                cell.source = cell.source.replace(f"`{e.path}`", f"`{e.module}.py` (in this folder)")
        cells.append(cell)
    missing = [m for m in wanted if m not in placed]
    if missing:
        raise ValueError(f"no check cell for {', '.join(missing)} in the lesson: mark it with the "
                         f"metadata {{\"tags\": [\"check\"], \"ssd_course\": {{\"exercise\": NAME}}}} "
                         f"(```python check=NAME in lessons/_src)")
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells[first_code:first_code] = setup_cells(exercises)
    nb.cells = cells
    return nb


# --- the stubs ------------------------------------------------------------------------------

def assignment_stub(ex: registry.Exercise, stub_text: str) -> str:
    """The stub as the assignment folder holds it: it names ``<module>.py`` in this folder."""
    text = stub_text.replace(stubs.STAMP.format(module=ex.module), (
        f"# Your exercise file for this assignment. Write your code between the BEGIN/END EXERCISE\n"
        f"# markers, keep the function's signature, and submit this file with the notebook.\n"))
    message = (f"Exercise {ex.number} (lesson {ex.lesson}): {ex.function} is not written yet. "
               f"Write it in {ex.module}.py, in this assignment's folder, then run its graded cell.")
    return text.replace(repr(markers.not_implemented_message(ex)), repr(message))


def solution_lines(solutions_folder=None) -> dict:
    """{module: [stripped non-blank lines the stubs blank out]} from the solutions' exercise regions."""
    folder = Path(solutions_folder or solutions_dir() or "")
    out = {}
    for ex in registry.EXERCISES:
        lines = markers.solution_code((folder / f"{ex.module}.py").read_text(), ex.module)
        out[ex.module] = lines
    return out


def _refuse_solutions(name: str, text: str, secret: dict) -> None:
    if name.endswith(".ipynb"):
        import nbformat
        text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
    present = {l.strip() for l in text.splitlines()}
    leaked = [l for lines in secret.values() for l in lines if l in present]
    if leaked:
        raise RuntimeError(f"{name} would contain solution code ({leaked[0]!r}): not written")


# --- the configuration ----------------------------------------------------------------------

CONFIG = '''\
"""nbgrader configuration of the {course_id} course. Written by `ssd-course nbgrader`: rebuild
rather than edit: `ssd-course nbgrader THIS_FOLDER --force` rewrites this file and source/ only.
Run every nbgrader command in this folder."""
import os
import sys

from autograder.nbgrader_preprocessors import refused_submissions, shadowing_patterns

# nbgrader creates the gradebook by running `alembic` from PATH: find it next to this Python
# even when its virtualenv is not activated.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

c = get_config()  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = {course_id!r}
# The gradebook is the SQLite file gradebook.db in this folder. When several graders share one,
# use a database server instead, e.g.:
# c.CourseDirectory.db_url = "postgresql://grader:PASSWORD@db.example.org/{db_name}"

# The exercise files are the students' work: autograde must grade them, not overwrite them with
# the stubs in source/ (nbgrader's default for every file but the notebooks).
c.Autograde.exclude_overwriting = {exclude!r}

# A submission's files land in the folder the grading kernel imports from first: keep out every
# file or folder named like a module the grading environment can import (torch, autograder, json,
# ...), so none can stand in for the real one. The exercise files and notebooks are never matched.
c.CourseDirectory.ignore = {nbgrader_ignore!r} + shadowing_patterns(keep={keep!r})
# An exercise file in submitted/ that is a symbolic or hard link, or not a regular file (tar, unzip,
# cp -a and rsync -a keep links), is never copied: nbgrader's copy would follow it (to solutions/,
# or /dev/zero), and its graded cell scores 0 saying why. Nor is any other file of a submission
# that is a symbolic link or not a regular file. Found when this file loads.
c.CourseDirectory.ignore += refused_submissions(os.path.dirname(os.path.abspath(__file__)),
                                                c.Autograde.exclude_overwriting)

# Autograde: the submitted notebook's graded cells are the source's, each once (a deleted one is
# put back, a renamed, duplicated or added one is not graded); only those run (student cells are
# commented out first), each within the time limit below, in a kernel run by this Python.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.nbgrader_preprocessors.RestoreGradedCells",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
    "autograder.nbgrader_preprocessors.RunOnlyGradedCells",
    "autograder.nbgrader_preprocessors.RefuseLinkedFiles",
]
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_preprocessors.ExecuteInThisPython",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback pages: long output lines (hints, a case's inputs) wrap instead of running off the page.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.nbgrader_preprocessors.WrapFeedbackLines",
]
# `nbgrader zip_collect`: the exercise files are part of a submission (nbgrader's default
# collects notebooks only). Tell it how your LMS names downloaded files, e.g. for
# "alice_attempt_2024-05-01-10-00-00_jaccard.py":
# c.FileNameCollectorPlugin.named_regexp = (
#     r".+?_(?P<student_id>[^_]+)_attempt_(?P<timestamp>[0-9\\-]+)_(?P<file_id>.+)")
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]

c.Execute.timeout = {cell_timeout}            # seconds per cell
c.Execute.startup_timeout = {startup_timeout}    # seconds for the kernel to start
c.Execute.interrupt_on_timeout = True   # a cell over time is interrupted and scores 0
'''


def config_text(assignments: dict, course_id: str = COURSE_ID, cell_timeout: int = CELL_TIMEOUT) -> str:
    """The text of nbgrader_config.py for `assignments` ({name: (notebook, [exercises])})."""
    exclude = {name: [f"{ex.module}.py" for ex in exs] for name, (_, exs) in assignments.items()}
    keep = sorted({f for files in exclude.values() for f in files}
                  | {f"{name}.ipynb" for name in assignments} | set(assignments)
                  | {"timestamp.txt", "source", "release", "submitted", "autograded"})
    return CONFIG.format(course_id=course_id, exclude=exclude,
                         db_name=re.sub(r"\W", "_", course_id), nbgrader_ignore=NBGRADER_IGNORE,
                         keep=keep, cell_timeout=int(cell_timeout), startup_timeout=STARTUP_TIMEOUT)


# --- the course -------------------------------------------------------------------------------

def build_course(out, lessons_folder=None, course_id: str = COURSE_ID, points: float = POINTS,
                 cell_timeout: int = CELL_TIMEOUT, force: bool = False) -> dict:
    """Write the nbgrader course directory `out`.

    Args:
        out: the course folder (created). nbgrader's own folders there (the gradebook,
            ``release/``, ``submitted/``, ...) are never touched.
        lessons_folder: where the lesson notebooks are (default: the course's lessons/).
        points (float): points per exercise.
        cell_timeout (int): seconds a cell may run at autograde.
        force (bool): rewrite ``nbgrader_config.py`` and ``source/`` when they exist.

    Returns:
        dict: {assignment name: [exercise modules]}.
    """
    import nbformat

    out = Path(out)
    if points <= 0:
        raise ValueError(f"points per exercise must be positive, got {points}")
    if cell_timeout <= 0:
        raise ValueError(f"the cell timeout must be a positive number of seconds, got {cell_timeout}")
    existing = [p.name for p in (out / "nbgrader_config.py", out / "source") if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds {' and '.join(existing)}: pass --force to rewrite "
                              f"them (the gradebook and nbgrader's folders are kept)")
    assignments = graded_lessons(lessons_folder)
    stub_texts, secret = stubs.expected_stubs(), solution_lines()
    # Build everything in memory first: a lesson without its check cell writes nothing.
    files = {}
    for name, (path, exercises) in assignments.items():
        nb = assignment_notebook(nbformat.read(path, as_version=4), exercises, points)
        nbformat.validate(nb)
        files[f"source/{name}/{name}.ipynb"] = nbformat.writes(nb) + "\n"
        for ex in exercises:
            files[f"source/{name}/{ex.module}.py"] = assignment_stub(ex, stub_texts[ex.path])
    files["nbgrader_config.py"] = config_text(assignments, course_id, cell_timeout)
    for rel, text in files.items():
        _refuse_solutions(rel, text, secret)
    if (out / "source").exists():
        shutil.rmtree(out / "source")
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return {name: [ex.module for ex in exs] for name, (_, exs) in assignments.items()}


# --- command line: ssd-course nbgrader OUT ------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("out", metavar="OUT", help="the course folder to write (nbgrader runs there)")
    parser.add_argument("--course-id", default=COURSE_ID, help=f"nbgrader course id (default {COURSE_ID})")
    parser.add_argument("--points", type=float, default=POINTS,
                        help=f"points per exercise (default {POINTS})")
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT,
                        help=f"seconds a cell may run at autograde (default {CELL_TIMEOUT})")
    parser.add_argument("--lessons", default=None, help="folder of the lesson notebooks (default: lessons/)")
    parser.add_argument("--force", action="store_true",
                        help="rewrite nbgrader_config.py and source/ if they exist (nothing else is touched)")


def run(args) -> int:
    try:
        built = build_course(args.out, args.lessons, args.course_id, args.points,
                             args.cell_timeout, args.force)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"ssd-course nbgrader: {exc}")
        return 1
    out = Path(args.out)
    for name, modules in built.items():
        print(f"source/{name}/  {name}.ipynb + {', '.join(m + '.py' for m in modules)}"
              f"  ({len(modules) * args.points:g} points)")
    print(f"wrote {out / 'nbgrader_config.py'}\n"
          f"next: cd {out} && {Path(sys.executable).parent / 'nbgrader'} generate_assignment \"*\"   "
          f"(see docs/instructors.md, section \"The nbgrader course\")")
    return 0
