"""nbgrader's side of the course: what the generated ``nbgrader_config.py`` plugs in.

Loaded by the ``nbgrader`` commands on the instructor's machine (never in a
student's kernel):

- ``RestoreGradedCells``, the first sanitize step of ``nbgrader autograde``: the
  submitted notebook's cells that carry nbgrader metadata are matched with the
  source's cells in the gradebook. A graded cell the student deleted is put back,
  one that was duplicated is kept once, and a cell whose grade_id the source does
  not have (renamed, or a grade cell of the student's own) loses its nbgrader
  metadata, so it is not graded. On each of these nbgrader 0.9.6's own steps fail
  (``KeyError``; ``RuntimeError`` for a graded cell marked ungraded) and the student
  gets no score.
- ``RefuseLinkedFiles``, a sanitize step: notes in the notebook's metadata which
  exercise files of the submitted folder are links or not regular files, for
  ``ExecuteInThisPython`` to refuse (``refused_submissions`` keeps nbgrader from
  copying them in the first place).
- ``RunOnlyGradedCells``, a sanitize step of ``nbgrader autograde``: every code
  cell except the course's own graded cells is commented out before the
  notebook runs. nbgrader runs a whole notebook in one kernel, so a student's
  cell placed before a graded cell could otherwise redefine what the graded
  cell calls, hide its output (nbgrader gives full marks to a graded cell with
  no output) or train a model for an hour. The student's code stays visible
  in the feedback, commented out.
- ``ExecuteInThisPython``, nbgrader's ``Execute`` with the kernel started by
  the Python that runs nbgrader (the course's environment), whatever
  ``python3`` kernel a user-level Jupyter folder may register, and without the
  submission folder on ``sys.path`` (``python -P``); the exercise files that
  ``RefuseLinkedFiles`` noted are removed and their graded cells score 0 with
  the reason.
- ``WrapFeedbackLines``, the last step of ``nbgrader generate_feedback``: adds a
  style rule to the feedback page so that long output lines (a hint, a case's
  inputs, what the student's code printed) wrap at the page's edge instead of
  running off it.
- ``shadowing_patterns``, the file names a submission must not bring into the
  autograded folder, the kernel's working directory: every module name the
  grading environment can import (``torch``, ``autograder``, ``json``, ...).
  With ``-P`` nothing is imported from there anyway; the list also covers
  Python 3.10, which has no ``-P``.
"""
import glob
import json
import os
import pkgutil
import re
import sys
from fnmatch import fnmatch
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from autograder import nbgrader_cell
from ssd_course import registry

# A graded cell's code: comment lines may precede it (nbgrader adds one when it
# restores a deleted cell); the last line is the call, exactly as generated.
GRADED_LINE = re.compile(re.escape(nbgrader_cell.GRADED_CELL)
                         .replace(re.escape("{module}"), r"(?P<module>\w+)")
                         .replace(re.escape("{points}"), r"(?P<points>[0-9.]+)"))
NOT_RUN = "# [autograde] not run: at autograde only the graded cells run (your code is kept below).\n"


def graded_cell_module(cell):
    """The exercise a course graded cell grades, or None for any other cell.

    A graded cell is an nbgrader grade cell whose grade_id is ``grade_<module>``
    and whose code is the generated line for that same module.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code" or not meta.get("grade"):
        return None
    lines = [l.strip() for l in cell.source.splitlines() if l.strip()]
    code = [l for l in lines if not l.startswith("#")]
    match = GRADED_LINE.fullmatch(code[0]) if len(code) == 1 else None
    if not match or meta.get("grade_id") != nbgrader_cell.GRADE_ID.format(module=match["module"]):
        return None
    return match["module"]


def commented_out(source: str) -> str:
    """`source` as comments, with a first line saying why it did not run."""
    body = "\n".join(f"# {line}" if line.strip() else "#" for line in source.splitlines())
    return NOT_RUN + body


class RestoreGradedCells(NbGraderPreprocessor):
    """Make the submitted notebook's nbgrader cells those of the source, each exactly once.

    Runs first among ``Autograde.sanitize_preprocessors`` (after ``ClearOutput``), so that
    nbgrader's ``DeduplicateIds``, ``OverwriteCells`` and ``SaveAutoGrades`` only ever see
    grade_ids the gradebook knows, once each. What a student did to a cell of the source:

    - deleted a graded cell: it is put back (the source's cell, after the source cell that
      precedes it in the notebook), and graded;
    - duplicated one: the first copy is kept, the others lose their nbgrader metadata;
    - renamed one (its grade_id), or added a grade cell of their own: the cell loses its
      nbgrader metadata (not graded; ``RunOnlyGradedCells`` comments it out), and a renamed
      graded cell is put back as deleted;
    - edited a locked cell's metadata or type: the source's cell takes its place.

    Points are always the source's (``OverwriteCells`` then checks them against the gradebook).
    """

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        with Gradebook(ids["db_url"]) as gb:
            source = source_cells(gb, ids["notebook"], ids["assignment"])
        kept = {}                                     # {grade_id: the cell kept for it}
        for index, cell in enumerate(nb.cells):
            grade_id = _grade_id(cell)
            if grade_id in source and grade_id not in kept:
                if source[grade_id]["locked"]:
                    nb.cells[index] = cell = restored_cell(source[grade_id], cell.get("id"))
                else:
                    cell.metadata["nbgrader"] = dict(source[grade_id]["nbgrader"])
                kept[grade_id] = cell
            elif "nbgrader" in cell.get("metadata", {}):
                self.log.warning("Cell %r is not a cell of the source (or a second copy of one): "
                                 "not graded", grade_id)
                del cell.metadata["nbgrader"]
        order = list(source)
        for position, grade_id in enumerate(order):
            if grade_id in kept or not source[grade_id]["nbgrader"]["grade"]:
                continue
            self.log.warning("Graded cell %r is missing from the submission: put back", grade_id)
            before = [kept[g] for g in order[:position] if g in kept]
            after = [kept[g] for g in order[position + 1:] if g in kept]
            at = (_index(nb, before[-1]) + 1 if before else _index(nb, after[0]) if after
                  else len(nb.cells))
            kept[grade_id] = restored_cell(source[grade_id])
            nb.cells.insert(at, kept[grade_id])
        return nb, resources


def source_cells(gb, notebook: str, assignment: str) -> dict:
    """{grade_id: {"cell_type", "source", "locked", "nbgrader": metadata}} of the source notebook.

    In the gradebook's order, the order ``nbgrader generate_assignment`` saved them in (the
    order nbgrader's own ``OverwriteCells`` relies on to put cells back).
    """
    nb = gb.find_notebook(notebook, assignment)
    points = {c.name: c.max_score for c in nb.grade_cells}
    solution = {c.name for c in nb.solution_cells}
    task = {c.name for c in nb.task_cells}
    out = {}
    for cell in nb.source_cells:
        meta = {"grade": cell.name in points, "grade_id": cell.name, "locked": cell.locked,
                "schema_version": 3, "solution": cell.name in solution, "task": cell.name in task}
        if cell.name in points:
            meta["points"] = points[cell.name]
        if cell.checksum:
            meta["checksum"] = cell.checksum
        out[cell.name] = {"cell_type": cell.cell_type, "source": cell.source, "locked": cell.locked,
                          "nbgrader": meta}
    return out


def restored_cell(source: dict, cell_id=None):
    """A fresh copy of a source cell, as generated (`cell_id`: keep the submitted cell's id)."""
    new = new_code_cell if source["cell_type"] == "code" else new_markdown_cell
    metadata = {"deletable": False, "nbgrader": dict(source["nbgrader"])}
    if source["locked"]:
        metadata["editable"] = False
    cell = new(source["source"], metadata=metadata)
    if cell_id:
        cell["id"] = cell_id
    return cell


def _grade_id(cell):
    """The cell's nbgrader grade_id, or None (no nbgrader metadata, or not a dict)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _index(nb, cell) -> int:
    return next(i for i, c in enumerate(nb.cells) if c is cell)


class RunOnlyGradedCells(NbGraderPreprocessor):
    """Comment out every code cell that is not one of the course's graded cells.

    Runs last among ``Autograde.sanitize_preprocessors``, after ``OverwriteCells`` has
    put back the instructor's version of every locked and graded cell.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and graded_cell_module(cell) is None and cell.source.strip():
            cell.source = commented_out(cell.source)
        return cell, resources


class ExecuteInThisPython(Execute):
    """nbgrader's ``Execute``, with the kernel run by this very Python, in safe-path mode.

    The notebooks name the kernel ``python3``; Jupyter looks that name up in the
    user's folders first, which may point at another Python without the course.
    Here it is always ``sys.executable``. And the kernel starts with ``-P``
    (Python 3.11+): the submission folder, its working directory, is not put on
    ``sys.path``, so no file there can stand in for a module, not even one that
    Jupyter imports while the kernel starts.
    """

    refused = {}     # {module: reason} of the notebook being run (see `RefuseLinkedFiles`)

    def preprocess(self, nb, resources, km=None):
        self.refused = refused_in(nb)
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        for module in self.refused:     # a copy nbgrader made before `refused_submissions` was set up
            copy = folder / f"{module}.py"
            if copy.is_symlink() or copy.is_file():
                copy.unlink()
        return super().preprocess(nb, resources, km=km)

    def create_kernel_manager(self):
        self.kernel_name = "python3"
        km = super().create_kernel_manager()
        km.kernel_spec_manager = _ThisPythonKernelSpecs(
            env={nbgrader_cell.REFUSED_ENV: json.dumps(self.refused)})
        return km


def kernel_command() -> list:
    """The grading kernel's command line: this Python, without its working directory on sys.path."""
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *safe_path, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class _ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to `kernel_command()`."""

    def __init__(self, env=None, **kwargs):
        super().__init__(**kwargs)
        self.env = dict(env or {})

    def get_kernel_spec(self, kernel_name):
        # Jupyter fills `$NAME` in a spec's env from the environment: escape ours.
        env = {k: v.replace("$", "$$") for k, v in self.env.items()}
        return KernelSpec(argv=kernel_command(), display_name="Python 3 (ssd-course grading)",
                          language="python", resource_dir="", env=env)


# --- file names a submission must not carry into the autograded folder ------------------

# Imported from a kernel's working directory at start-up or through the grader.
ALWAYS = ("autograder", "ssd_course", "solutions", "sitecustomize", "usercustomize",
          "ipykernel_launcher")
CONFIG_FILES = ("ipython_config.py", "ipython_kernel_config.py", "*.pth")


def importable_names() -> set:
    """Top-level module names this Python can import: stdlib, installed packages, the course."""
    names = set(sys.stdlib_module_names) | set(ALWAYS)
    names |= {m.name for m in pkgutil.iter_modules() if m.name.isidentifier()}
    names |= {m.split(".")[0] for m in sys.modules if m.split(".")[0].isidentifier()}
    return names


def shadowing_patterns(keep=()) -> list:
    """``CourseDirectory.ignore`` globs for files that would shadow a module in the kernel.

    Args:
        keep (iterable of str): file names the course needs (the exercise files,
            the notebooks): no pattern may match one of them.

    Returns:
        list of str: ``name`` (a package folder) and ``name.*`` (``name.py``, a
        compiled ``name.cpython-311-x86_64-linux-gnu.so``) for every importable name,
        plus IPython's config file names; sorted.
    """
    keep = list(keep)
    patterns = list(CONFIG_FILES)
    for name in sorted(importable_names()):
        patterns += [name, f"{name}.*"]
    return [p for p in patterns if not any(fnmatch(k, p) for k in keep)]


# --- exercise files that are links: never copied, never graded ---------------------------

METADATA_KEY = "ssd_course"      # the notebook's metadata key `RefuseLinkedFiles` writes


class RefuseLinkedFiles(NbGraderPreprocessor):
    """Note in the notebook which exercise files of the submitted folder cannot be graded.

    A sanitize step (it reads the notebook from ``submitted/``): a symbolic link, a hard
    link (one more name of a file that may lie outside the submission: the instructor's
    ``solutions/jaccard.py``) or anything but a regular file. ``tar``, ``unzip``,
    ``cp -a`` and ``rsync -a`` keep links, and nbgrader's copy to ``autograded/``
    follows them, so only this folder can tell. What a student's notebook says under
    the same key is replaced.
    """

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        refused = {ex.module: why for ex in registry.EXERCISES
                   if (why := nbgrader_cell.file_problem(folder / f"{ex.module}.py"))}
        for module, why in refused.items():
            self.log.warning("%s: not graded: %s", folder, why)
        nb.metadata[METADATA_KEY] = {"refused": refused}
        return nb, resources


# Jupyter's style sheet keeps output lines as written (`white-space: pre`); wrapped, a long line
# stays readable at any width, and the indentation of the feedback tables is kept.
WRAP_CSS = (".output_area pre, .output_text pre, .output pre, pre "
            "{ white-space: pre-wrap; overflow-wrap: anywhere; }")


class WrapFeedbackLines(NbGraderPreprocessor):
    """Append `WRAP_CSS` to the style sheets the feedback page inlines (after Jupyter's own)."""

    def preprocess(self, nb, resources):
        css = resources.setdefault("inlining", {}).setdefault("css", [])
        css.append(WRAP_CSS)
        return nb, resources


def refused_in(nb) -> dict:
    """{module: reason} that `RefuseLinkedFiles` noted in `nb` (only known modules, text reasons)."""
    noted = nb.metadata.get(METADATA_KEY, {})
    refused = noted.get("refused", {}) if isinstance(noted, dict) else {}
    if not isinstance(refused, dict):
        return {}
    modules = {ex.module for ex in registry.EXERCISES}
    return {m: str(why) for m, why in refused.items() if m in modules}


def refused_submissions(course, exercise_files: dict) -> list:
    """``CourseDirectory.ignore`` entries for the files of ``course/submitted/`` nbgrader must not copy.

    Args:
        course: the course folder (nbgrader's default layout:
            ``submitted/<student>/<assignment>/``).
        exercise_files (dict): {assignment: [exercise file names]}.

    Returns:
        list of str: glob-escaped absolute paths: each exercise file that
        `nbgrader_cell.file_problem` refuses (a link, or not a regular file), and any other
        file of a submission that is a symbolic link or not a regular file. nbgrader's copy
        follows links (to ``solutions/``, or to ``/dev/zero``, a copy that never ends);
        it matches an ignore entry with ``glob(os.path.join(folder, entry))``, and an
        absolute entry is that very path. Read when the configuration loads, at the start
        of each nbgrader command.
    """
    entries = []
    for assignment, names in exercise_files.items():
        for top in sorted(Path(course, "submitted").glob(f"*/{glob.escape(assignment)}")):
            for folder, _, files in os.walk(top):          # never into a linked folder
                for name in sorted(files):
                    path = Path(folder, name)
                    exercise = Path(folder) == top and name in names
                    if nbgrader_cell.file_problem(path) if exercise else not _plain_file(path):
                        entries += _ignore_entries(path)
    return entries


def _plain_file(path: Path) -> bool:
    """A regular file, not a link to one."""
    return not path.is_symlink() and path.is_file()


def _ignore_entries(path: Path) -> list:
    """The path as nbgrader may spell it (from the folder it runs in, or with links resolved)."""
    spellings = {os.path.abspath(path), os.path.join(os.path.realpath(path.parent), path.name)}
    return [glob.escape(p) for p in sorted(spellings)]
