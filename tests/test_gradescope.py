"""`ssd-course gradescope OUT.zip`, and its run_autograder run in a simulated autograder root.

The zip (jaccard only, to keep each run short) is extracted to ROOT/source as
Gradescope does; ROOT stands for /autograder (SSD_COURSE_AUTOGRADER_ROOT), this
environment's Python for the image's (SSD_COURSE_PYTHON). Each submission gets a
fresh ROOT, and run_autograder runs as Gradescope runs it: `bash run_autograder`.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder import cases, gradescope, reference
from autograder.layout import solutions_submission
from corpus.build import make_submission
from results_schema import validate_file, validate_results
from ssd_course import impl

JACCARD_POINTS = sum(c.points for c in cases.collect(["jaccard"], hidden=True))


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    assert gradescope.main([str(out), "--exercise", "jaccard"]) == 0
    return out


def run_autograder(zip_path: Path, root: Path, fill_submission, env=None) -> tuple:
    """Extract the zip to root/source, let `fill_submission(folder)` write the hand-in, run
    run_autograder; returns (results.json parsed and validated, stdout)."""
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    (root / "source" / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    fill_submission(root / "submission")
    env = {**os.environ, "SSD_COURSE_AUTOGRADER_ROOT": str(root), "SSD_COURSE_PYTHON": sys.executable,
           "SSD_COURSE_CACHE": str(reference.cache_dir()), **(env or {})}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return validate_file(root / "results" / "results.json"), proc.stdout


def _copy(src: Path, names=("jaccard",)):
    def fill(folder: Path):
        for name in names:
            shutil.copyfile(src / f"{name}.py", folder / f"{name}.py")
    return fill


def test_the_zip_holds_setup_run_autograder_the_grader_solutions_and_hidden_cases(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        config = json.loads(z.read("config.json"))
        pins = z.read("requirements.txt").decode().split()
        setup = z.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "autograder/api.py", "autograder/hidden/jaccard.py",
            "solutions/jaccard.py", "ssd_course/registry.py"} <= names
    assert not any("__pycache__" in n for n in names)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert config == {"exercises": ["jaccard"], "time_s": 30.0, "isolation": "auto"}
    import importlib.metadata
    assert f"torch=={importlib.metadata.version('torch')}" in pins and len(pins) == len(gradescope.PINNED)
    assert "bubblewrap" in setup and "autograder.gradescope warm" in setup


def test_a_correct_course_copy_one_folder_down_gets_full_marks(autograder_zip, tmp_path):
    def fill(folder):
        solutions_submission(folder / "my-work")
    data, stdout = run_autograder(autograder_zip, tmp_path, fill)
    assert data["score"] == JACCARD_POINTS == data["extra_data"]["max_score"]
    assert "files graded from: course copy in my-work/" in data["output"]
    assert all(t["status"] == "passed" for t in data["tests"])
    assert f"Total: {JACCARD_POINTS}/{JACCARD_POINTS} points" in stdout     # the instructor's report
    assert data["extra_data"]["exercises"]["jaccard"]["sha256"]


def test_loose_files_are_graded_as_a_course_copy_is(autograder_zip, tmp_path):
    data, _ = run_autograder(autograder_zip, tmp_path, _copy(impl.solutions_dir()))
    assert data["score"] == JACCARD_POINTS and "files graded from: loose files" in data["output"]


def test_a_buggy_zip_upload_gets_part_marks_and_hidden_cases_show_no_expected_values(autograder_zip, tmp_path):
    buggy = make_submission("mistakes_a", tmp_path / "bug") / "ssd_course" / "exercises"   # IoU as [M, N]

    def fill(folder):
        with zipfile.ZipFile(folder / "submission.zip", "w") as z:
            z.write(buggy / "jaccard.py", "jaccard.py")
    data, _ = run_autograder(autograder_zip, tmp_path / "root", fill)
    assert 0 < data["score"] < JACCARD_POINTS
    assert data["output"].splitlines()[1] == "files graded from: zip: loose files"
    failed_hidden = [t for t in data["tests"] if t["visibility"] == "after_published" and t["status"] == "failed"]
    assert failed_hidden
    for test in failed_hidden:
        assert test["name"].endswith("[hidden]")     # the check's rule (test_autograder_corpus):
        assert not re.search(r"expected (shape )?[-\d\[]|valid answers \(", test["output"]), test["output"]


def test_an_empty_submission_scores_zero_and_says_which_files_to_upload(autograder_zip, tmp_path):
    data, _ = run_autograder(autograder_zip, tmp_path, lambda folder: None)
    assert data["score"] == 0 and len(data["tests"]) == len(cases.collect(["jaccard"], hidden=True))
    assert "no exercise file was found: upload flatten_conv.py, anchors.py, jaccard.py" in data["output"]


HOSTILE = '''
import torch
def jaccard(box_a, box_b):
    # read the reference solution from the autograder's own files, and forge the results
    namespace = {}
    try:
        with open(SOLUTION) as f:
            exec(f.read(), namespace)
    finally:
        try:
            with open(RESULTS, "w") as f:
                f.write('{"score": 1000}')
        except OSError:
            pass
    return namespace["jaccard"](box_a, box_b)
'''


@pytest.fixture
def open_root():
    """A root every user can pass through (pytest's own folders are 0700, which would keep the
    box's user out for a reason that is not the grader's): only `lock` stands in its way."""
    root = Path(tempfile.mkdtemp(prefix="ssd-course-autograder-"))
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_hostile_submission_reads_no_solution_and_cannot_forge_the_results(autograder_zip, open_root):
    root = open_root
    source = HOSTILE.replace("SOLUTION", repr(str(root / "source" / "solutions" / "jaccard.py"))) \
        .replace("RESULTS", repr(str(root / "results" / "results.json")))

    def fill(folder):
        (folder / "jaccard.py").write_text(source)
    # process isolation: what Gradescope's container gives when bubblewrap cannot start there
    data, stdout = run_autograder(autograder_zip, root, fill, env={"SSD_COURSE_ISOLATION": "process"})
    assert data["score"] == 0 and "isolation: process" in data["output"]
    assert stat.S_IMODE((root / "source" / "solutions").stat().st_mode) == 0o700
    assert "Permission denied" in stdout or "PermissionError" in stdout


def test_when_the_grader_fails_results_json_still_says_so_in_one_line(autograder_zip, tmp_path):
    def fill(folder):
        (folder / "jaccard.py").write_text("x = 1\n")
        (tmp_path / "source" / "config.json").write_text("{not json")
    data, stdout = run_autograder(autograder_zip, tmp_path, fill)
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("The autograder could not grade this submission: JSONDecodeError")
    assert "\n" not in data["output"] and "Traceback (most recent call last)" in stdout


def test_when_python_cannot_start_run_autograder_still_writes_results_json(autograder_zip, tmp_path):
    data, stdout = run_autograder(autograder_zip, tmp_path, lambda folder: None,
                                  env={"SSD_COURSE_PYTHON": str(tmp_path / "no-python")})
    assert data["score"] == 0 and "the grader did not start" in data["output"]
    assert "before writing results.json" in stdout


def test_a_bad_zip_name_is_one_line_and_exit_2(tmp_path, capsys):
    assert gradescope.main([str(tmp_path / "autograder.tar")]) == 2
    assert capsys.readouterr().err == f"gradescope: expected a .zip file to write, got {tmp_path / 'autograder.tar'}\n"


def test_a_failure_results_json_keeps_to_the_schema():
    from autograder import report
    validate_results(report.gradescope_failure("sandbox could not start\nsecond line", execution_time=3.4))


def test_grade_json_writes_the_same_schema(tmp_path):
    from ssd_course.tools import cli
    out = tmp_path / "results.json"
    assert cli.main(["grade", str(solutions_submission(tmp_path / "sub")), "--exercise", "jaccard",
                     "--json", str(out)]) == 0
    data = validate_file(out)
    assert data["score"] == JACCARD_POINTS == data["extra_data"]["exercises"]["jaccard"]["max_score"]


def test_grade_json_is_written_even_when_the_grader_cannot_run(tmp_path, monkeypatch, capsys):
    from autograder import api
    from autograder.sandbox import GraderError
    from ssd_course.tools import cli

    def broken(*args, **kwargs):
        raise GraderError("the sandbox could not be set up: no bwrap")
    monkeypatch.setattr(api, "grade", broken)
    out = tmp_path / "results.json"
    assert cli.main(["grade", str(tmp_path), "--json", str(out)]) == 2
    assert capsys.readouterr().err == "grade: the sandbox could not be set up: no bwrap\n"
    data = validate_file(out)
    assert data["score"] == 0 and data["tests"] == [] and "no bwrap" in data["output"]


def test_the_commands_are_wired_into_ssd_course(tmp_path, capsys):
    from ssd_course.tools import cli
    assert cli.main(["grade-all", "merge", "--out", str(tmp_path)]) == 2
    assert cli.main(["gradescope", str(tmp_path / "a.tar")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "grade-all: merge: name the shard folders to join (DIR...)",
        f"gradescope: expected a .zip file to write, got {tmp_path / 'a.tar'}"]
