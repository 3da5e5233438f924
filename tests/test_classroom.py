"""`ssd-course grade-all`: a small class graded, killed midway, resumed, sharded and merged.

The class (one exercise, jaccard, to keep the gradings few and short):

    alice/       a course copy of the reference solutions        -> full marks
    bob/         loose files, corpus entry mistakes_b            -> some points
    carol.zip    bob's file one folder down, comments added      -> bob's points; a pair with bob
    dave.zip     a member named ../../escaped/jaccard.py         -> error row, nothing written
    erin/        jaccard.py is a symbolic link to alice's        -> 0 points, a note
    frank.zip    not a zip at all                                -> error row
"""
import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder import box, cases, classroom, layout, similarity
from autograder import grade_all as grade_all_command
from autograder.sheet import write_sheet
from autograder.layout import solutions_submission
from corpus.build import make_submission
from results_schema import validate_file
from ssd_course import impl

REPO = Path(__file__).resolve().parent.parent
EXERCISE = ["--exercise", "jaccard"]
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank"]
JACCARD_MAX = sum(c.points for c in cases.collect(["jaccard"], hidden=True))   # every case's points


def make_class(root: Path) -> Path:
    klass = root / "class"
    solutions_submission(klass / "alice")
    buggy = make_submission("mistakes_a", root / "bob-copy") / "ssd_course" / "exercises" / "jaccard.py"
    (klass / "bob").mkdir()
    (klass / "bob" / "jaccard.py").write_bytes(buggy.read_bytes())
    with zipfile.ZipFile(klass / "carol.zip", "w") as z:
        z.writestr("homework 3/jaccard.py", "# carol's own work, honest\n\n" + buggy.read_text()
                   + "\n\n# end of file\n")
    with zipfile.ZipFile(klass / "dave.zip", "w") as z:
        z.writestr("../../escaped/jaccard.py", "print('escaped')\n")
    (klass / "erin").mkdir()
    (klass / "erin" / "jaccard.py").symlink_to(klass / "alice" / "ssd_course" / "exercises" / "jaccard.py")
    (klass / "frank.zip").write_bytes(b"this is not a zip file")
    (klass / ".DS_Store").write_bytes(b"\0")       # skipped, as every dot-file
    return klass


def sheet(out: Path) -> list:
    """grades.csv's rows without the seconds column (the only cell that is a timing)."""
    with open(out / "grades.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def grade_all(*argv) -> int:
    return grade_all_command.main([str(a) for a in argv])


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("grade-all"))


@pytest.fixture(scope="module")
def resumed(klass, tmp_path_factory):
    """A run killed (SIGKILL, whole process group) once its first student is written, then
    the same command again: (output folder, students kept by the second run)."""
    out = tmp_path_factory.mktemp("resumed") / "out"
    cmd = [sys.executable, "-m", "autograder.grade_all", str(klass), "--out", str(out),
           "--jobs", "1", *EXERCISE]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("students/*/row.json")) and time.monotonic() < deadline:
            assert proc.poll() is None, "grade-all ended before it was killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for _ in range(200):                          # killed: its workers are gone too, not dying
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    kept = len(list(out.glob("students/*/row.json")))
    for folder in (out / "students").iterdir():   # a student's folder is whole or absent
        assert folder.name.startswith(".") or (folder / "row.json").is_file(), folder
    assert grade_all(klass, "--out", out, "--jobs", "1", *EXERCISE) == 0
    assert list((out / "students").glob(".*")) == []    # the killed run's scratch folders are gone
    # and its workers' copies of hand-ins: the resumed run swept them, none is left to sweep
    assert box.sweep_dead(tempfile.gettempdir(), classroom.CLASS_TMP_PREFIX) == 0
    return out, kept


def _descendants(pid: int) -> set:
    """Every process below `pid` now (from /proc)."""
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_grade_all_alone_ends_its_workers_and_their_boxes(klass, tmp_path, sig):
    """The grade-all process alone is killed (as `kill PID` does), not its process group: its
    workers, and the warm boxes they hold, end with it instead of waiting for work forever."""
    cmd = [sys.executable, "-m", "autograder.grade_all", str(klass), "--out", str(tmp_path / "out"),
           "--jobs", "2", *EXERCISE]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, below = time.monotonic() + 300, set()
    while not list((tmp_path / "out").glob("students/*/row.json")) and time.monotonic() < deadline:
        below |= _descendants(proc.pid)
        time.sleep(0.05)
    below |= _descendants(proc.pid)
    os.kill(proc.pid, sig)
    proc.wait()
    for _ in range(200):
        alive = {p for p in below if os.path.exists(f"/proc/{p}")}
        if not alive:
            break
        time.sleep(0.05)
    assert len(below) >= 2 and alive == set(), f"{len(alive)} of {len(below)} processes outlived it"


def test_a_killed_run_resumes_and_grades_only_the_students_it_had_not_written(resumed, klass, capsys):
    out, kept = resumed
    assert 1 <= kept < len(STUDENTS)
    rows = sheet(out)
    assert [r["student"] for r in rows] == STUDENTS
    # once more: every student is kept, nothing is graded again
    assert grade_all(klass, "--out", out, *EXERCISE) == 0
    err = capsys.readouterr().err
    assert f"{len(STUDENTS)} students: 0 to grade, {len(STUDENTS)} already graded" in err
    assert sheet(out) == rows


def test_the_sheet_has_a_row_per_student_with_scores_hashes_and_errors(resumed, klass):
    out, _ = resumed
    rows = {r["student"]: r for r in sheet(out)}
    top = int(rows["alice"]["max"])
    assert top == classroom.max_points(["jaccard"]) == JACCARD_MAX
    assert rows["alice"]["jaccard"] == rows["alice"]["total"] == str(top)
    assert rows["alice"]["layout"] == "course copy" and rows["alice"]["error"] == ""
    source = (klass / "alice" / "ssd_course" / "exercises" / "jaccard.py").read_bytes()
    assert rows["alice"]["jaccard_sha256"] == hashlib.sha256(source).hexdigest()
    assert rows["alice"]["nms"] == rows["alice"]["nms_sha256"] == ""     # not graded in this run
    assert 0 < int(rows["bob"]["total"]) < top and rows["bob"]["layout"] == "loose files"
    assert rows["carol"]["total"] == rows["bob"]["total"]
    assert rows["carol"]["layout"] == "zip: loose files in homework 3/"
    assert rows["carol"]["jaccard_sha256"] != rows["bob"]["jaccard_sha256"]
    assert rows["dave"]["total"] == "0" and "names a path outside the zip" in rows["dave"]["error"]
    assert not (klass.parent / "escaped").exists() and not (out / "escaped").exists()
    assert rows["erin"]["total"] == "0" and rows["erin"]["error"] == ""
    assert "jaccard.py is a symbolic link" in rows["erin"]["notes"]
    assert rows["frank"]["total"] == "0" and "is not a readable zip" in rows["frank"]["error"]
    for student in STUDENTS:
        assert rows[student]["max"] == str(top)
        assert (out / "students" / student / "report.txt").read_text().strip()


def test_every_results_json_keeps_to_gradescopes_schema(resumed):
    out, _ = resumed
    rows = {r["student"]: r for r in sheet(out)}
    for student in STUDENTS:
        data = validate_file(out / "students" / student / "results.json")
        assert data["score"] == int(rows[student]["total"])
        graded = student in ("alice", "bob", "carol", "erin")
        assert len(data["tests"]) == (len(cases.collect(["jaccard"], hidden=True)) if graded else 0)
        assert sum(t["max_score"] for t in data["tests"]) == (JACCARD_MAX if graded else 0)
    failed = json.loads((out / "students" / "frank" / "results.json").read_text())
    assert "is not a readable zip" in failed["output"] and "\n" not in failed["output"]


def test_the_copied_pair_is_in_the_similarity_sheet_and_copies_of_the_handout_are_not(resumed):
    out, _ = resumed
    with open(out / "similarity.csv", newline="") as f:
        pairs = list(csv.DictReader(f))
    # alice's file is the reference solution itself: no pair, whoever else has it
    assert pairs == [{"exercise": "jaccard", "student_a": "bob", "student_b": "carol",
                      "similarity": "1.000", "kind": "same after normalising"}]


def test_two_shards_merged_give_the_same_sheet_as_one_run(resumed, klass, tmp_path):
    out, _ = resumed
    shards = [tmp_path / f"shard-{i}" for i in (1, 2)]
    for i, folder in enumerate(shards, 1):
        assert grade_all(klass, "--out", folder, "--shard", f"{i}/2", "--jobs", "2", *EXERCISE) == 0
    one, two = ({r["student"] for r in sheet(s)} for s in shards)
    assert one and two and not one & two and one | two == set(STUDENTS)
    assert one == {s for s in STUDENTS if classroom.in_shard(s, (1, 2))}   # the same slice each time
    assert grade_all("merge", *shards, "--out", tmp_path / "merged") == 0
    assert sheet(tmp_path / "merged") == sheet(out)
    assert (tmp_path / "merged" / "similarity.csv").read_text() == (out / "similarity.csv").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "expected --jobs N with N >= 1, got '0'"),
    (["--shard", "3/2"], "expected --shard I/N with 1 <= I <= N (e.g. 2/4), got '3/2'"),
    (["--exercise", "jacard"], "unknown exercise 'jacard'"),
    (["--time-limit", "inf"], "expected a positive number of seconds, got 'inf'"),
])
def test_a_bad_option_is_one_line_and_exit_2_before_any_grading(klass, tmp_path, capsys, argv, message):
    assert grade_all(klass, "--out", tmp_path / "out", *argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out" / "students").exists()


def test_bad_folders_are_one_line_and_exit_2(klass, tmp_path, capsys):
    assert grade_all(tmp_path / "missing", "--out", tmp_path / "out") == 2
    assert grade_all(klass, "--out", klass / "results") == 2
    assert grade_all("merge", tmp_path, "--out", tmp_path / "merged") == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"grade-all: submissions folder not found: {tmp_path / 'missing'}",
                   f"grade-all: --out {klass / 'results'} lies inside the submissions folder: put it beside it",
                   f"grade-all: merge: {tmp_path} holds no students/ folder (not a grade-all output)"]


# --- the pieces, without grading -----------------------------------------------------------------

def test_the_folder_with_most_exercise_files_is_chosen_course_copies_first():
    layout_, files, notes = layout.choose(["a/jaccard.py", "hw/ssd_course/exercises/jaccard.py",
                                           "hw/ssd_course/exercises/nms.py", "x/README.md"])
    assert layout_ == "course copy in hw/" and set(files) == {"jaccard", "nms"}
    assert notes == ["exercise files also found in a: not graded"]
    assert layout.choose(["jaccard.py", "ssd_course/exercises/jaccard.py"])[0] == "course copy"
    assert layout.choose([".git/jaccard.py", "__MACOSX/jaccard.py", "notes.txt"]) == ("empty", {}, [])


def test_a_zip_member_is_read_at_most_one_byte_past_the_size_limit(tmp_path):
    big = tmp_path / "bomb.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("jaccard.py", b"#" * (64 << 20))                    # 64 MB that zip to ~64 KB
        info = zipfile.ZipInfo("nms.py")
        info.external_attr = 0o120777 << 16                             # a symbolic link
        z.writestr(info, "/etc/passwd")
    assert big.stat().st_size < 1 << 20
    found = layout.prepare(big, tmp_path / "copy")
    assert len(found.files["jaccard"]) == layout.MAX_SOURCE_BYTES + 1   # api.grade refuses it whole
    assert "nms" not in found.files and found.notes == [
        "nms.py is a symbolic link in the zip: submit the file itself: not graded"]
    assert sorted(p.name for p in (tmp_path / "copy" / "ssd_course" / "exercises").iterdir()) == ["jaccard.py"]


@pytest.mark.parametrize("name", ["/etc/jaccard.py", "a/../../jaccard.py", "C:/jaccard.py"])
def test_a_zip_naming_a_path_outside_itself_is_refused_whole(tmp_path, name):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("jaccard.py", "x = 1\n")
        z.writestr(name, "x = 2\n")
    with pytest.raises(layout.SubmissionError, match="names a path outside the zip"):
        layout.prepare(tmp_path / "evil.zip", tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_shards_are_a_partition_that_does_not_move_when_the_class_grows():
    ids = [f"student{i:03d}" for i in range(300)]
    slices = [{s for s in ids if classroom.in_shard(s, (i, 4))} for i in range(1, 5)]
    assert sum(map(len, slices)) == 300 and set().union(*slices) == set(ids)
    assert all(50 <= len(s) <= 100 for s in slices)          # 75 each on average
    late = [s for s in ids + ["zz-late"] if classroom.in_shard(s, (2, 4))]
    assert set(late) - {"zz-late"} == slices[1]


def test_normalising_removes_comments_layout_docstrings_and_renames():
    a = b'def iou(a, b):\n    """IoU."""\n    inter = a * b  # overlap\n    return inter / (a + b - inter)\n'
    b = b'def my_iou(x,y):\n\n  i=x*y\n  return i/(x+y-i)   # done\n'
    c = b'def iou(a, b):\n    return (a * b) / (a + b)\n'
    assert similarity.tokens(a) == similarity.tokens(b) != similarity.tokens(c)


def test_the_stub_and_the_reference_solution_match_nobody():
    bases = similarity.course_bases()
    stub, solution = bases["jaccard"]
    files = {"ann": {"jaccard": stub}, "ben": {"jaccard": stub},
             "cat": {"jaccard": solution}, "dan": {"jaccard": solution + b"\n# mine\n"}}
    assert similarity.pairs(files, bases) == []
    assert impl.solutions_dir() is not None


def test_the_bench_line_compares_grade_all_with_fresh_boxes_and_separate_grade_calls():
    from autograder.bench import grade_all_line
    line = grade_all_line(n=1, exercises=["jaccard"])
    pattern = (r"grade-all: 1 submissions \(jaccard only\): grade-all --jobs 2 ([\d.]+) s \(([\d.]+) per "
               r"minute\), with --fresh-boxes ([\d.]+) s, 1 separate grade calls ([\d.]+) s; ratios "
               r"([\d.]+)x \(separate\) and ([\d.]+)x \(fresh boxes\); 2 with grade-all ([\d.]+) s: "
               r"([\d.]+) s start-up \+ ([\d.]+) s per submission, 300 in ([\d.]+) min \(extrapolated\)")
    match = re.fullmatch(pattern, line)
    assert match, line
    together, rate, fresh, separate, ratio, fresh_ratio, double, fixed, each, class_min = \
        map(float, match.groups())
    assert rate == pytest.approx(60 / together, rel=0.05)
    assert ratio == pytest.approx(separate / together, rel=0.05)
    assert fresh_ratio == pytest.approx(fresh / together, rel=0.05)
    assert each == pytest.approx(max(double - together, 0), abs=0.1)
    assert fixed == pytest.approx(max(together - each, 0), abs=0.1)
    assert class_min == pytest.approx((fixed + 300 * each) / 60, abs=0.1)


def _fake_grading(entry, options, mark):
    """Stands for grade_student in the workers: the grader's process dies on "boom"."""
    if entry.student == "boom":
        os._exit(9)
    return {"student": entry.student, "total": 1, "max": 1, "error": ""}


def test_a_student_that_kills_the_graders_process_costs_only_its_own_row(tmp_path):
    todo = [(classroom.Entry(s, str(tmp_path / s)), "mark") for s in ("ann", "boom", "cid")]
    options = classroom.Options(str(tmp_path / "out"), ("jaccard",))
    rows = classroom.grade_class(todo, options, jobs=2, work=_fake_grading)
    by_student = {r["student"]: r for r in rows}
    assert sorted(by_student) == ["ann", "boom", "cid"]
    assert by_student["ann"]["total"] == by_student["cid"]["total"] == 1
    assert by_student["boom"]["error"] == "the grader's worker process died while grading this submission"
    assert by_student["boom"]["total"] == 0 and by_student["boom"]["max"] == JACCARD_MAX
    validate_file(tmp_path / "out" / "students" / "boom" / "results.json")


def test_a_student_id_that_would_be_a_spreadsheet_formula_is_written_as_text(tmp_path):
    rows = [{"student": "=HYPERLINK(\"http://x\")", "total": 0, "max": 23, "error": "-bad"}]
    write_sheet(tmp_path / "grades.csv", rows)
    with open(tmp_path / "grades.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["student"] == "'=HYPERLINK(\"http://x\")" and row["error"] == "'-bad" and row["total"] == "0"


def test_a_stored_row_stands_only_for_the_same_hand_in_the_same_exercises_and_no_grader_failure(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "jaccard.py").write_text("x = 1\n")
    before = classroom.fingerprint(tmp_path / "alice")
    options = classroom.Options(str(tmp_path / "out"), ("jaccard",))
    row = {"format": classroom.ROW_FORMAT, "fingerprint": before, "exercises": ["jaccard"], "retry": False}
    assert classroom.is_done(row, before, options)
    (tmp_path / "alice" / "jaccard.py").write_text("x = 22\n")           # a resubmission
    assert classroom.fingerprint(tmp_path / "alice") != before
    assert not classroom.is_done(row, classroom.fingerprint(tmp_path / "alice"), options)
    assert not classroom.is_done(row, before, classroom.Options(str(tmp_path), None))   # all six now
    assert not classroom.is_done({**row, "retry": True}, before, options)  # the sandbox failed last time
    assert not classroom.is_done(None, before, options)


def test_a_later_run_removes_only_the_scratch_folders_of_dead_writers_on_this_machine(tmp_path):
    students = tmp_path / "students"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()          # a pid now gone
    host = box._HOST
    left = [students / f".new-{host}-{dead}-abc", students / f".old-{host}-{dead}-def"]
    kept = [students / f".new-{host}-{os.getpid()}-ghi",      # its writer runs: still writing
            students / f".new-otherhost-{dead}-jkl",          # another machine's shard
            students / "alice"]
    for folder in left + kept:
        (folder / "files").mkdir(parents=True)
    assert classroom.sweep_scratch(tmp_path) == 2
    assert not any(f.exists() for f in left) and all(f.is_dir() for f in kept)
