"""The autograder (issue 4): grading, reports, commands, pytest plugin, isolation.

The corpus of made-up submissions is graded in test_autograder_corpus.py and
the student release in test_autograder_release.py.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from autograder import api, cases, hints, reference, verdict
from autograder.bench import grade_line
from autograder.layout import solutions_submission
from corpus.build import make_submission, stubs_submission
from autograder import check
from ssd_course import impl, registry

CLI = [sys.executable, "-m", "ssd_course"]
N_CASES = len(cases.collect(hidden=True))


def _counts(module) -> str:
    n = len(cases.public_cases(module))
    return f"{n}/{n}"


def _points(module) -> int:
    return sum(c.points for c in cases.collect([module], hidden=True))


def _hidden(module) -> int:
    return len(cases.hidden_cases(module))


def run_cli(*args, cwd=None, timeout=300):
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


@pytest.fixture(scope="module")
def solutions_copy(tmp_path_factory):
    return solutions_submission(tmp_path_factory.mktemp("solutions"))


@pytest.fixture(scope="module")
def solutions_graded(solutions_copy):
    return api.grade(solutions_copy)


# --- the cases themselves ------------------------------------------------------------------

def test_every_exercise_has_public_and_hidden_cases_and_public_is_a_strict_subset():
    for ex in registry.EXERCISES:
        public, hidden = cases.public_cases(ex.module), cases.hidden_cases(ex.module)
        assert len(public) >= 6 and len(hidden) >= 6, ex.module
        assert not {c.id for c in public} & {c.id for c in hidden}
        assert all(c.points >= 1 and c.name and c.calls for c in public + hidden)
    everything = cases.collect(hidden=True)
    public_only = cases.collect(hidden=False)
    assert {c.id for c in public_only} < {c.id for c in everything}
    assert len({c.id for c in everything}) == len(everything) == N_CASES


def test_every_mistake_a_case_names_can_be_recognised_and_explained():
    from autograder.hidden import variants

    for case in cases.collect(hidden=True):
        declared = cases.mistakes(case.exercise)
        patterns = {n for _, n in cases.exercise_module(case.exercise).ERROR_PATTERNS}
        for name in case.mistakes:
            mistake = declared[name]
            known = name in variants.of(case.exercise).mistakes or mistake.detect is not None \
                or name in patterns
            assert known and mistake.hint and cases.hint(case.exercise, name) == mistake.hint, \
                (case.id, name)
            assert name not in hints.HINTS, (case.id, name)   # one name, one text


def _a_call():
    return cases.Call((cases.tensor([[0, 0, 1, 1]]), cases.tensor([[0, 0, 2, 2]])))


def test_a_case_naming_a_mistake_or_property_its_exercise_lacks_is_refused_when_built():
    with pytest.raises(ValueError, match=r"case jaccard\.a_case: mistakes \['no_such_mistake'\]"):
        cases.Case("jaccard", "a case", (_a_call(),), mistakes=("transposed", "no_such_mistake"))
    # names belong to one exercise: another's mistake, or a generic hint, is no mistake of jaccard
    for name in ("keep_count", "grad_cut"):
        with pytest.raises(ValueError, match=rf"case jaccard\.a_case: mistakes \['{name}'\]"):
            cases.Case("jaccard", "a case", (_a_call(),), mistakes=(name,))
    with pytest.raises(ValueError, match=r"case jaccard\.a_case: compare='order_invariant' is neither"):
        cases.Case("jaccard", "a case", (_a_call(),), compare="order_invariant")
    case = cases.Case("jaccard", "a case", (_a_call(),), mistakes=("transposed",), compare="symmetric")
    assert case.mistakes == ("transposed",) and case.compare == "symmetric"


def _load_edited(path, old, new):
    """Run a copy of the module at `path` with `old` replaced by `new` (the file is untouched)."""
    import types

    source = path.read_text()
    assert old in source, old
    module = types.ModuleType(f"edited_{path.stem}")
    exec(compile(source.replace(old, new, 1), str(path), "exec"), module.__dict__)
    return module


def test_the_names_in_hidden_modules_are_checked_when_they_load():
    from pathlib import Path
    from autograder.hidden import jaccard, variants

    path = Path(jaccard.__file__)
    assert _load_edited(path, "mistakes=IOU),", "mistakes=IOU),").VARIANTS.mistakes  # the copy loads
    with pytest.raises(ValueError, match=r"case jaccard\.6_x_4_float64_boxes_in_1_1_\w+: mistakes \['plus_two'\]"):
        _load_edited(path, "mistakes=IOU),", 'mistakes=IOU + ("plus_two",)),')
    with pytest.raises(ValueError, match=r"implements mistakes \['plus_two'\] that .* does not declare"):
        _load_edited(path, '"plus_one": lambda', '"plus_two": lambda')
    with pytest.raises(ValueError, match=r"declares mistakes \['plus_one'\] that neither"):
        _load_edited(path, '"plus_one": lambda a, b: iou(a, b, plus=1.0),', "")
    with pytest.raises(ValueError, match=r"reference 'torchvison' is neither 'solutions' nor"):
        _load_edited(path, 'reference="torchvision"', 'reference="torchvison"')
    with pytest.raises(ValueError, match=r"alternatives \['plus_one'\] are named like mistakes"):
        variants.Variants("jaccard", [], mistakes=dict(jaccard.VARIANTS.mistakes),
                          alternatives={**jaccard.VARIANTS.alternatives, "plus_one": None})


def test_an_exercise_contributes_its_own_error_patterns():
    view = {"type": "RuntimeError", "message": "view size is not compatible with input tensor's size"}
    cuda = {"type": "RuntimeError", "message": "Found no NVIDIA driver on your system"}
    stub = {"type": "NotImplementedError", "message": "Exercise 5: write it (no .cuda() needed)"}
    assert cases.error_hint("flatten_conv", view) == "view_not_contiguous"
    assert cases.error_hint("focal_loss", cuda) == "cuda_trap"
    assert cases.error_hint("focal_loss", stub) == "not_implemented"   # a stub is a stub
    assert cases.error_hint("jaccard", view) is None and cases.error_hint("nms", cuda) is None
    denied = {"type": "PermissionError", "message": "[Errno 1] Operation not permitted"}
    assert {cases.error_hint(e.module, denied) for e in registry.EXERCISES} == {"sandbox_denied"}


def test_the_generic_grading_modules_name_no_exercise_s_mistake_or_property():
    names = {n for e in registry.EXERCISES
             for n in [*cases.mistakes(e.module), *cases.properties(e.module)]}
    assert {"transposed", "grad_background", "cuda_trap", "symmetric", "order_invariant"} <= names
    for module in ("verdict", "api", "report", "reference", "hints"):
        text = (impl.repo_root() / "autograder" / f"{module}.py").read_text()
        assert [n for n in sorted(names) if re.search(rf"\b_?{n}\b", text)] == [], module


def test_the_cache_key_covers_every_file_the_expectations_come_from():
    import inspect
    from pathlib import Path
    from autograder.hidden import variants

    sources = set(reference.Cached.sources(impl.solutions_dir()))
    for ex in registry.EXERCISES:
        table = variants.of(ex.module)
        for fn in [*table.mistakes.values(), *table.alternatives.values()]:
            assert Path(inspect.getsourcefile(fn)).resolve() in sources, (ex.module, fn)
        assert Path(cases.exercise_module(ex.module).__file__).resolve() in sources
    assert Path(variants.__file__).resolve() in sources           # OneOf and the shared IoU


def test_the_child_receives_inputs_only_never_expected_values():
    ref = reference.Live(impl.solutions_dir())
    case = next(c for c in cases.public_cases("jaccard") if "2 x 3" in c.name)
    job = json.dumps(case.job())
    assert set(case.job()) == {"id", "calls"}
    assert all(set(call) == {"args", "kwargs", "grad", "time_limit"} for call in case.job()["calls"])
    expected = ref.expect(case)[0]["output"]["array"]
    assert abs(expected[0, 0] - 1 / 7) < 1e-6                 # the 1/7 of the hand-made case...
    assert "0.1428" not in job and "0.25" not in job          # ...never reaches the child


def test_solutions_agree_with_torchvision_wherever_a_case_uses_it():
    ref = reference.Live(impl.solutions_dir())
    tv_cases = [c for c in cases.collect(hidden=True) if c.reference == "torchvision"]
    assert {c.exercise for c in tv_cases} == {"jaccard", "focal_loss", "nms"}
    for case in tv_cases:
        solution = ref.function(case.exercise, "solutions")
        for call, expect in zip(case.calls, ref.expect(case)):
            mine = reference.describe_value(ref._call(solution, call, case)[0])
            assert verdict.agrees(expect["output"], mine, case.tol), case.id


# --- grading ------------------------------------------------------------------------------------

def test_solutions_graded_as_a_submission_get_full_marks(solutions_graded):
    result = solutions_graded
    assert result.score == result.max_score > 0 and result.passed
    assert len(result.outcomes) == N_CASES and result.hidden and result.reference == "live"
    assert result.isolation.kind == "bubblewrap"
    assert "Total: {0}/{0} points".format(result.max_score) in result.report()


def test_the_check_table_of_a_full_grading_counts_and_shows_public_cases_only(solutions_graded):
    table = solutions_graded.check_table()
    for ex in solutions_graded.exercises:
        public = [o for o in ex.outcomes if not o.hidden]
        assert 0 < len(public) < len(ex.outcomes)
        assert f"{ex.module}: {len(public)}/{len(public)} public cases pass" in table
        for o in ex.outcomes:
            if o.hidden:
                assert o.title not in table, o.title


def test_each_exercise_records_the_hash_of_the_bytes_it_graded(solutions_copy, solutions_graded):
    import hashlib
    report, exercises = solutions_graded.report(), solutions_graded.gradescope()["extra_data"]["exercises"]
    for ex in solutions_graded.exercises:
        source = (solutions_copy / "ssd_course" / "exercises" / f"{ex.module}.py").read_bytes()
        assert ex.sha256 == hashlib.sha256(source).hexdigest()
        assert f"graded file: sha256 {ex.sha256}" in report
        assert exercises[ex.module]["sha256"] == ex.sha256


def test_the_gradescope_json_has_the_documented_fields(solutions_graded):
    from results_schema import validate_results
    data = validate_results(json.loads(json.dumps(solutions_graded.gradescope())), written=False)
    extra = data["extra_data"]
    assert data["score"] == extra["max_score"] == solutions_graded.max_score
    assert set(extra["exercises"]) == {e.module for e in registry.EXERCISES}
    assert sum(e["max_score"] for e in extra["exercises"].values()) == extra["max_score"]
    assert len(data["tests"]) == N_CASES
    for test in data["tests"]:
        assert test["status"] == "passed" and test["score"] == test["max_score"]
        assert test["visibility"] == ("after_published" if test["name"].endswith("[hidden]") else "visible")


def test_the_stubs_get_zero_and_one_line_per_exercise(tmp_path):
    result = api.grade(stubs_submission(tmp_path))
    assert result.score == 0 and result.max_score > 0
    for ex in result.exercises:
        assert ex.summary().startswith("every case raised NotImplementedError: Exercise "), ex.summary()
        assert hints.HINTS["not_implemented"] in ex.summary()


def test_grading_is_deterministic(tmp_path):
    root = make_submission("mistakes_b", tmp_path)
    runs = [api.grade(root) for _ in range(3)]
    assert runs[0].verdicts() == runs[1].verdicts() == runs[2].verdicts()
    assert runs[0].report() == runs[1].report() == runs[2].report()
    assert runs[0].gradescope() == runs[1].gradescope() == runs[2].gradescope()
    assert 0 < runs[0].score < runs[0].max_score


def test_a_missing_file_scores_zero_and_never_falls_back_to_an_installed_copy(tmp_path):
    root = solutions_submission(tmp_path)
    (root / "ssd_course" / "exercises" / "nms.py").unlink()
    (root / "ssd_course" / "exercises" / "jaccard.py").unlink()
    (root / "ssd_course" / "exercises" / "jaccard.py").symlink_to(impl.solutions_dir() / "jaccard.py")
    result = api.grade(root, ["nms", "jaccard"])
    reasons = {e.module: e.reason for e in result.exercises}
    assert reasons == {"jaccard": "ssd_course/exercises/jaccard.py is a symbolic link: submit the file itself",
                       "nms": "file not found: ssd_course/exercises/nms.py"}
    assert result.score == 0


@pytest.mark.parametrize("isolation", ["bubblewrap", "process"])
def test_a_child_cannot_signal_the_box_and_costs_only_its_own_exercise(tmp_path, isolation):
    root = solutions_submission(tmp_path)
    (root / "ssd_course" / "exercises" / "nms.py").write_text(
        "import os, signal\n\ndef nms(boxes, scores, overlap=0.5, top_k=100):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n")
    result = api.grade(root, ["jaccard", "nms"], isolation=isolation)
    ex = {e.module: e for e in result.exercises}
    assert ex["jaccard"].score == ex["jaccard"].max_score == _points("jaccard")
    # the kill is refused (seccomp): every case fails with the same error, explained once
    assert ex["nms"].score == 0 and ex["nms"].reason is None
    assert ex["nms"].summary().startswith("every case raised PermissionError: [Errno 1] Operation not permitted")
    assert hints.HINTS["sandbox_denied"] in ex["nms"].summary()


def test_weaker_isolation_still_grades_says_so_and_leaves_no_process(tmp_path):
    marker = f"ssd-course-fallback-marker-{os.getpid()}"
    root = make_submission("hostile_c", tmp_path, {"MARKER": marker})
    result = api.grade(root, ["matching", "nms"], isolation="process")
    ex = {e.module: e for e in result.exercises}
    assert ex["nms"].score == ex["nms"].max_score == _points("nms")   # torch.py / numpy.py shadows did nothing
    # matching.py starts processes when imported: refused, and said why
    assert ex["matching"].score == 0 and "Operation not permitted" in ex["matching"].reason
    assert hints.HINTS["sandbox_denied"] in ex["matching"].reason
    assert result.isolation.kind == "process"
    assert "isolation: plain processes (asked for); a user of its own, no capabilities" in result.report()
    assert "the machine's files and network are not hidden" in result.report()
    leftover = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                leftover += [pid] if marker.encode() in f.read() else []
        except OSError:
            pass
    assert leftover == []


# --- the commands, the notebook call, pytest ---------------------------------------------------

def test_check_in_a_notebook_returns_a_bool_and_writes_nothing_to_stderr(solutions_copy, tmp_path,
                                                                         capfd):
    assert check("nms", submission=solutions_copy) is True
    out, err = capfd.readouterr()
    assert err == ""
    assert f"nms: {_counts('nms')} public cases pass — {_hidden('nms')} hidden cases run at grading" in out
    assert check("make_anchors", submission=stubs_submission(tmp_path)) is False
    out, err = capfd.readouterr()
    assert err == "" and f"anchors: 0/{len(cases.public_cases('anchors'))} public cases pass — " \
        f"{_hidden('anchors')} hidden cases run at grading" in out


def test_ssd_course_check_exits_nonzero_while_a_case_fails(solutions_copy, tmp_path):
    ok = run_cli("check", "jaccard", cwd=solutions_copy)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"jaccard: {_counts('jaccard')} public cases pass — {_hidden('jaccard')} hidden cases run at " \
        "grading" in ok.stdout
    assert re.search(r"^  PASS  each box against itself gives IoU 1 .*  \[1 point\]$", ok.stdout, re.M)
    stubs = run_cli("check", "matching", cwd=stubs_submission(tmp_path))
    assert stubs.returncode == 1 and f"matching: 0/{len(cases.public_cases('matching'))} public cases " \
        "pass" in stubs.stdout


def test_ssd_course_grade_writes_the_report_and_results_json(tmp_path):
    root = make_submission("mistakes_a", tmp_path / "sub")
    out = run_cli("grade", root, "--exercise", "jaccard", "--exercise", "nms",
                  "--json", tmp_path / "out" / "results.json")
    assert out.returncode == 0, out.stderr       # grading completed: 0, whatever the score
    assert "jaccard:" in out.stdout and "nms:" in out.stdout and "flatten_conv:" not in out.stdout
    assert " ".join(cases.mistakes("jaccard")["transposed"].hint.split()) in " ".join(out.stdout.split())
    from results_schema import validate_file
    data = validate_file(tmp_path / "out" / "results.json")
    extra = data["extra_data"]
    assert set(extra["exercises"]) == {"jaccard", "nms"} and 0 < data["score"] < extra["max_score"]
    missing = run_cli("grade", tmp_path / "nowhere")
    assert missing.returncode == 2 and "submission folder not found" in missing.stderr


def test_pytest_on_the_autograder_runs_the_same_grading(tmp_path):
    root = make_submission("mistakes_a", tmp_path)
    result = api.grade(root, ["jaccard", "matching"])
    failed = sum(not o.passed for o in result.outcomes)
    out = subprocess.run([sys.executable, "-m", "pytest", str(impl.repo_root() / "autograder"),
                          "--submission", str(root), "--exercise", "jaccard", "--exercise", "matching",
                          "-q", "-p", "no:cacheprovider", "-rf"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 1, out.stdout[-2000:]
    assert f"{failed} failed, {len(result.outcomes) - failed} passed" in out.stdout
    assert "test_case[jaccard: a 2 x 3 case gives a [2, 3] result" in out.stdout
    assert cases.mistakes("jaccard")["transposed"].hint in out.stdout
    assert f"ssd-course: {result.score}/{result.max_score} points on public and hidden cases" in out.stdout
    public = subprocess.run([sys.executable, "-m", "pytest", str(impl.repo_root() / "autograder"),
                             "--submission", str(root), "--exercise", "jaccard", "--public-only",
                             "-q", "-p", "no:cacheprovider"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "points on public cases only: not a grade, the hidden cases run at grading" in public.stdout


def test_grade_line_reports_both_timings():
    line = grade_line()
    assert re.fullmatch(rf"grade: full grading of solutions/ \(6 exercises, {N_CASES} cases incl\. "
                        r"hidden, (\d+)/\1 points\) \d+\.\d s wall with expected values computed "
                        r"\(grader's own work \d+\.\d s\), \d+\.\d s with them cached \(\d+\.\d s\) "
                        r"\[bubblewrap isolation\]", line), line


# --- issue 13: parity, the dtype policy, diagnosis, slips -------------------------------------

def test_hidden_cases_make_no_kind_of_check_that_no_public_case_makes():
    for ex in registry.EXERCISES:
        assert cases.parity_gaps(ex.module) == {}, ex.module


def test_a_cases_tags_are_read_from_its_own_inputs():
    from autograder.cases.jaccard import pair, small_boxes

    case = cases.Case("jaccard", "tags", (pair(small_boxes(1, 3), [[0, 0, 0, 0]], dtype="float16",
                                               layout="strided"),))
    assert {"dtype:float16", "layout:strided", "units:[-1, 1]", "boxes:small", "boxes:zero-area",
            "positional:0", "positional:1", "about:dtype"} <= case.tags
    assert case.tol == cases.DEFAULT_TOL["float16"]          # half inputs: half tolerance, any result dtype
    pixels = cases.Case("jaccard", "px", (pair([[0, 0, 300, 200]], [[10, 10, 50, 50]]),))
    assert {"units:pixels", "dtype:float32"} <= pixels.tags and not {"boxes:small", "about:dtype"} & pixels.tags
    # a kind only this case has would be a gap against public cases that lack it
    public = set().union(*(c.tags for c in cases.public_cases("jaccard")))
    assert "layout:channels" not in public and {"layout:strided", "dtype:float16"} <= public


def _expect_and_solution_output(module, title_start, transform=None):
    ref = reference.Live(impl.solutions_dir())
    case = next(c for c in cases.collect([module], hidden=True) if c.name.startswith(title_start))
    expect = ref.expect(case)[0]
    out = ref._call(ref.function(module, "solutions"), case.calls[0], case)[0]
    return ref, case, expect, reference.describe_value(transform(out) if transform else out)


def test_a_value_mistake_never_explains_a_dtype_only_failure():
    # a square, symmetric IoU matrix returned in float64: its transpose is itself, so the
    # "transposed" hint would be a mistake the student did not make
    _, case, expect, got = _expect_and_solution_output("jaccard", "each box against itself",
                                                       lambda t: t.double())
    assert verdict.diagnose(case, expect, got, check="dtype") == "float64_result"


def test_a_hint_fires_only_when_its_prediction_is_the_output():
    from autograder.hidden import variants

    ref, case, expect, got = _expect_and_solution_output("jaccard", "small boxes (sides")
    args = [__import__("autograder.values", fromlist=["x"]).build_arg(a) for a in case.calls[0].args]
    plus_one = reference.describe_value(variants.get("jaccard", "plus_one")(*args))
    assert verdict.diagnose(case, expect, plus_one) == "plus_one"
    eps = reference.describe_value(variants.iou(*args, eps=1e-7))
    assert verdict.diagnose(case, expect, eps) == "union_eps"
    noisy = dict(got, array=got["array"] * 0.9)                # wrong, in no known way
    assert verdict.diagnose(case, expect, noisy) is None
    outcome = verdict.evaluate(case, [expect], [{"output": noisy}], [0.0])
    assert not outcome.passed and outcome.hint == "" and "entries differ" in outcome.detail
    assert outcome.inputs.startswith("box_a=[[")                # a small public case shows its inputs


def test_a_slip_is_noted_and_costs_only_the_cases_about_that_detail():
    ref = reference.Live(impl.solutions_dir())
    outcomes = []
    for case in cases.collect(["anchors"], hidden=True):
        expect = ref.expect(case)
        anchors, sizes = ref._call(ref.function("anchors", "solutions"), case.calls[0], case)[0]
        got = reference.describe_value((anchors, sizes.double()))   # grid_sizes in float64
        outcomes.append((case, verdict.evaluate(case, expect, [{"output": got}], [0.0])))
    failed = [c for c, o in outcomes if not o.passed]
    assert failed and all("dtype" in c.about for c in failed)
    assert all(o.passed for c, o in outcomes if "dtype" not in c.about)
    assert {o.slip for c, o in outcomes if o.passed} == {"grid_sizes: dtype float64 where the contract says float32"}
    assert {o.detail for c, o in outcomes if not o.passed} == {"grid_sizes: expected dtype float32, got float64"}


def test_torchvisions_own_box_iou_and_nms_test_data_pass_through_the_reference_as_the_policy_says():
    import numpy as np
    import torch
    from torchvision.ops import box_iou, nms as tv_nms

    from autograder.cases import jaccard as jc, nms as nc

    ref = reference.Live(impl.solutions_dir())
    by_name = {c.name: c for c in cases.collect(["jaccard", "nms"])}
    ints = ref.expect(by_name["torchvision's box_iou test: integer (int64) boxes give float32 IoUs"])[0]
    assert ints["output"]["dtype"] == "float32"
    np.testing.assert_allclose(ints["output"]["array"], jc.TV_INT_EXPECTED, atol=1e-4, rtol=0)
    half = ref.expect(next(c for n, c in by_name.items() if n.startswith("torchvision's box_iou test: float16")))[0]
    assert [o["dtype"] for o in half["output"]["options"]] == ["float32", "float16"]   # both accepted
    for option in half["output"]["options"]:
        assert np.isfinite(option["array"].astype(float)).all()        # no overflow: computed in float32
        np.testing.assert_allclose(option["array"].astype(float), jc.TV_FLOAT_EXPECTED, atol=2e-3, rtol=0)
    # torchvision's float16 nms test: float16 keeps what float32 keeps
    case = next(c for n, c in by_name.items() if n.startswith("torchvision's nms test: float16"))
    boxes, scores = torch.tensor(jc.TV_FLOAT_BOXES), torch.tensor([0.6370, 0.7569, 0.3966])
    assert ref.expect(case)[0]["output"]["array"].tolist() == tv_nms(boxes, scores, 0.2).tolist() == [1]
    # its reference NMS (a loop over box_iou) on the box just above the threshold
    boxes, scores = (torch.tensor(a, dtype=torch.float32) for a in nc.boxes_with_iou(5, 100, 0.5))
    assert box_iou(boxes[:1], boxes[-1:]).item() > 0.5
    picked, order = [], scores.argsort(descending=True)
    while len(order):
        picked.append(order[0].item())
        order = order[1:][box_iou(boxes[order[1:]], boxes[order[0]][None]).squeeze(1) <= 0.5]
    case = next(c for n, c in by_name.items() if n.startswith("torchvision's nms test: a box"))
    assert ref.expect(case)[0]["output"]["array"].tolist() == picked


def test_a_failing_anchors_or_nms_case_has_a_picture_of_what_came_back():
    import matplotlib
    matplotlib.use("Agg")
    from autograder import pictures

    ref = reference.Live(impl.solutions_dir())
    case = next(c for c in cases.public_cases("anchors") if c.name.startswith("a 2x2 grid"))
    expect = ref.expect(case)
    anchors, sizes = ref._call(ref.function("anchors", "solutions"), case.calls[0], case)[0]
    swapped = reference.describe_value((anchors[:, [1, 0, 2, 3]], sizes))      # x taken from the row
    outcome = verdict.evaluate(case, expect, [{"output": swapped}], [0.0])
    assert not outcome.passed and outcome.picture["expected"][0].shape == (4, 4)
    fig = pictures._anchors(outcome.picture)
    assert [len(ax.patches) for ax in fig.axes] == [4, 4]
    assert [t.get_text() for t in fig.axes[1].texts] == ["0", "1", "2", "3"]
    case = next(c for c in cases.public_cases("nms") if c.name.startswith("a cluster"))
    kept_all = reference.describe_value(__import__("torch").arange(4))
    outcome = verdict.evaluate(case, ref.expect(case), [{"output": kept_all}], [0.0])
    fig = pictures._nms(outcome.picture)
    solid = [[p.get_fill() for p in ax.patches] for ax in fig.axes]
    assert solid == [[False, False, True, True], [True, True, True, True]]   # kept: 2 and 3; all came back
    assert verdict.evaluate(case, ref.expect(case), [{"output": reference.describe_value(
        __import__("torch").tensor([2, 3]))}], [0.0]).picture is None      # a passing case has none
