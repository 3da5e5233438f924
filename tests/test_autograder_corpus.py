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

FULL = {m: sum(c.points for c in cases.collect([m], hidden=True))
        for m in ("flatten_conv", "anchors", "jaccard", "matching", "focal_loss", "nms")}


def scores(result):
    return {e.module: e.score for e in result.exercises}


def by_module(result):
    return {e.module: e for e in result.exercises}


def hints_of(ex):
    return {o.hint for o in ex.outcomes if not o.passed and o.hint}


@pytest.fixture(scope="module")
def grade(tmp_path_factory, warm_box):
    """Grade a corpus entry in the session's warm box (a fresh box where none can be had)."""
    def grade(name, fill=None, **kwargs):
        root = make_submission(name, tmp_path_factory.mktemp(name), fill)
        return api.grade(root, warm=warm_box, **kwargs)
    return grade


@pytest.fixture(scope="module")
def graded(grade):
    """Each corpus submission graded once (public and hidden cases), for the tests that read it."""
    done = {}

    def graded(name):
        if name not in done:
            done[name] = grade(name)
        return done[name]
    return graded


CORRECT = ["loops", "libs", "twins_h"]


@pytest.mark.parametrize("name", CORRECT)
def test_correct_alternatives_get_full_marks(graded, name):
    result = graded(name)
    failed = [f"{o.title}: {o.message()}" for o in result.outcomes if not o.passed]
    assert failed == [] and result.score == result.max_score
    assert {e.module: e.max_score for e in result.exercises} == FULL
    assert not any(o.slip for o in result.outcomes)
    if name == "loops":  # its focal loss warns and its nms prints: shown, and free
        ex = by_module(result)
        assert "a warning from correct code costs nothing" in ex["focal_loss"].output
        assert "nms of 4 boxes" in ex["nms"].output


# folder -> exercise -> (the mistakes it has, whose hints may be shown; most points it may keep)
MISTAKES = {
    "mistakes_a": {"jaccard": (("transposed",), 8), "anchors": (("blog_transposed",), 2),
                   "matching": (("forced_missing",), 0), "focal_loss": (("background_kept",), 0),
                   "nms": (("suppress_at_threshold", "nan_drops_empty"), 28),
                   "flatten_conv": (("column_major",), 1)},
    "mistakes_b": {"jaccard": (("plus_one",), 0), "anchors": (("loops_swapped",), 10),
                   "matching": (("first_wins",), 12), "focal_loss": (("alpha_swapped",), 2),
                   "nms": (("keep_count",), 0), "flatten_conv": (("view_not_contiguous",), 4)},
    "mistakes_c": {"jaccard": (("xywh",), 10), "anchors": (("grid_sizes_flat",), 14),
                   "matching": (("forced_idx_missing",), 9), "focal_loss": (("not_scalar",), 19),
                   "nms": (("top_k_ignored",), 30), "flatten_conv": (("anchor_minor",), 2)},
    "mistakes_d": {"matching": (("modified_input", "first_wins"), 0),
                   "focal_loss": (("log_underflow",), 19)},
    "mistakes_e": {"jaccard": (("union_eps",), 27), "nms": (("union_eps",), 33),
                   "flatten_conv": (("batch_folded",), 3), "anchors": (("d2l_shapes",), 10)},
    "mistakes_f": {"jaccard": (("float64_result",), 26), "nms": (("nan_drops_empty",), 32),
                   "flatten_conv": (("anchor_major",), 3), "anchors": (("clipped",), 9),
                   "focal_loss": (("not_scalar",), 19)},
    "mistakes_g": {"anchors": (("float64_result",), 14), "jaccard": (("union_eps",), 29),
                   "nms": (("half_kernel", "int_boxes"), 29)},
}
# What a mistake's implementation may also get, truthfully: these submissions compute float16
# in float16, so pixel-sized float16 boxes overflow there as well.
ALSO_TRUE = {"jaccard": {"half_overflow"}}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_known_mistake_loses_points_and_shows_its_hint(graded, name):
    result = by_module(graded(name))
    for module, (names, most) in MISTAKES[name].items():
        ex = result[module]
        assert ex.score <= most < FULL[module], (module, ex.score)
        assert cases.hint(module, names[0]) in hints_of(ex), (module, hints_of(ex))


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_no_hint_names_a_mistake_the_submission_does_not_make(graded, name):
    """The no-misdiagnosis rule on the corpus: every hint shown is one of the submission's own
    mistakes (or a truthful extra), never another's."""
    for module, (names, _) in MISTAKES[name].items():
        ex = by_module(graded(name))[module]
        shown = {o.hint_name for o in ex.outcomes if not o.passed and o.hint_name}
        assert shown <= set(names) | ALSO_TRUE.get(module, set()), (module, shown)


@pytest.mark.parametrize("name", ["trivial_zeros", "trivial_ones", "trivial_input", "trivial_empty"])
def test_trivial_answers_score_zero_in_every_exercise(graded, name):
    result = graded(name)
    assert scores(result) == {m: 0 for m in FULL}
    passed_edges = [o for o in result.outcomes if o.passed and o.edge]
    assert all(o.withheld and o.score == 0 for o in passed_edges)
    if name == "trivial_zeros":   # zeros pass jaccard's disjoint, touching and empty cases...
        assert len([o for o in passed_edges if o.exercise == "jaccard"]) >= 6   # ...for nothing


def test_a_slip_in_one_detail_costs_only_the_cases_about_it_and_is_said_once(graded):
    result = graded("mistakes_g")
    anchors = by_module(result)["anchors"]              # grid_sizes float64, every value right
    failed = [o for o in anchors.outcomes if not o.passed]
    about = next(c for c in cases.collect(["anchors"], hidden=True) if c.id == failed[0].case_id).about
    assert [o.check for o in failed] == ["dtype"] and "dtype" in about
    assert anchors.score == FULL["anchors"] - failed[0].points
    report = result.report()
    block = report[report.index("anchors:"):report.index("jaccard:")]
    assert block.count("grid_sizes: dtype float64 where the contract says float32") == 1
    assert block.index("slip (noted once)") < block.index("  PASS  ")      # at the top
    jaccard = by_module(graded("mistakes_f"))["jaccard"]  # float64 results for float32 boxes
    about = [o for o in jaccard.outcomes if "dtype" in next(c for c in cases.collect(["jaccard"], hidden=True)
                                                             if c.id == o.case_id).about]
    assert {o.case_id for o in jaccard.outcomes if not o.passed} <= {o.case_id for o in about}
    assert sum(not o.passed for o in jaccard.outcomes) >= 3


def test_corpus_table_every_mistake_caught_and_mostly_named(graded, capsys):
    """The table of the closing note: per mistake, caught (points lost) and the share of its
    failing cases whose hint names it."""
    rows, own = [], []
    for name, exercises in sorted(MISTAKES.items()):
        result = by_module(graded(name))
        for module, (names, _) in exercises.items():
            ex = result[module]
            failing = [o for o in ex.outcomes if not o.passed]
            for mistake in names:
                named = sum(o.hint_name == mistake for o in failing)
                rows.append((f"{name}/{module}: {mistake}", ex.score < ex.max_score, named, len(failing)))
            own.append((f"{name}/{module}", sum(o.hint_name in names for o in failing) / len(failing)))
    with capsys.disabled():
        print("\n| mistake | caught | failing cases whose hint names it |\n| --- | --- | --- |")
        for what, caught, named, n in rows:
            print(f"| {what} | {'yes' if caught else 'no'} | {named}/{n} ({named / n:.0%}) |")
    assert all(caught and named for _, caught, named, _ in rows), rows
    assert all(share >= 0.5 for _, share in own), own


def test_the_large_iou_case_diagnoses_mistakes_too(graded):
    ex = by_module(graded("mistakes_b"))["jaccard"]              # the +1 pixel convention
    big = next(o for o in ex.outcomes if "2000 x 2000" in o.title)
    assert not big.passed and big.hint == cases.mistakes("jaccard")["plus_one"].hint


def test_an_argument_changed_in_place_is_named(graded):
    ex = by_module(graded("mistakes_d"))["matching"]
    details = {o.detail for o in ex.outcomes if o.check == "modified input"}
    assert details == {"argument 1 (`overlaps`) was modified by the call"}


def test_hidden_failures_name_the_check_but_never_the_expected_values(graded):
    result = graded("mistakes_a")
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
    assert {m: ex[m].score for m in ("focal_loss", "nms")} == {m: FULL[m] for m in ("focal_loss", "nms")}
    # its jaccard (written before the dtype policy) computes float16 and integer boxes in their
    # own dtype: it loses those cases and only those
    policy = {c.id for c in cases.collect(["jaccard"], hidden=True)
              if any(d in cases.HALF_DTYPES or d.startswith("int") for d in c.input_dtypes)}
    assert {o.case_id for o in ex["jaccard"].outcomes if not o.passed} <= policy
    # ...except starting processes, which the sandbox refuses outright
    assert ex["matching"].score == 0 and "PermissionError" in ex["matching"].reason
    assert "LEAKED" not in ex["jaccard"].output and "unreadable" not in ex["jaccard"].output
    assert f"nothing at {repo_root()}/solutions/*.py" in ex["jaccard"].output
    assert f"nothing at {repo_root()}/autograder/hidden/*.py" in ex["jaccard"].output
    assert "network: blocked" in ex["focal_loss"].output and seen == []
    assert _processes_with(marker) == []
    assert result.isolation.kind == "bubblewrap"


def test_feedback_says_the_diagnosis_first_each_hint_once_then_the_cases(graded):
    from autograder import report, scoring

    result = graded("mistakes_b")
    final, check = report.check_table(result, final=True), result.check_table()
    assert "run the check again" not in final and "run the check again" in check
    assert scoring.WEIGHTING.split(";")[0] in " ".join(final.split())        # the weighting is stated
    block = final[final.index("matching (map_to_ground_truth):"):final.index("matching: ")]
    hint = cases.hint("matching", "first_wins")
    first_case = block.index("\n  PASS  ") if "\n  PASS  " in block else block.index("\n  FAIL  ")
    flat = " ".join(block.split())
    assert flat.count(" ".join(hint.split())) == 1 and block.index("hint: ") < first_case
    assert "values: gt_idx: expected" in flat and "result[1]" not in block
    failing = [o for o in by_module(result)["matching"].outcomes if not o.passed and not o.hidden]
    assert f"it explains {sum(o.hint == hint for o in failing)} failing case(s)" in flat
    assert failing and all(o.inputs.startswith("overlaps=[[") and f"inputs: {o.inputs[:40]}" in flat
                           for o in failing)                  # small public failing cases show inputs
    assert all(len(line) <= report.HINT_WIDTH + 2 for line in block.splitlines()
               if line.lstrip().startswith(("hint:", "inputs:", "it explains")))
    for ex in result.exercises:      # every case title is the exercise's own, as the cases say
        assert all(o.title.startswith(f"{ex.module}: ") for o in ex.outcomes)
