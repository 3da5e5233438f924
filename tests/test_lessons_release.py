"""The lessons in a student copy (`ssd-course release`), tried as a new student would (issues 5, 16).

In the copy, with its own `ssd_course` imported (PYTHONPATH, as an install of the
copy gives): lesson 00 runs and confirms the set-up; every cell of every lesson,
run with the stubs untouched, either runs or stops with the "not written yet"
message of an exercise it declares it needs (no cascade of NameErrors, no empty
figures); every exercise's check cell fails with the stub's message before the
exercise is done, and passes once the solution is put in its file (only the
check cells are executed then, to stay within the test budget). The run of every
lesson with the solutions, no error at all, is test_lessons_run's smoke run.
The copy's set-up files say what they install and keep the virtualenv and data
out of git.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ssd_course import registry

from ssd_course.tools import lessons
from ssd_course.impl import solutions_dir
from ssd_course.tools.markers import not_implemented_message
from ssd_course.tools.stubs import expected_stubs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "student"
    proc = subprocess.run([sys.executable, "-m", "ssd_course", "release", str(out)], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _env(copy, data):
    """The kernel's environment: the copy's package first on the path, the student's code, tiny data."""
    env = lessons.lesson_env("student", smoke_run=True, data=data)
    env["PYTHONPATH"] = str(copy)
    return env


def _checks_notebook(copy) -> Path:
    """A notebook of lesson 00's import cell, then each exercise's check cell from its lesson."""
    shipped = lessons.find_lessons(copy / "lessons")
    first = next(c for c in nbformat.read(shipped[0], as_version=4).cells if c.cell_type == "code")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(first)
    for ex in registry.EXERCISES:
        (path,) = [p for p in shipped if p.name.startswith(ex.lesson + "_")]
        cells = nbformat.read(path, as_version=4).cells
        (check,) = [c for c in cells if c.metadata.get("ssd_course", {}).get("exercise") == ex.module]
        nb.cells.append(check)
    target = copy / "lessons" / "99_checks.ipynb"
    nbformat.write(nb, target)
    return target


def _check_results(nb):
    """{exercise module: (value shown, printed text)} of the executed check cells."""
    results = {}
    for cell in nb.cells:
        module = cell.metadata.get("ssd_course", {}).get("exercise")
        if module:
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            values = [o["data"]["text/plain"] for o in cell.outputs if o.get("output_type") == "execute_result"]
            results[module] = (values[0] if values else None, text)
    return results


def test_the_copy_ships_the_lessons_as_stored(student_copy):
    ours = {p.name: p.read_text() for p in lessons.find_lessons(ROOT / "lessons")}
    theirs = {p.name: p.read_text() for p in lessons.find_lessons(student_copy / "lessons")}
    assert theirs == ours


NEEDS = re.compile(r"notebook\.needs\(([^)]*)\)")


def _declared_needs(source: str) -> set:
    """The exercises (modules) a cell names in its `notebook.needs(...)` line."""
    names = [n for args in NEEDS.findall(source) for n in re.findall(r"[\"']([a-z_]+)[\"']", args)]
    return {registry.get(n).module for n in names}


@pytest.fixture(scope="module")
def stubs_run(student_copy, tmp_path_factory):
    """Every lesson of the copy executed with the stubs untouched, all cells run: {lesson: notebook}."""
    for rel, text in expected_stubs().items():            # untouched stubs, whatever ran before
        (student_copy / rel).write_text(text)
    out, data = tmp_path_factory.mktemp("stubs-run"), tmp_path_factory.mktemp("stubs-data")
    env = _env(student_copy, data)
    notebooks = {}
    for path in lessons.find_lessons(student_copy / "lessons"):
        lessons.run_lesson(path, out, env=env, html=False, allow_errors=True)
        notebooks[path.stem] = nbformat.read(out / path.name, as_version=4)
    return notebooks


def test_untouched_stubs_stop_cells_only_with_the_message_of_an_exercise_they_need(stubs_run):
    """Issue 16: no NameError cascades, no empty figures; every error names a needed exercise."""
    messages = {not_implemented_message(e): e.module for e in registry.EXERCISES}
    stopped = {}
    for name, nb in stubs_run.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{name}: not every cell ran"
        for cell in code:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if not errors:
                continue
            (error,) = errors
            where = f"{name}, cell {cell.source.splitlines()[0]!r}: {error.ename}: {error.evalue[:200]}"
            assert error.ename == "NotImplementedError" and error.evalue in messages, where
            assert messages[error.evalue] in _declared_needs(cell.source), \
                f"{where}\n(the cell does not say it needs {messages[error.evalue]})"
            assert not any("image/png" in o.get("data", {}) for o in cell.outputs), f"{where}: drew a figure"
            stopped.setdefault(name, []).append(messages[error.evalue])
    assert not {"00_setup", "01_data"} & set(stopped), stopped       # they need no exercise
    for ex in registry.EXERCISES:                                     # its own lesson stops on it
        assert ex.module in stopped[next(n for n in stubs_run if n.startswith(ex.lesson + "_"))]


def test_each_lesson_says_which_earlier_exercises_are_missing(stubs_run):
    for name, nb in stubs_run.items():
        cells = [c for c in nb.cells if c.cell_type == "code" and "check_earlier(" in c.source]
        if name < "03":
            assert not cells, name
            continue
        assert len(cells) == 1, f"{name}: one check_earlier cell at the top"
        printed = "".join(o.get("text", "") for o in cells[0].outputs)
        needed = _declared_needs(cells[0].source.replace("check_earlier", "needs"))
        for ex in registry.EXERCISES:
            if ex.module in needed:
                assert f"exercise {ex.number} (lesson {ex.lesson}) {ex.function}: NOT WRITTEN YET" in printed
                assert ex.path in printed
            assert ex.lesson < name[:2] or ex.module not in needed, f"{name} checks a later exercise"


def test_lesson_00_runs_in_the_copy_and_finds_its_own_package(student_copy, stubs_run):
    nb = stubs_run["00_setup"]                                 # run in the copy, its package first on the path
    assert lessons.error_cells(nb) == []
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"ssd_course   {student_copy / 'ssd_course'}" in text
    assert "OK: the notebook and the package are the same copy of the course" in text
    assert "exercise functions: student" in text
    assert lessons.stderr_cells(nb) == []


def test_the_copy_says_what_its_set_up_installs_and_keeps_it_out_of_git(student_copy, tmp_path):
    readme = (student_copy / "README.md").read_text()
    environment = (student_copy / "environment.yml").read_text()
    assert "pip install -e '.[lessons]'" in readme
    assert "- -e .[lessons]" in environment and "[dev]" not in environment and "make setup" not in environment
    assert not (student_copy / "Makefile").exists()
    # what it costs, and the CPU-only PyTorch of the pinned versions for a laptop
    assert re.search(r"about\s+[\d.]+ GB to download and\s+[\d.]+ GB on disk", readme)
    pins = dict(re.findall(r'"(torch|torchvision)==([^"]+)"', (student_copy / "pyproject.toml").read_text()))
    assert (f"pip install torch=={pins['torch']} torchvision=={pins['torchvision']} "
            "--index-url https://download.pytorch.org/whl/cpu") in readme
    # .gitignore: the virtualenv, data, outputs and checkpoints stay out; the student's work does not
    work = tmp_path / "repo"
    shutil.copytree(student_copy, work, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    ignored = [".venv/lib/python3.11/site-packages/torch/x.so", "data/synthetic/train/0001.jpg",
               "data/models/lesson06_multi.pth", "out/lessons/03_anchors.ipynb",
               "lessons/.ipynb_checkpoints/03_anchors-checkpoint.ipynb", "weights.pth"]
    kept = ["ssd_course/exercises/jaccard.py", "lessons/03_anchors.ipynb", "README.md", "environment.yml"]
    proc = subprocess.run(["git", "-C", str(work), "check-ignore", "--no-index", *ignored, *kept],
                          capture_output=True, text=True)
    assert proc.stdout.split() == ignored, proc.stdout
    shipped_but_ignored = subprocess.run(["git", "-C", str(work), "ls-files", "--others", "--ignored",
                                          "--exclude-standard"], capture_output=True, text=True).stdout
    assert shipped_but_ignored == "", f"files of the copy that git would leave out:\n{shipped_but_ignored}"


def test_check_cells_fail_with_the_stub_message_then_pass_with_the_solutions(student_copy, stubs_run, tmp_path):
    # Before: the check cells as the stubs run executed them, in their lessons.
    results = {}
    for nb in stubs_run.values():
        results.update(_check_results(nb))
    assert set(results) == {e.module for e in registry.EXERCISES}
    for ex in registry.EXERCISES:
        value, text = results[ex.module]
        assert value == "False", ex.module
        assert f"Exercise {ex.number} (lesson {ex.lesson}): {ex.function} is not written yet" in text
        assert ex.path in text

    notebook = _checks_notebook(student_copy)
    env = _env(student_copy, tmp_path / "data")
    for ex in registry.EXERCISES:                                 # the student does every exercise
        shutil.copyfile(solutions_dir() / f"{ex.module}.py", student_copy / ex.path)
    after = lessons.run_lesson(notebook, tmp_path / "after", env=env, html=False)
    assert after.status == "ok", after.error
    results = _check_results(nbformat.read(tmp_path / "after" / notebook.name, as_version=4))
    for ex in registry.EXERCISES:
        value, text = results[ex.module]
        assert value == "True", (ex.module, text[-500:])
        assert "FAIL" not in text
