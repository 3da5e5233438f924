"""`ssd-course run-lessons`: how instructors run the course end to end (issue 5).

One smoke run of every lesson (the CI's end-to-end check of the course), then
the reporting of a lesson that fails, on a small notebook made here.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from ssd_course import registry

from ssd_course.tools import lessons

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "ssd_course", "run-lessons"]


def _run(*args, timeout=900, env=None):
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """All lessons, executed once with --smoke; (process, OUT folder)."""
    out = tmp_path_factory.mktemp("lessons-out")
    data = tmp_path_factory.mktemp("lessons-data")
    return _run(out, "--smoke", "--data", data), out


def test_smoke_run_passes_every_lesson(smoke_run):
    proc, out = smoke_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    names = [p.stem for p in lessons.find_lessons()]
    assert [r["name"] for r in summary["lessons"]] == names
    assert summary["impl"] == "solutions" and summary["smoke"] is True
    for r in summary["lessons"]:
        assert r["status"] == "ok", r
        assert f"{r['name']}: ok" in proc.stdout     # one line per lesson, with its time
    assert "total:" in proc.stdout


def test_smoke_run_writes_executed_notebooks_without_errors_or_stderr(smoke_run):
    _, out = smoke_run
    for path in lessons.find_lessons():
        nb = nbformat.read(out / path.name, as_version=4)
        assert (out / f"{path.stem}.html").stat().st_size > 10_000
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{path.name}: not every cell ran"
        assert lessons.error_cells(nb) == [], path.name
        assert lessons.stderr_cells(nb) == [], f"{path.name}: cells wrote to stderr"
        first = "".join(o.get("text", "") for o in code[0].outputs + code[1].outputs)
        assert "exercise functions: solutions" in first, f"{path.name}: does not say whose code ran"


def test_smoke_run_finds_every_earlier_exercise_a_lesson_needs(smoke_run):
    """Issue 16: with the solutions, each lesson's check of earlier exercises says ok, one line each."""
    _, out = smoke_run
    for path in lessons.find_lessons():
        nb = nbformat.read(out / path.name, as_version=4)
        for cell in (c for c in nb.cells if c.cell_type == "code" and "check_earlier(" in c.source):
            printed = "".join(o.get("text", "") for o in cell.outputs).splitlines()
            assert printed and all(": ok" in line for line in printed), (path.name, printed)
            assert [o["data"]["text/plain"] for o in cell.outputs if o.output_type == "execute_result"] == ["True"]


def test_smoke_run_draws_the_pictures(smoke_run):
    _, out = smoke_run
    per_lesson = {}
    for path in lessons.find_lessons():
        nb = nbformat.read(out / path.name, as_version=4)
        per_lesson[path.stem] = sum("image/png" in o.get("data", {})
                                    for c in nb.cells for o in c.get("outputs", []))
    assert sum(per_lesson.values()) >= 28, per_lesson
    for name, count in per_lesson.items():
        if not name.startswith("00"):                     # lesson 00 is the set-up, no pictures
            assert count >= 1, f"{name}: no picture"


def test_check_cells_pass_in_a_solutions_run(smoke_run):
    """With SSD_COURSE_IMPL=solutions the check cells must check the solutions and pass.

    Needs `autograder.check` to honour SSD_COURSE_IMPL (it checks ssd_course/exercises/,
    the stubs, otherwise): see the lessons engineer's report.
    """
    _, out = smoke_run
    checked = set()
    for path in lessons.find_lessons():
        nb = nbformat.read(out / path.name, as_version=4)
        for cell in nb.cells:
            module = cell.metadata.get("ssd_course", {}).get("exercise")
            if module:
                checked.add(module)
                result = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
                printed = "".join(o.get("text", "") for o in cell.outputs)
                assert f"{module} (" in printed, f"{path.name}: no check table for {module}"
                assert result and result[0]["data"]["text/plain"] == "True", \
                    f"{path.name}: check({module!r}) did not pass in a solutions run:\n{printed[-600:]}"
    assert checked == {e.module for e in registry.EXERCISES}


def _notebook(folder, name, sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / name)


def test_a_failing_cell_is_named_and_the_run_exits_1(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _notebook(src, "00_fine.ipynb", ["import os\nprint(os.environ['SSD_COURSE_IMPL'], "
                                     "os.environ['SSD_COURSE_SMOKE'])"])
    _notebook(src, "01_broken.ipynb", ["x = 1", "raise ValueError('boom in cell one')", "print('never')"])
    proc = _run(tmp_path / "out", "--lessons", src, "--no-html", "--impl", "student", timeout=300)
    assert proc.returncode == 1
    assert "00_fine: ok" in proc.stdout
    assert "01_broken: error" in proc.stdout and "cell 1: ValueError: boom in cell one" in proc.stdout
    assert "1/2 ok" in proc.stdout
    fine = nbformat.read(tmp_path / "out" / "00_fine.ipynb", as_version=4)
    assert fine.cells[0].outputs[0]["text"].split() == ["student", "0"]   # the kernel saw the settings
    broken = nbformat.read(tmp_path / "out" / "01_broken.ipynb", as_version=4)
    assert lessons.error_cells(broken) == [1] and broken.cells[2].execution_count is None


def test_all_cells_runs_on_past_an_error_and_still_reports_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _notebook(src, "01_broken.ipynb", ["raise NotImplementedError('not written yet')", "print('still runs')"])
    proc = _run(tmp_path / "out", "--lessons", src, "--no-html", "--all-cells", timeout=300)
    assert proc.returncode == 1
    assert "01_broken: error" in proc.stdout and "cell 0: NotImplementedError: not written yet" in proc.stdout
    nb = nbformat.read(tmp_path / "out" / "01_broken.ipynb", as_version=4)
    assert lessons.error_cells(nb) == [0] and nb.cells[1].outputs[0]["text"] == "still runs\n"


def test_stderr_in_a_cell_is_reported(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _notebook(src, "00_noisy.ipynb", ["import sys", "sys.stderr.write('careful\\n')"])
    proc = _run(tmp_path / "out", "--lessons", src, "--no-html", timeout=300)
    assert proc.returncode == 0
    assert "00_noisy: ok" in proc.stdout and "stderr in cell(s) 1" in proc.stdout


def test_unknown_lesson_is_a_clear_error(tmp_path):
    proc = _run(tmp_path, "--only", "42", timeout=120)
    assert proc.returncode == 2 and "no lesson 42" in proc.stdout


def test_each_lesson_kernel_is_stopped_when_its_lesson_ends(tmp_path):
    """A kernel per lesson, each gone when its lesson is done (they hold trained models)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        _notebook(src, name, ["import os\nprint(os.getpid())"])
    pids = []
    for path in sorted(src.glob("*.ipynb")):
        result = lessons.run_lesson(path, tmp_path / "out", html=False)
        assert result.status == "ok"
        assert result.cpu_seconds and result.cpu_seconds > 0.1      # the kernel exited and was reaped
        nb = nbformat.read(tmp_path / "out" / path.name, as_version=4)
        pids.append(int(nb.cells[0].outputs[0]["text"]))
    assert pids[0] != pids[1] and os.getpid() not in pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_stopped_run_stops_its_kernel(tmp_path, sig):
    """Ctrl-C, or `kill` as a CI timeout sends, ends the run and the lesson's kernel with it."""
    src, pidfile = tmp_path / "src", tmp_path / "kernel.pid"
    src.mkdir()
    _notebook(src, "00_slow.ipynb", [f"import os\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))",
                                     "import time\ntime.sleep(120)"])
    proc = subprocess.Popen(CLI + [str(tmp_path / "out"), "--lessons", str(src), "--no-html"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, "the kernel never started"
        time.sleep(0.2)
    kernel = int(pidfile.read_text())
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 130
    assert "00_slow: interrupted" in proc.stdout.read()
    for _ in range(50):                                   # the kernel is shut down, not orphaned
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(kernel, signal.SIGKILL)
        pytest.fail("the kernel outlived the run")
