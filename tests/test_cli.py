"""`ssd-course` from a shell: data make/show, stubs --check, help (issue 2)."""
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest

from ssd_course import data

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
    if data._reachable(urlparse(URLs.PASCAL_2007).hostname, timeout=3) is None:
        pytest.skip("this machine is online: PASCAL 2007 would download")
    start = time.perf_counter()
    out = run("data", "show", "pascal", str(tmp_path / "b.png"), env={"FASTAI_HOME": str(tmp_path / "fastai")})
    elapsed = time.perf_counter() - start
    assert out.returncode == 1 and elapsed < 30
    assert "synthetic" in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_stubs_match_the_solutions():
    out = run("stubs", "--check")
    assert out.returncode == 0 and "up to date" in out.stdout
