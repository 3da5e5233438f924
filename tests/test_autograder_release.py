"""`ssd-course release OUT` (issue 4): the student copy, proved free of grader material by content."""
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import cases
from ssd_course import registry
from ssd_course.tools import release
from ssd_course.impl import repo_root, solutions_dir
from ssd_course.tools.stubs import expected_stubs

BEGIN, END = re.compile(r"#\s*=+\s*BEGIN EXERCISE"), re.compile(r"#\s*=+\s*END EXERCISE")


def solution_code_lines():
    """Every code line between the BEGIN/END markers of solutions/, except those the stubs show
    on purpose (in their hints). Read here independently of ssd_course.tools.release."""
    stubs = "\n".join(expected_stubs().values())
    lines = set()
    for path in sorted(solutions_dir().glob("*.py")):
        inside = False
        for line in path.read_text().splitlines():
            if BEGIN.search(line):
                inside = True
            elif END.search(line):
                inside = False
            elif inside and not line.strip().startswith("#"):
                code = line.split("#")[0].strip()
                if len(code) >= 12 and code not in stubs:
                    lines.add(code)
    assert len(lines) > 30
    return lines


def hidden_case_names():
    names = {c.name for e in registry.EXERCISES for c in cases.hidden_cases(e.module)}
    assert len(names) > 30
    return names


def text_files(root):
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


def test_the_release_holds_no_solution_code_and_no_hidden_cases(tmp_path):
    release.write_release(tmp_path / "student")  # refuses (RuntimeError) when anything leaks
    code, names = solution_code_lines(), hidden_case_names()
    for path, text in text_files(tmp_path / "student"):
        leaked = [line for line in code if line in text] + [n for n in names if n in text]
        assert not leaked, (str(path), leaked[:3])
        # only the grader's loaders may name the hidden package (to say it is absent)
        assert "autograder.hidden" not in text or path.name in ("reference.py", "__init__.py") \
            and path.parent.name in ("autograder", "cases"), str(path)


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory):
    """The release as a student gets it (written even where the leak check would refuse it,
    so that what it contains and how it installs are tested on their own)."""
    out = tmp_path_factory.mktemp("release") / "student"
    original = release.leaks
    release.leaks = lambda root: []
    try:
        release.write_release(out)
    finally:
        release.leaks = original
    return out


def test_the_release_has_the_student_files_and_leaves_the_grader_material_out(student_copy):
    names = {p.relative_to(student_copy).as_posix() for p in student_copy.rglob("*") if p.is_file()}
    for must in ("README.md", "pyproject.toml", "environment.yml", "autograder/runner.py",
                 "autograder/child.py", "autograder/seccomp.py", "autograder/box.py",
                 "autograder/cases/jaccard.py", "autograder/cases/public_expected.json",
                 "autograder/cases/public_expected.npz", "ssd_course/exercises/nms.py"):
        assert must in names, must
    assert not [n for n in names if n.startswith(("solutions/", "autograder/hidden/", "tests/"))]
    for rel, text in expected_stubs().items():
        assert (student_copy / rel).read_text() == text       # the exercises are the stubs
    readme = (student_copy / "README.md").read_text()
    assert "python -m venv .venv && .venv/bin/pip install -e '.[lessons]'" in readme and 'check("jaccard")' in readme


def test_the_release_builds_as_a_package_of_its_own(student_copy, tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(student_copy)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("ssd_course-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograder/cases/public_expected.npz" in names and "ssd_course/exercises/jaccard.py" in names
    assert not [n for n in names if n.startswith(("solutions/", "autograder/hidden/"))]
    # The README's one command installs what the lessons import (mAP from lesson 05 on, Jupyter).
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    base = {re.split(r"[=<>;\[ ]", r)[0].lower() for r in requires if "extra ==" not in r}
    lessons_extra = {re.split(r"[=<>;\[ ]", r)[0].lower() for r in requires if "extra == \"lessons\"" in r}
    assert {"torch", "torchvision", "fastai", "torchmetrics", "pycocotools", "matplotlib"} <= base, base
    assert {"jupyter", "ipykernel"} <= lessons_extra, lessons_extra


def test_check_works_in_the_student_copy_from_stored_expectations(student_copy):
    env = {"PYTHONPATH": str(student_copy), "PATH": "/usr/bin:/bin"}
    stubs = subprocess.run([sys.executable, "-m", "ssd_course", "check", "focal_loss"], cwd=student_copy,
                           capture_output=True, text=True, env=env, timeout=300)
    public, hidden = (len(cases.public_cases("focal_loss")), len(cases.hidden_cases("focal_loss")))
    assert stubs.returncode == 1 and f"focal_loss: 0/{public} public cases pass — {hidden} hidden cases " \
        "run at grading" in stubs.stdout, stubs.stdout + stubs.stderr
    for module in ("focal_loss", "nms"):
        text = (solutions_dir() / f"{module}.py").read_text()
        (student_copy / "ssd_course" / "exercises" / f"{module}.py").write_text(text)
    done = subprocess.run([sys.executable, "-m", "ssd_course", "check", "focal_loss", "nms"],
                          cwd=student_copy, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    public, hidden = (len(cases.public_cases("nms")), len(cases.hidden_cases("nms")))
    assert f"nms: {public}/{public} public cases pass — {hidden} hidden cases run at grading" in done.stdout
    assert "all public cases pass" in done.stdout
    hidden = subprocess.run([sys.executable, "-m", "ssd_course", "grade", ".", "--exercise", "nms"],
                            cwd=student_copy, capture_output=True, text=True, env=env, timeout=300)
    assert hidden.returncode == 2 and "no hidden cases" in hidden.stderr


def test_release_refuses_a_folder_that_is_not_empty_and_force_keeps_the_old_one(tmp_path,
                                                                                  monkeypatch):
    out = tmp_path / "student"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--force"):
        release.write_release(out)
    assert (out / "notes.txt").read_text() == "mine"
    cli = subprocess.run([sys.executable, "-m", "ssd_course", "release", str(out)],
                         capture_output=True, text=True, timeout=120, cwd=repo_root())
    assert cli.returncode == 1 and "not empty" in cli.stdout
    monkeypatch.setattr(release, "leaks", lambda root: [])
    notes = release.write_release(out, force=True)
    (old,) = tmp_path.glob("student.old-*")
    assert (old / "notes.txt").read_text() == "mine" and f"moved the old {out}" in notes[0]
    assert (out / "autograder" / "cases" / "public_expected.json").is_file()


def test_the_student_copy_lists_only_student_commands_and_refuses_the_solutions(student_copy):
    env = {**os.environ, "PYTHONPATH": str(student_copy), "SSD_COURSE_IMPL": ""}
    out = subprocess.run([sys.executable, "-m", "ssd_course", "--help"], capture_output=True, text=True,
                         timeout=120, cwd=student_copy, env=env)
    assert out.returncode == 0, out.stderr
    listed = set(re.findall(r"^    (\S+)\s", out.stdout, flags=re.M))
    assert {"check", "data", "demo"} <= listed and not listed & {"grade", "release", "nbgrader", "stubs"}, listed
    out = subprocess.run([sys.executable, "-c", "from ssd_course import impl; print(impl.describe())"],
                         capture_output=True, text=True, timeout=120, cwd=student_copy,
                         env={**env, "SSD_COURSE_IMPL": "solutions"})
    assert out.returncode != 0 and "not part of this copy" in out.stderr and "unset SSD_COURSE_IMPL" in out.stderr
    out = subprocess.run([sys.executable, "-c", "from ssd_course import impl; print(impl.describe())"],
                         capture_output=True, text=True, timeout=120, cwd=student_copy, env=env)
    assert "exercise functions: student" in out.stdout and "solutions" not in out.stdout
