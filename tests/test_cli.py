"""`ssd-course` from a shell: data make/show, stubs --check, help (issue 2)."""
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest

from ssd_course import network

CLI = [sys.executable, "-m", "ssd_course"]


def run(*args, env=None, timeout=120):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("data", "demo", "check", "grade", "release", "run-lessons", "nbgrader", "stubs"):
        assert command in out.stdout


def test_data_make_then_show(tmp_path):
    made = run("data", "make", str(tmp_path / "ds"), "--train", "8", "--valid", "4", "--workers", "1")
    assert made.returncode == 0, made.stderr
    assert "writing the synthetic dataset" in made.stdout and "dataset ready" in made.stdout
    raw = json.loads((tmp_path / "ds" / "valid.json").read_text())
    assert len(raw["images"]) == 4
    shown = run("data", "show", str(tmp_path / "ds"), str(tmp_path / "b.png"), "--n", "4", "--size", "64")
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "b.png").stat().st_size > 1000 and "drew 4 images" in shown.stdout


def test_data_show_without_a_dataset_says_how_to_make_one(tmp_path):
    out = run("data", "show", str(tmp_path / "nothing"), str(tmp_path / "b.png"))
    assert out.returncode == 1
    assert "ssd-course data make" in out.stdout


def test_pascal_offline_from_the_shell_fails_within_seconds(tmp_path):
    from fastai.data.external import URLs
    if network.reachable(urlparse(URLs.PASCAL_2007).hostname, timeout=3) is None:
        pytest.skip("this machine is online: PASCAL 2007 would download")
    start = time.perf_counter()
    out = run("data", "show", "pascal", str(tmp_path / "b.png"), env={"FASTAI_HOME": str(tmp_path / "fastai")})
    elapsed = time.perf_counter() - start
    assert out.returncode == 1 and elapsed < 30
    assert "synthetic" in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_stubs_match_the_solutions():
    out = run("stubs", "--check")
    assert out.returncode == 0 and "up to date" in out.stdout


# --- bad options: one line on stderr, exit 2, before any grading (issue 11) ----------------

def assert_refused(out, message):
    """Exit 2 with exactly `message` as the one line on stderr, nothing graded, no traceback."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.splitlines() == [message], out.stderr
    assert "Traceback" not in out.stderr and "Grading" not in out.stdout


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf", "soon"])
def test_grade_refuses_a_time_limit_that_is_not_a_positive_finite_number(tmp_path, value):
    out = run("grade", str(tmp_path), f"--time-limit={value}")
    assert_refused(out, "ssd-course grade: error: argument --time-limit: expected a positive "
                        f"number of seconds, got {value!r}")


def test_check_refuses_a_bad_time_limit_and_bad_jobs(tmp_path):
    assert_refused(run("check", "jaccard", "--time-limit", "0"),
                   "ssd-course check: error: argument --time-limit: expected a positive number "
                   "of seconds, got '0'")
    assert_refused(run("check", "jaccard", "--jobs", "0"),
                   "ssd-course check: error: argument --jobs: expected a whole number >= 1, got '0'")


def test_grade_and_check_refuse_an_unknown_exercise(tmp_path):
    known = "the exercises are: flatten_conv, anchors, jaccard, matching, focal_loss, nms"
    assert_refused(run("grade", str(tmp_path), "--exercise", "iou"),
                   f"ssd-course grade: error: argument --exercise: unknown exercise 'iou'; {known}")
    assert_refused(run("check", "jaccard", "iou"),
                   f"ssd-course check: error: argument EXERCISE: unknown exercise 'iou'; {known}")


def test_grade_refuses_a_json_path_it_cannot_write_before_grading(tmp_path):
    blocker = tmp_path / "results"            # a file where the folder of --json would be
    blocker.write_text("")
    assert_refused(run("grade", str(tmp_path), "--json", str(blocker / "results.json")),
                   f"ssd-course grade: error: argument --json: cannot write {blocker}/results.json: "
                   f"{blocker} is not a folder")
    assert_refused(run("grade", str(tmp_path), "--json", str(tmp_path)),
                   f"ssd-course grade: error: argument --json: {tmp_path} is a folder: name the file to write")
    # /proc takes no new folders, not even from root, whom permission bits do not stop
    assert_refused(run("grade", str(tmp_path), "--json", "/proc/ssd-course-test/results.json"),
                   "ssd-course grade: error: argument --json: cannot write "
                   "/proc/ssd-course-test/results.json (No such file or directory)")
    assert blocker.read_text() == "" and sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_grade_refuses_a_json_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert_refused(run("grade", str(tmp_path), "--json", str(locked / "results.json")),
                   f"ssd-course grade: error: argument --json: cannot write {locked}/results.json "
                   f"(Permission denied)")


def test_grade_refuses_a_submission_that_is_missing_or_not_a_folder(tmp_path):
    assert_refused(run("grade", str(tmp_path / "nowhere")),
                   f"ssd-course grade: error: argument SUBMISSION: submission folder not found: "
                   f"{tmp_path / 'nowhere'}")
    (tmp_path / "sub.zip").write_text("")
    assert_refused(run("grade", str(tmp_path / "sub.zip")),
                   f"ssd-course grade: error: argument SUBMISSION: the submission is not a folder: "
                   f"{tmp_path / 'sub.zip'}")
    assert_refused(run("check", "--submission", str(tmp_path / "nowhere")),
                   f"ssd-course check: error: argument --submission: submission folder not found: "
                   f"{tmp_path / 'nowhere'}")


def test_grade_reads_only_regular_files_with_one_name(tmp_path):
    """What `ssd-course grade` reads of a submission: links and special files give one line, 0 points."""
    from autograder import api

    sub = tmp_path / "sub"
    exercises = sub / "ssd_course" / "exercises"
    exercises.mkdir(parents=True)
    solutions = tmp_path / "solutions"                  # outside the submission, like the instructor's
    solutions.mkdir()
    (solutions / "jaccard.py").write_text("def jaccard(a, b):\n    return 'solution'\n")
    os.link(solutions / "jaccard.py", exercises / "jaccard.py")         # tar and cp -a keep these
    (exercises / "matching.py").symlink_to(solutions / "jaccard.py")
    os.mkfifo(exercises / "nms.py")                     # reading it would block the grader
    (exercises / "anchors.py").mkdir()
    (exercises / "focal_loss.py").write_text("x = 1\n")
    found = {m: api.locate(sub, m) for m in ("jaccard", "matching", "nms", "anchors", "focal_loss",
                                             "flatten_conv")}
    assert found == {
        "jaccard": (None, "ssd_course/exercises/jaccard.py is a hard link: submit the file itself"),
        "matching": (None, "ssd_course/exercises/matching.py is a symbolic link: submit the file itself"),
        "nms": (None, "ssd_course/exercises/nms.py is not a regular file"),
        "anchors": (None, "ssd_course/exercises/anchors.py is not a regular file"),
        "focal_loss": (b"x = 1\n", None),
        "flatten_conv": (None, "file not found: ssd_course/exercises/flatten_conv.py")}
    (solutions / "jaccard.py").unlink()                 # the same file with one name left: graded
    assert api.locate(sub, "jaccard") == (b"def jaccard(a, b):\n    return 'solution'\n", None)
