"""The autograder on a corpus of made-up submissions (issue 4): alternatives, mistakes, hostile code.

Each grading covers six exercises at once; see tests/corpus/README.md for what
each submission holds.
"""
import os
import re
import socket
import threading

import pytest

from autograder import api, cases
from autograder.sandbox import Limits
from corpus.build import make_submission
from ssd_course.impl import repo_root

FULL = {"flatten_conv": 14, "anchors": 14, "jaccard": 23, "matching": 16, "focal_loss": 16, "nms": 20}


def scores(result):
    return {e.module: e.score for e in result.exercises}


def by_module(result):
    return {e.module: e for e in result.exercises}


def hints_of(ex):
    return {o.hint for o in ex.outcomes if not o.passed and o.hint}


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    def grade(name, fill=None, **kwargs):
        root = make_submission(name, tmp_path_factory.mktemp(name), fill)
        return api.grade(root, **kwargs)
    return grade


@pytest.mark.parametrize("name", ["loops", "libs"])
def test_correct_alternatives_get_full_marks(grade, name):
    result = grade(name)
    failed = [f"{o.title}: {o.message()}" for o in result.outcomes if not o.passed]
    assert failed == [] and result.score == result.max_score
    assert {e.module: e.max_score for e in result.exercises} == FULL
    if name == "loops":  # its focal loss warns and its nms prints: shown, and free
        ex = by_module(result)
        assert "a warning from correct code costs nothing" in ex["focal_loss"].output
        assert "nms of 4 boxes" in ex["nms"].output


# exercise -> (hint that must be shown, most points the mistake may keep)
MISTAKES = {
    "mistakes_a": {"jaccard": ("transposed", 6), "anchors": ("blog_transposed", 2),
                   "matching": ("forced_missing", 4), "focal_loss": ("background_kept", 0),
                   "nms": ("suppress_at_threshold", 18), "flatten_conv": ("column_major", 2)},
    "mistakes_b": {"jaccard": ("plus_one", 8), "anchors": ("loops_swapped", 11),
                   "matching": ("first_wins", 11), "focal_loss": ("alpha_swapped", 4),
                   "nms": ("keep_count", 0), "flatten_conv": ("view_not_contiguous", 5)},
    "mistakes_c": {"jaccard": ("xywh", 10), "anchors": ("grid_sizes_flat", 0),
                   "matching": ("forced_idx_missing", 8), "focal_loss": ("not_scalar", 0),
                   "nms": ("top_k_ignored", 18), "flatten_conv": ("anchor_minor", 2)},
    "mistakes_d": {"matching": ("modified_input", 0), "focal_loss": ("log_underflow", 15)},
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_loses_points_and_shows_its_hint(grade, name):
    result = by_module(grade(name))
    for module, (hint, most) in MISTAKES[name].items():
        ex = result[module]
        assert ex.score <= most < FULL[module], (module, ex.score)
        assert cases.hint(module, hint) in hints_of(ex), (module, hints_of(ex))


def test_the_large_iou_case_diagnoses_mistakes_too(grade):
    ex = by_module(grade("mistakes_b"))["jaccard"]              # the +1 pixel convention
    big = next(o for o in ex.outcomes if "2000 x 2000" in o.title)
    assert not big.passed and big.hint == cases.mistakes("jaccard")["plus_one"].hint


def test_an_argument_changed_in_place_is_named(grade):
    ex = by_module(grade("mistakes_d"))["matching"]
    details = {o.detail for o in ex.outcomes if o.check == "modified input"}
    assert details == {"argument 1 (`overlaps`) was modified by the call"}


def test_hidden_failures_name_the_check_but_never_the_expected_values(grade):
    result = grade("mistakes_a")
    hidden = [o for o in result.outcomes if o.hidden and not o.passed]
    public = [o for o in result.outcomes if not o.hidden and not o.passed]
    assert hidden and public
    assert any("expected 0." in o.detail for o in public)  # public failures show numbers
    for o in hidden:
        assert o.check in ("values", "shape", "type", "dtype", "property", "gradient", "error")
        assert not re.search(r"expected (shape )?[-\d\[]|valid answers \(", o.detail), o.detail
    gradescope = result.gradescope()
    hidden_tests = [t for t in gradescope["tests"] if t["name"].endswith("[hidden]")]
    assert hidden_tests and all(t["visibility"] == "after_published" for t in hidden_tests)


def test_crashes_exits_and_syntax_errors_cost_only_their_exercise(grade):
    result = grade("hostile_a")
    ex = by_module(result)
    assert scores(result) == {**{m: 0 for m in FULL}, "nms": FULL["nms"]}
    assert re.fullmatch(r"syntax error \(flatten_conv\.py, line 1\): .*", ex["flatten_conv"].reason)
    assert ex["anchors"].reason.startswith("importing anchors.py raised RuntimeError: crashes while")
    assert "called sys.exit(3)" in ex["jaccard"].reason
    assert "exited with status 7" in ex["matching"].reason
    assert "segmentation fault" in ex["focal_loss"].reason
    assert all("\n" not in e.reason for e in result.exercises if e.reason)


def test_loops_memory_recursion_and_output_floods_are_contained(grade):
    result = grade("hostile_b", limits=Limits(time_s=10))
    ex = by_module(result)
    assert scores(result) == {**{m: 0 for m in FULL}, "nms": FULL["nms"]}
    assert ex["flatten_conv"].reason.startswith("did not finish within 10 s")
    assert ex["anchors"].reason.startswith("did not finish within 10 s")   # ignores SIGTERM/SIGINT
    assert ex["jaccard"].reason.startswith("ran out of memory (limit 3 GiB)")
    assert ex["matching"].reason.startswith("recursed without end (RecursionError)")
    assert ex["focal_loss"].reason.startswith("printed more than 1024 KB of output")
    assert len(ex["focal_loss"].output) <= Limits.shown_bytes       # captured output is truncated
    assert ex["focal_loss"].output_total > Limits.output_bytes
    # every case, hidden ones included, is labelled with what stopped its exercise
    assert {o.check for o in ex["flatten_conv"].outcomes} == {"timeout"}
    assert {o.check for o in ex["jaccard"].outcomes} == {"crash"}
    assert {o.check for o in ex["focal_loss"].outcomes} == {"crash"}   # flood: not a timeout


@pytest.fixture
def listener():
    """A TCP server on this machine's loopback that records whatever connects."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                seen.append(conn.recv(100))
                conn.close()
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def _processes_with(marker):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def test_cheats_leaks_leftover_processes_network_and_shadowing_are_contained(grade, listener):
    port, seen = listener
    marker = f"ssd-course-test-marker-{os.getpid()}"
    result = grade("hostile_c", {"REPO": repo_root(), "PORT": port, "MARKER": marker})
    ex = by_module(result)
    # patched torch.allclose / __eq__, and an object equal to everything, earn nothing
    assert ex["flatten_conv"].score == 0 and {o.check for o in ex["flatten_conv"].outcomes} == {"values"}
    assert ex["anchors"].score == 0 and {o.check for o in ex["anchors"].outcomes} == {"type"}
    # the rest is correct code doing something on the side: full marks, and nothing escapes
    assert {m: ex[m].score for m in ("jaccard", "focal_loss", "nms")} == \
        {m: FULL[m] for m in ("jaccard", "focal_loss", "nms")}
    # ...except starting processes, which the sandbox refuses outright
    assert ex["matching"].score == 0 and "PermissionError" in ex["matching"].reason
    assert "LEAKED" not in ex["jaccard"].output and "unreadable" not in ex["jaccard"].output
    assert f"nothing at {repo_root()}/solutions/*.py" in ex["jaccard"].output
    assert f"nothing at {repo_root()}/autograder/hidden/*.py" in ex["jaccard"].output
    assert "network: blocked" in ex["focal_loss"].output and seen == []
    assert _processes_with(marker) == []
    assert result.isolation.kind == "bubblewrap"
