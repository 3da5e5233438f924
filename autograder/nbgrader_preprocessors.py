"""nbgrader's side of the course: what the generated ``nbgrader_config.py`` plugs in.

Loaded by the ``nbgrader`` commands on the instructor's machine (never in a
student's kernel):

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
  submission folder on ``sys.path`` (``python -P``).
- ``shadowing_patterns``, the file names a submission must not bring into the
  autograded folder, the kernel's working directory: every module name the
  grading environment can import (``torch``, ``autograder``, ``json``, ...).
  With ``-P`` nothing is imported from there anyway; the list also covers
  Python 3.10, which has no ``-P``.
"""
import pkgutil
import re
import sys
from fnmatch import fnmatch

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from autograder import nbgrader_cell

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

    def create_kernel_manager(self):
        self.kernel_name = "python3"
        km = super().create_kernel_manager()
        km.kernel_spec_manager = _ThisPythonKernelSpecs()
        return km


def kernel_command() -> list:
    """The grading kernel's command line: this Python, without its working directory on sys.path."""
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *safe_path, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class _ThisPythonKernelSpecs(KernelSpecManager):
    """Every kernel name resolves to `kernel_command()`."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(argv=kernel_command(), display_name="Python 3 (ssd-course grading)",
                          language="python", resource_dir="")


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
