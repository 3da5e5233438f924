"""Warm boxes (autograder/warm.py): one box per grade-all worker, one student after another.

A warm box must grade exactly as a fresh box does, and a student graded in it must find
nothing of the student before: not their files, not their processes. The hostile corpus
graded one entry after another in one warm box is in test_autograder_hostile.py (mode
"warm").
"""
import json
import os
import shutil
from pathlib import Path

import pytest

from autograder import api, box, reference, sandbox
from autograder.layout import solutions_submission
from autograder.warm import WarmBox
from corpus.build import make_submission
from ssd_course.impl import solutions_dir

pytestmark = [
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="a warm box needs a root grader"),
]


@pytest.fixture(scope="module")
def warm():
    started = WarmBox(box.choose_isolation("bubblewrap"), sandbox.Limits()).start()
    yield started
    started.close()


@pytest.fixture(scope="module")
def ref():
    return reference.available()


def _with_probe(root, probe: str):
    """`root`'s jaccard.py with `probe` run at import (what it prints is in the report)."""
    path = root / "ssd_course" / "exercises" / "jaccard.py"
    path.write_text(probe + "\n" + (solutions_dir() / "jaccard.py").read_text())
    return root


FIRST = '''
import os as _os
print("FIRST", __import__("json").dumps({"file": __file__, "uid": _os.getuid()}))
'''

# What the next student looks for: the first one's file, the other submissions' folders,
# and any process of a box user but itself.
NEXT = '''
import json as _json, os as _os
def _try(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return type(exc).__name__
def _box_users():
    found = []
    for pid in _os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = int(next(l for l in f if l.startswith("Uid:")).split()[1])
        except (OSError, ValueError, StopIteration):
            continue
        if uid not in (0, _os.getuid()):
            found.append(uid)
    return found
print("NEXT", _json.dumps({"read_first": _try(lambda: open("{{FIRST}}").read()),
                           "list_inbox": _try(lambda: _os.listdir("/tmp/inbox")),
                           "other_users": _box_users(), "tmp": sorted(_os.listdir("/tmp"))}))
'''


def _printed(result, tag):
    ex = next(e for e in result.exercises if e.module == "jaccard")
    line = next(l for l in ex.output.splitlines() if l.startswith(tag + " "))
    return json.loads(line[len(tag) + 1:]), ex


def test_the_next_student_finds_nothing_of_the_one_before(warm, ref, tmp_path):
    first = api.grade(_with_probe(solutions_submission(tmp_path / "a"), FIRST),
                      ["jaccard"], warm=warm, reference=ref)
    seen, ex = _printed(first, "FIRST")
    assert ex.score == ex.max_score and seen["file"].startswith("/tmp/inbox/")
    probe = NEXT.replace("{{FIRST}}", seen["file"])
    after = api.grade(_with_probe(solutions_submission(tmp_path / "b"), probe),
                      ["jaccard"], warm=warm, reference=ref)
    found, ex = _printed(after, "NEXT")
    assert ex.score == ex.max_score
    # the box's /tmp: its own two folders, and the top of a Python installation bound from
    # under /tmp (a clone's .venv there), nothing else
    installed = {Path(r).relative_to("/tmp").parts[0] for r in box.bound_roots()
                 if r.startswith("/tmp/")}
    assert found == {"read_first": "FileNotFoundError", "list_inbox": "PermissionError",
                     "other_users": [], "tmp": sorted({"grader", "inbox"} | installed)}, found
    assert warm.started == 1


def test_a_warm_box_grades_as_a_fresh_box_does(warm, ref, tmp_path):
    root = make_submission("mistakes_a", tmp_path / "m")
    fresh = api.grade(root, isolation="bubblewrap", reference=ref)
    again = api.grade(root, warm=warm, reference=ref)
    outcomes = [[(o.case_id, o.passed, o.detail, o.hint) for o in e.outcomes] for e in fresh.exercises]
    assert [[(o.case_id, o.passed, o.detail, o.hint) for o in e.outcomes] for e in again.exercises] == outcomes
    assert (again.score, again.max_score) == (fresh.score, fresh.max_score)
    assert fresh.score < fresh.max_score              # the entry's mistakes do cost points
    assert "a warm box" in again.isolation.note and "a warm box" not in fresh.isolation.note


def test_a_warm_box_that_died_is_started_again(ref, tmp_path):
    started = WarmBox(box.choose_isolation("bubblewrap"), sandbox.Limits()).start()
    try:
        os.killpg(started.proc.pid, 9)
        started.proc.wait()
        result = api.grade(solutions_submission(tmp_path / "s"), ["nms"], warm=started,
                           reference=ref)
        assert result.score == result.max_score and started.started == 2
    finally:
        started.close()
    assert not started.tmp.exists()
