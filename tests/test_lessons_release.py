"""The lessons in a student copy (`ssd-course release`), tried as a new student would (issue 5).

In the copy, with its own `ssd_course` imported (PYTHONPATH, as an install of the
copy gives): lesson 00 runs and confirms the set-up; every exercise's check
cell fails with the stub's message before the exercise is done, and passes
once the solution is put in its file. Only the check cells (after the lesson's
import cell) are executed, to stay within the test budget.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ssd_course import lessons, registry
from ssd_course.impl import solutions_dir

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


def test_lesson_00_runs_in_the_copy_and_finds_its_own_package(student_copy, tmp_path):
    result = lessons.run_lesson(student_copy / "lessons" / "00_setup.ipynb", tmp_path / "out",
                                env=_env(student_copy, tmp_path / "data"), html=False)
    assert result.status == "ok", result.error
    nb = nbformat.read(tmp_path / "out" / "00_setup.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"ssd_course   {student_copy / 'ssd_course'}" in text
    assert "OK: the notebook and the package are the same copy of the course" in text
    assert "exercise functions: student" in text
    assert lessons.stderr_cells(nb) == []


def test_check_cells_fail_with_the_stub_message_then_pass_with_the_solutions(student_copy, tmp_path):
    notebook = _checks_notebook(student_copy)
    env = _env(student_copy, tmp_path / "data")

    before = lessons.run_lesson(notebook, tmp_path / "before", env=env, html=False)
    assert before.status == "ok", before.error                   # a failing check returns False, raises nothing
    results = _check_results(nbformat.read(tmp_path / "before" / notebook.name, as_version=4))
    assert set(results) == {e.module for e in registry.EXERCISES}
    for ex in registry.EXERCISES:
        value, text = results[ex.module]
        assert value == "False", ex.module
        assert f"Exercise {ex.number} (lesson {ex.lesson}): {ex.function} is not written yet" in text
        assert ex.path in text

    for ex in registry.EXERCISES:                                 # the student does every exercise
        shutil.copyfile(solutions_dir() / f"{ex.module}.py", student_copy / ex.path)
    after = lessons.run_lesson(notebook, tmp_path / "after", env=env, html=False)
    assert after.status == "ok", after.error
    results = _check_results(nbformat.read(tmp_path / "after" / notebook.name, as_version=4))
    for ex in registry.EXERCISES:
        value, text = results[ex.module]
        assert value == "True", (ex.module, text[-500:])
        assert "FAIL" not in text
