"""nbgrader, end to end (issue 6): build the course, release it, grade three students, give feedback.

The module fixture runs the real nbgrader commands once (about two minutes on
two cores): `ssd-course nbgrader`, `generate_assignment` for every graded
lesson, three submissions made from the release, `autograde` per lesson for
all three (each student's share timed from nbgrader's log, printed),
`generate_feedback`. The tests then read the gradebook,
the autograded notebooks, the feedback and the release.

    solved  every exercise: the reference solution; jaccard.py imports fastai first,
            whose import warns on stderr
    stubs   the release untouched, plus cheats: a cell that replaces the grading
            function, an autograder/ package of its own beside the notebook
    half    flatten_conv, anchors and focal_loss solved; jaccard without the empty-box
            guard (some cases fail); matching left as the stub; nms.py not submitted
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import nbgrader_cell, nbgrader_preprocessors as pre
from ssd_course import registry
from ssd_course.tools import nbgrader_course, stubs

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LESSONS = ROOT / "lessons"
STUDENTS = ("solved", "stubs", "half")
POINTS = nbgrader_course.POINTS
FASTAI_IMPORT = "from fastai.vision.all import *  # noqa: F401,F403  (warns on stderr when imported)\n"
CHEAT_CELL = ("import autograder.nbgrader_cell as grader\n"
              "grader.score = lambda *args, **kwargs: 10.0\n")
FAKE_GRADER = "def score(*args, **kwargs):\n    return 10.0\n"


def run(cmd, cwd, timeout=600, env=None):
    """Run a command of the venv; fail the test with its output if it fails."""
    proc = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, (f"{' '.join(cmd)} exited {proc.returncode}:\n"
                                  f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def solution(module):
    return (ROOT / "solutions" / f"{module}.py").read_text()


def buggy_jaccard():
    """The reference jaccard without its guard: 0/0 gives NaN for two empty boxes."""
    text = solution("jaccard")
    guarded = "return inter / union.clamp(min=torch.finfo(union.dtype).tiny)"
    assert guarded in text
    return text.replace(guarded, "return inter / union")


def write_submission(course: Path, student: str, assignment: str, modules: list) -> None:
    """submitted/<student>/<assignment>/: the release, then the student's changes."""
    folder = course / "submitted" / student / assignment
    shutil.copytree(course / "release" / assignment, folder)
    for path in folder.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)   # nbgrader releases files read-only
    if student == "solved":
        for module in modules:
            text = solution(module)
            (folder / f"{module}.py").write_text(FASTAI_IMPORT + text if module == "jaccard" else text)
    elif student == "stubs":
        (folder / "autograder").mkdir()
        (folder / "autograder" / "__init__.py").write_text("")
        (folder / "autograder" / "nbgrader_cell.py").write_text(FAKE_GRADER)
        notebook = folder / f"{assignment}.ipynb"
        nb = nbformat.read(notebook, as_version=4)
        first_graded = next(i for i, c in enumerate(nb.cells) if "score(" in c.source
                            and c.metadata.get("nbgrader", {}).get("grade"))
        nb.cells.insert(first_graded, nbformat.v4.new_code_cell(CHEAT_CELL))
        nbformat.write(nb, notebook)
    elif student == "half":
        for module in modules:
            if module in ("flatten_conv", "anchors", "focal_loss"):
                (folder / f"{module}.py").write_text(solution(module))
            elif module == "jaccard":
                (folder / "jaccard.py").write_text(buggy_jaccard())
            elif module == "nms":
                (folder / "nms.py").unlink()


def autograde(course: Path, name: str, env: dict):
    """`nbgrader autograde NAME` for every student at once, timed from nbgrader's log.

    Returns:
        (float, dict): seconds from the command's start to its first student (nbgrader's
        start-up), and {student: seconds from that student's first log line to the next's}.
    """
    start = time.time()
    proc = run(["nbgrader", "autograde", name, "--Application.log_format=%(created)f|%(message)s"],
               cwd=course, env=env)
    end = time.time()
    first = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        match = re.match(rf"(\d+\.\d+)\|.*/(?:submitted|autograded)/([^/]+)/{name}/", line)
        if match:
            first.setdefault(match[2], float(match[1]))
    order = sorted(first, key=first.get)
    assert sorted(order) == sorted(STUDENTS), proc.stderr[-3000:]
    bounds = [first[s] for s in order] + [end]
    return first[order[0]] - start, {s: bounds[i + 1] - bounds[i] for i, s in enumerate(order)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course graded end to end: {"path", "assignments", "seconds" per (student, lesson), "startup" per lesson}."""
    start = time.perf_counter()
    path = tmp_path_factory.mktemp("nbgrader") / "course"
    run(["ssd-course", "nbgrader", str(path), "--lessons", str(LESSONS)], cwd=ROOT)
    assignments = nbgrader_course.graded_lessons(LESSONS)
    run(["nbgrader", "generate_assignment", "*"], cwd=path)
    for student in STUDENTS:
        for name, (_, exercises) in assignments.items():
            write_submission(path, student, name, [ex.module for ex in exercises])
    phases = {"build + generate_assignment": time.perf_counter() - start}
    # A user-level `python3` kernel that cannot start: autograde must use its own Python anyway.
    broken = path.parent / "jupyter" / "kernels" / "python3"
    broken.mkdir(parents=True)
    (broken / "kernel.json").write_text(json.dumps({"argv": ["false", "{connection_file}"],
                                                    "display_name": "broken", "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=str(broken.parent.parent))
    seconds, startup = {}, {}
    for name in assignments:
        startup[name], per_student = autograde(path, name, env)
        for student in STUDENTS:
            seconds[student, name] = per_student[student]
        print(f"autograde {name:<16} start-up {startup[name]:4.1f} s, then "
              + ", ".join(f"{s} {per_student[s]:.1f} s" for s in STUDENTS))
    phases["autograde"] = sum(seconds.values()) + sum(startup.values())
    feedback_start = time.perf_counter()
    run(["nbgrader", "generate_feedback", "*"], cwd=path)
    phases["generate_feedback"] = time.perf_counter() - feedback_start
    print("nbgrader end to end:", ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    return {"path": path, "assignments": {n: [e.module for e in exs] for n, (_, exs) in assignments.items()},
            "seconds": seconds, "startup": startup}


def gradebook(course):
    from nbgrader.api import Gradebook
    return Gradebook(f"sqlite:///{course['path'] / 'gradebook.db'}", course_id=nbgrader_course.COURSE_ID)


def cell_scores(course, student, assignment):
    """{grade_id: (auto_score, max_score)} of one student's graded cells."""
    with gradebook(course) as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.auto_score, g.max_score) for g in nb.grades}


def autograded_notebook(course, student, assignment):
    path = course["path"] / "autograded" / student / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4)


def graded_outputs(nb, module):
    cell = next(c for c in nb.cells if pre.graded_cell_module(c) == module)
    return cell.outputs


# --- the course as built ---------------------------------------------------------------------

def test_every_exercise_has_a_graded_cell_and_a_stub(course):
    path = course["path"]
    assert sorted(m for ms in course["assignments"].values() for m in ms) == \
        sorted(e.module for e in registry.EXERCISES)
    expected = stubs.expected_stubs()
    for name, modules in course["assignments"].items():
        nb = nbformat.read(path / "source" / name / f"{name}.ipynb", as_version=4)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert [pre.graded_cell_module(c) for c in graded] == modules
        for cell in graded:
            meta = cell.metadata.nbgrader
            assert meta["locked"] and meta["points"] == POINTS and cell.source.count("\n") == 0
            assert cell.metadata.editable is False and cell.metadata.deletable is False
        for module in modules:
            stub = (path / "source" / name / f"{module}.py").read_text()
            assert "raise NotImplementedError(" in stub and f"{module}.py, in this assignment's folder" in stub
            # the same code as the course's stub: only the wording of two messages differs
            code = [l for l in stub.splitlines() if not l.lstrip().startswith(("#", '"Exercise'))]
            ref = [l for l in expected[registry.get(module).path].splitlines()
                   if not l.lstrip().startswith(("#", '"Exercise'))]
            assert code == ref


def test_config_excludes_every_exercise_file_from_overwriting(course):
    text = (course["path"] / "nbgrader_config.py").read_text()
    exclude = eval(re.search(r"^c\.Autograde\.exclude_overwriting = (.*)$", text, re.M).group(1))
    assert exclude == {n: [f"{m}.py" for m in ms] for n, ms in course["assignments"].items()}
    assert "c.Execute.timeout = 120" in text and "RunOnlyGradedCells" in text
    assert 'c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]' in text   # zip_collect takes the .py files


def solution_code_lines():
    """Every non-blank line the stubs blank out (read here independently of the builder)."""
    lines = set()
    for ex in registry.EXERCISES:
        inside = False
        for line in (ROOT / "solutions" / f"{ex.module}.py").read_text().splitlines():
            if "# ==== BEGIN EXERCISE" in line:
                inside = True
            elif "# ==== END EXERCISE" in line:
                inside = False
            elif inside and line.strip() and not line.strip().startswith("# HINT:"):
                lines.add(line.strip())
    return lines


def test_no_line_of_solution_code_in_the_release(course):
    secret = solution_code_lines()
    assert len(secret) > 40
    files = [p for p in (course["path"] / "release").rglob("*") if p.is_file()]
    assert len(files) == len(course["assignments"]) + len(registry.EXERCISES)
    for path in files:
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        else:
            text = path.read_text()
        leaked = secret & {l.strip() for l in text.splitlines()}
        assert not leaked, f"{path.relative_to(course['path'])} holds solution code: {sorted(leaked)[:3]}"


# --- grades --------------------------------------------------------------------------------------

def test_gradebook_full_zero_and_between(course):
    total = {}
    with gradebook(course) as gb:
        for student in STUDENTS:
            subs = [gb.find_submission(name, student) for name in course["assignments"]]
            total[student] = (sum(s.score for s in subs), sum(s.max_score for s in subs))
    max_score = POINTS * len(registry.EXERCISES)
    print("gradebook totals:", total)
    assert total["solved"] == (max_score, max_score)
    assert total["stubs"] == (0, max_score)
    assert 0 < total["half"][0] < max_score


def test_partial_credit_inside_one_cell(course):
    name = next(n for n, ms in course["assignments"].items() if "jaccard" in ms)
    scores = cell_scores(course, "half", name)
    jaccard, _ = scores["grade_jaccard"]
    assert 0 < jaccard < POINTS, scores
    assert scores["grade_matching"] == (0, POINTS)
    nb = autograded_notebook(course, "half", name)
    text = "".join(o.get("text", "") for o in graded_outputs(nb, "jaccard"))
    assert "FAIL" in text and "PASS" in text
    value = [o for o in graded_outputs(nb, "jaccard") if o.output_type == "execute_result"]
    assert float(value[0].data["text/plain"]) == jaccard


def test_missing_exercise_file_scores_zero_with_a_message(course):
    name = next(n for n, ms in course["assignments"].items() if "nms" in ms)
    assert cell_scores(course, "half", name)["grade_nms"] == (0, POINTS)
    assert not (course["path"] / "autograded" / "half" / name / "nms.py").exists()
    text = "".join(o.get("text", "") for o in graded_outputs(autograded_notebook(course, "half", name), "nms"))
    assert "0 points: nms.py is not in the submitted folder" in text


def test_fastai_import_in_a_submission_costs_nothing(course):
    name = next(n for n, ms in course["assignments"].items() if "jaccard" in ms)
    assert (course["path"] / "autograded" / "solved" / name / "jaccard.py").read_text().startswith(FASTAI_IMPORT)
    assert cell_scores(course, "solved", name)["grade_jaccard"] == (POINTS, POINTS)
    outputs = graded_outputs(autograded_notebook(course, "solved", name), "jaccard")
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    # the warning did happen: the report shows it among what the student's code printed
    assert "FutureWarning" in "".join(o.get("text", "") for o in outputs)
    assert not [o for o in outputs if o.output_type == "error"]


def test_student_cells_and_shadowing_files_do_not_reach_the_grader(course):
    for name in course["assignments"]:
        folder = course["path"] / "autograded" / "stubs" / name
        assert (course["path"] / "submitted" / "stubs" / name / "autograder").is_dir()
        assert not (folder / "autograder").exists()
        nb = autograded_notebook(course, "stubs", name)
        cheat = [c for c in nb.cells if "grader.score = lambda" in c.source]
        assert len(cheat) == 1 and cheat[0].source.startswith(pre.NOT_RUN) and cheat[0].outputs == []
        # every code cell that ran is a graded cell, and every graded cell ran
        ran = [c for c in nb.cells if c.cell_type == "code" and c.outputs]
        assert [pre.graded_cell_module(c) for c in ran] == course["assignments"][name]
        assert all(s == (0, POINTS) for s in cell_scores(course, "stubs", name).values())


def test_autograde_time_per_student_and_lesson(course):
    """Printed, not asserted: one student and one lesson = nbgrader's start-up + that student's notebook."""
    alone = {key: course["startup"][key[1]] + sec for key, sec in course["seconds"].items()}
    assert len(alone) == len(STUDENTS) * len(course["assignments"])
    worst = max(alone, key=alone.get)
    print(f"autograde, one student and one lesson (start-up + notebook): median "
          f"{sorted(alone.values())[len(alone) // 2]:.1f} s, slowest {alone[worst]:.1f} s "
          f"({worst[1]}, {worst[0]}); goal < 20 s on 2 cores")


# --- feedback ------------------------------------------------------------------------------------

def feedback_text(course, student, name):
    """The text of the feedback page's cells and outputs (no style sheets, no markup)."""
    page = (course["path"] / "feedback" / student / name / f"{name}.html").read_text()
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_the_check_table_and_hides_hidden_values(course):
    name = next(n for n, ms in course["assignments"].items() if "jaccard" in ms)
    text = feedback_text(course, "half", name)
    # the table of `ssd-course check`, with the hint for the known mistake (NaN for empty boxes)
    assert "jaccard (jaccard):" in text and "  PASS  each box against itself" in text
    # the diagnosis first, its hint once, then the failing case with what differs and its inputs
    assert re.search(r"hint: NaN where two empty boxes.*?\n\s+it explains 1 failing case\(s\): 'empty boxes", text, re.S)
    assert re.search(r"FAIL  empty boxes.*\n.*expected 0, got nan.*\n\s*inputs: box_a=\[\[1, 1, 1, 1\]", text)
    assert text.count("hint: NaN where two empty boxes") == 1
    assert "run the check again" not in text                      # a grade, not a check
    assert re.search(r"jaccard: 9\.\d+ / 10 points = 10 x \d+/\d+, the points of the cases passed", text)
    hidden = []
    for student in ("half", "stubs"):
        for block in re.findall(r"hidden cases: \d+/\d+ pass\n(.*?)\n\s*\n", feedback_text(course, student, name),
                                re.S):
            hidden += block.splitlines()
    assert len(hidden) >= 2 * 2 * 3, "expected the hidden cases of two exercises for two students"
    assert any(l.lstrip().startswith("PASS") for l in hidden) and any(l.lstrip().startswith("FAIL") for l in hidden)
    for line in hidden:   # one line per case: its name and, when failed, the kind of check; no values, no hints
        assert re.fullmatch(r"  (PASS  \[hidden\] .+|FAIL  \[hidden\] .+ \([a-z ]+\))", line), line
        assert not re.search(r"expected|got |hint", line), line
    for student in STUDENTS:
        for n in course["assignments"]:
            assert (course["path"] / "feedback" / student / n / f"{n}.html").is_file()


def test_feedback_page_wraps_long_lines(course):
    from autograder.nbgrader_preprocessors import WRAP_CSS

    name = next(n for n, ms in course["assignments"].items() if "jaccard" in ms)
    page = (course["path"] / "feedback" / "half" / name / f"{name}.html").read_text()
    styles = [(m.start(), m.group(1)) for m in re.finditer(r"<style\b[^>]*>(.*?)</style>", page, re.S)]
    ours = [at for at, css in styles if WRAP_CSS in css]
    jupyters = max(styles, key=lambda s: len(s[1]))[0]          # the large inlined Jupyter sheet
    assert len(ours) == 1 and ours[0] > jupyters                # after it: it wins the cascade


# --- pieces, without nbgrader ---------------------------------------------------------------

def test_wrap_feedback_lines_adds_its_rule_after_the_inlined_style_sheets():
    from autograder.nbgrader_preprocessors import WRAP_CSS, WrapFeedbackLines

    _, resources = WrapFeedbackLines().preprocess({}, {"inlining": {"css": ["pre { white-space: pre; }"]}})
    assert resources["inlining"]["css"] == ["pre { white-space: pre; }", WRAP_CSS]
    assert "white-space: pre-wrap" in WRAP_CSS
    from ssd_course.tools.nbgrader_course import config_text
    assert '"autograder.nbgrader_preprocessors.WrapFeedbackLines"' in config_text({})


def test_graded_cell_is_recognised_only_as_generated():
    ex = registry.get("jaccard")
    cell = nbgrader_course.graded_cell(ex, 10)
    assert pre.graded_cell_module(cell) == "jaccard"
    restored = nbformat.from_dict(json.loads(json.dumps(cell)))
    restored.source = "# This cell was missing. It was added back by nbgrader.\n\n" + cell.source
    assert pre.graded_cell_module(restored) == "jaccard"
    for source in (cell.source + "\nprint(1)", cell.source.replace("jaccard", "nms"),
                   "score = lambda *a: 10.0; " + cell.source):
        tampered = nbformat.from_dict(json.loads(json.dumps(cell)))
        tampered.source = source
        assert pre.graded_cell_module(tampered) is None, source
    not_graded = nbformat.from_dict(json.loads(json.dumps(cell)))
    not_graded.metadata.nbgrader["grade"] = False
    assert pre.graded_cell_module(not_graded) is None


def test_run_only_graded_cells_comments_out_the_rest():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1\n%matplotlib inline\n\nprint(x)"),
                nbgrader_course.graded_cell(registry.get("nms"), 10),
                nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell("")]
    pre.RunOnlyGradedCells().preprocess(nb, {})
    assert nb.cells[0].source == pre.NOT_RUN + "# x = 1\n# %matplotlib inline\n#\n# print(x)"
    assert nb.cells[1].source == nbgrader_cell.GRADED_CELL.format(module="nms", points=10)
    assert nb.cells[2].source == "text" and nb.cells[3].source == ""
    assert compile(nb.cells[0].source, "cell", "exec").co_code == compile("", "e", "exec").co_code


def test_assignment_notebook_replaces_check_cells(tmp_path):
    exs = [registry.get("jaccard"), registry.get("matching")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Edit `ssd_course/exercises/jaccard.py` now."),
                nbformat.v4.new_code_cell("import torch"),
                nbformat.v4.new_code_cell('check("jaccard")',
                                          metadata={"tags": ["check"], "ssd_course": {"exercise": "jaccard"}}),
                nbformat.v4.new_code_cell('print("matching")\ncheck("matching")',
                                          metadata={"tags": ["check"], "ssd_course": {"exercise": "matching"}})]
    out = nbgrader_course.assignment_notebook(nb, exs, points=5)
    sources = [c.source for c in out.cells]
    assert sources[0] == "Edit `jaccard.py` (in this folder) now."
    assert sources[2] == nbgrader_cell.SETUP_CELL and sources[3] == "import torch"
    assert sources[4] == nbgrader_cell.GRADED_CELL.format(module="jaccard", points=5)
    assert sources[5] == 'print("matching")\ncheck("matching")'      # kept: it holds more than the check
    assert sources[6] == nbgrader_cell.GRADED_CELL.format(module="matching", points=5)
    assert [c.metadata.nbgrader["points"] for c in out.cells if pre.graded_cell_module(c)] == [5, 5]
    assert nb.cells[0].source.startswith("Edit `ssd_course")       # the lesson itself is untouched
    nbformat.validate(out)
    nb.cells = nb.cells[:3]
    with pytest.raises(ValueError, match="no check cell for matching"):
        nbgrader_course.assignment_notebook(nb, exs)


def test_build_refuses_to_overwrite_and_keeps_nbgrader_files(tmp_path):
    out = tmp_path / "course"
    built = nbgrader_course.build_course(out, LESSONS)
    (out / "gradebook.db").write_text("grades")
    with pytest.raises(FileExistsError, match="--force"):
        nbgrader_course.build_course(out, LESSONS)
    nbgrader_course.build_course(out, LESSONS, force=True, points=3)
    assert (out / "gradebook.db").read_text() == "grades"
    name = next(n for n, ms in built.items() if "jaccard" in ms)
    nb = nbformat.read(out / "source" / name / f"{name}.ipynb", as_version=4)
    assert [c.metadata.nbgrader["points"] for c in nb.cells if pre.graded_cell_module(c)] == [3, 3]


def test_grading_kernel_is_this_python_without_the_submission_on_its_path(tmp_path):
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    (tmp_path / "mymodule.py").write_text("x = 1\n")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell(
        "import importlib.util, json, os, sys\n"
        "print(sys.executable, json.__file__, importlib.util.find_spec('mymodule'), os.getcwd() in sys.path)")]
    pre.ExecuteInThisPython(timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    out = nb.cells[0].outputs
    assert [o.output_type for o in out] == ["stream"], out
    executable, json_file, spec, cwd_on_path = out[0].text.split()
    assert executable == sys.executable and Path(json_file).parent != tmp_path
    assert (spec, cwd_on_path) == ("None", "False")


def test_shadowing_patterns_cover_the_grading_imports_and_spare_the_course():
    patterns = pre.shadowing_patterns(keep=["jaccard.py", "04_iou_matching.ipynb", "04_iou_matching"])
    from fnmatch import fnmatch
    for name in ("torch", "torch.py", "autograder", "ssd_course", "numpy.py", "json.py", "ipykernel",
                 "IPython", "sitecustomize.py", "ipython_kernel_config.py", "fastai", "nbgrader"):
        assert any(fnmatch(name, p) for p in patterns), name
    for name in ("jaccard.py", "04_iou_matching.ipynb", "04_iou_matching", "nms.py", "anchors.py",
                 "matching.py", "focal_loss.py", "flatten_conv.py", "timestamp.txt"):
        assert not any(fnmatch(name, p) for p in patterns), name


def test_score_without_the_file_is_zero_and_says_what_to_do(tmp_path, capsys):
    assert nbgrader_cell.score("nms", points=10, folder=tmp_path) == 0.0
    out = capsys.readouterr()
    assert "0 points: nms.py is not in the submitted folder" in out.out and out.err == ""


def test_score_on_a_student_machine_runs_the_public_cases(tmp_path, capsys, monkeypatch):
    (tmp_path / "nms.py").write_text(solution("nms"))
    monkeypatch.setattr(nbgrader_cell, "_hidden_cases_available", lambda: False)
    monkeypatch.delenv(nbgrader_cell.EXECUTION_ENV, raising=False)
    assert nbgrader_cell.score("nms", points=4, folder=tmp_path) == 4.0
    out = capsys.readouterr().out
    assert "nms: " in out and "[hidden]" not in out and "public cases only" in out
    monkeypatch.setenv(nbgrader_cell.EXECUTION_ENV, "autograde")
    with pytest.raises(RuntimeError, match="needs the hidden cases"):
        nbgrader_cell.score("nms", points=4, folder=tmp_path)


def test_stderr_while_grading_is_shown_on_stdout(capfd):
    with nbgrader_cell._quiet_stderr() as captured:
        print("python-level", file=sys.stderr)
        os.write(2, b"fd-level\n")
    assert "python-level" in captured.getvalue() and "fd-level" in captured.getvalue()
    assert capfd.readouterr().err == ""


def test_setup_cell_points_the_pipeline_at_the_assignment_files(tmp_path):
    here, earlier = tmp_path / "04_iou_matching", tmp_path / "03_anchors"
    here.mkdir(), earlier.mkdir()
    (here / "jaccard.py").write_text("def jaccard(a, b):\n    return 'mine'\n")
    (earlier / "anchors.py").write_text("def make_anchors(*a, **k):\n    return 'earlier'\n")
    code = ("import os; from autograder.nbgrader_cell import use_assignment_files\n"
            "found = use_assignment_files()\n"
            "from ssd_course import impl\n"
            "print('RESULT', impl.jaccard(None, None), impl.make_anchors(), impl.function('nms').__module__,"
            " impl.module('nms').__file__)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, SSD_COURSE_IMPL="student"))
    assert proc.returncode == 0, proc.stderr
    result = proc.stdout.split("RESULT ", 1)[1].split()
    assert result[:3] == ["mine", "earlier", "ssd_course.exercises.nms"]
    assert Path(result[3]) == ROOT / "ssd_course" / "exercises" / "nms.py"
    assert "jaccard.py         this folder" in proc.stdout and "../03_anchors" in proc.stdout


# --- a hostile student's notebook and files (issue 11) ------------------------------------------

TAMPERED = ("t_cells_a", "t_cells_b", "t_links_a", "t_links_b")
LESSON_04 = "04_iou_matching"


def _grade_cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def tamper(course: Path, student: str, outside: Path) -> None:
    """submitted/<student>/04_iou_matching/, from the release, changed as a hostile student would.

    t_cells_a  both files solved; the jaccard graded cell deleted, a grade cell of 50 points added
    t_cells_b  jaccard without its guard, matching solved; the jaccard cell's grade_id renamed,
               the matching cell duplicated
    t_links_a  jaccard.py a symbolic link to the instructor's solution, matching.py one to /dev/zero
    t_links_b  jaccard.py a hard link to a solved file outside the submission, matching.py a FIFO
    """
    folder = course / "submitted" / student / LESSON_04
    shutil.copytree(course / "release" / LESSON_04, folder)
    for path in folder.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    notebook = folder / f"{LESSON_04}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    jaccard, matching = folder / "jaccard.py", folder / "matching.py"
    if student.startswith("t_cells"):
        jaccard.write_text(solution("jaccard") if student == "t_cells_a" else buggy_jaccard())
        matching.write_text(solution("matching"))
    if student == "t_cells_a":
        bonus = nbformat.from_dict(json.loads(json.dumps(nb.cells[_grade_cell_index(nb, "grade_matching")])))
        bonus.id, bonus.source = "bonus", bonus.source.replace("points=10", "points=50")
        bonus.metadata.nbgrader.update(grade_id="grade_bonus", points=50)
        nb.cells.append(bonus)
        del nb.cells[_grade_cell_index(nb, "grade_jaccard")]
    elif student == "t_cells_b":
        nb.cells[_grade_cell_index(nb, "grade_jaccard")].metadata.nbgrader["grade_id"] = "grade_mine"
        copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[_grade_cell_index(nb, "grade_matching")])))
        copy.id = "copy"
        nb.cells.append(copy)
    elif student == "t_links_a":
        jaccard.unlink(), matching.unlink()
        jaccard.symlink_to(ROOT / "solutions" / "jaccard.py")
        matching.symlink_to("/dev/zero")                  # a copy that follows it never ends
    elif student == "t_links_b":
        outside.write_text(solution("jaccard"))
        jaccard.unlink(), matching.unlink()
        os.link(outside, jaccard)
        os.mkfifo(matching)
    nbformat.write(nb, notebook)


@pytest.fixture(scope="module")
def tampered(course):
    """The course of `course`, with four hostile students' lesson 04 autograded in one command."""
    path = course["path"]
    for student in TAMPERED:
        tamper(path, student, path.parent / "outside_jaccard.py")
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "nbgrader"), "autograde", LESSON_04, "--student=t_*"], cwd=path,
                          capture_output=True, text=True, timeout=900)
    print(f"autograde {LESSON_04} for {len(TAMPERED)} tampered submissions: "
          f"{time.perf_counter() - start:.1f} s")
    return {**course, "proc": proc}


def submission_total(course, student, assignment):
    with gradebook(course) as gb:
        sub = gb.find_submission(assignment, student)
        return sub.score, sub.max_score


def test_tampered_graded_cells_never_break_autograde(tampered):
    proc = tampered["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "KeyError" not in proc.stderr and "Traceback" not in proc.stderr
    # deleted jaccard cell: put back and graded; the student's own 50-point cell: not graded
    assert cell_scores(tampered, "t_cells_a", LESSON_04) == {"grade_jaccard": (POINTS, POINTS),
                                                             "grade_matching": (POINTS, POINTS)}
    assert submission_total(tampered, "t_cells_a", LESSON_04) == (2 * POINTS, 2 * POINTS)
    # renamed jaccard cell: graded under its source id, with the score of the same file for "half"
    half_jaccard = cell_scores(tampered, "half", LESSON_04)["grade_jaccard"]
    scores = cell_scores(tampered, "t_cells_b", LESSON_04)
    assert 0 < half_jaccard[0] < POINTS
    assert scores == {"grade_jaccard": half_jaccard, "grade_matching": (POINTS, POINTS)}
    assert submission_total(tampered, "t_cells_b", LESSON_04) == (half_jaccard[0] + POINTS, 2 * POINTS)
    for student in ("t_cells_a", "t_cells_b"):
        nb = autograded_notebook(tampered, student, LESSON_04)
        ran = [pre.graded_cell_module(c) for c in nb.cells if c.cell_type == "code" and c.outputs]
        assert ran == ["jaccard", "matching"], student              # each graded cell once, in order
        extra = [c for c in nb.cells if c.get("id") in ("bonus", "copy")]
        assert len(extra) == 1 and extra[0].source.startswith(pre.NOT_RUN) and not extra[0].outputs
        assert "nbgrader" not in extra[0].metadata


def test_linked_or_special_exercise_files_are_not_copied_nor_graded(tampered):
    assert tampered["proc"].returncode == 0, tampered["proc"].stderr[-3000:]
    expected = {"t_links_a": {"jaccard": "jaccard.py is a symbolic link: submit the file itself",
                              "matching": "matching.py is a symbolic link: submit the file itself"},
                "t_links_b": {"jaccard": "jaccard.py is a hard link: submit the file itself",
                              "matching": "matching.py is not a regular file"}}
    for student, reasons in expected.items():
        assert cell_scores(tampered, student, LESSON_04) == {"grade_jaccard": (0, POINTS),
                                                             "grade_matching": (0, POINTS)}
        folder = tampered["path"] / "autograded" / student / LESSON_04
        assert sorted(p.name for p in folder.iterdir()) == [f"{LESSON_04}.ipynb"]   # nothing copied
        nb = autograded_notebook(tampered, student, LESSON_04)
        for module, reason in reasons.items():
            text = "".join(o.get("text", "") for o in graded_outputs(nb, module))
            function = registry.get(module).function
            assert text.startswith(f"{function}: 0 points: {reason}.\n"), text


# --- the same pieces without a kernel ------------------------------------------------------------

def source_notebook(tmp_path):
    """A two-exercise source notebook saved in a fresh gradebook as generate_assignment does.

    Returns:
        (NotebookNode, dict): the notebook and the nbgrader resources that name it.
    """
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import ComputeChecksums, SaveCells

    exs = [registry.get("jaccard"), registry.get("matching")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# lesson"), *nbgrader_course.setup_cells(exs),
                nbformat.v4.new_code_cell("x = 1"), nbgrader_course.graded_cell(exs[0], POINTS),
                nbformat.v4.new_code_cell("y = 2"), nbgrader_course.graded_cell(exs[1], POINTS)]
    resources = {"nbgrader": {"db_url": f"sqlite:///{tmp_path / 'gradebook.db'}", "assignment": "a",
                              "notebook": "lesson", "student": "s"}}
    with Gradebook(resources["nbgrader"]["db_url"]) as gb:
        gb.add_assignment("a")
    ComputeChecksums().preprocess(nb, resources)
    SaveCells().preprocess(nb, resources)
    return nb, resources


def sanitize(nb, resources, ours=True):
    """The course's sanitize steps of `nbgrader autograde` (without ours: nbgrader's alone)."""
    from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds, OverwriteCells

    steps = ([pre.RestoreGradedCells()] if ours else []) + [
        DeduplicateIds(), OverwriteCells(add_missing_cells=True), CheckCellMetadata(),
        pre.RunOnlyGradedCells()]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def _tampered_copies(nb):
    """{what the student did: their notebook}, each from a copy of the released `nb`."""
    def copy():
        return nbformat.from_dict(json.loads(json.dumps(nb)))
    out = {name: copy() for name in ("deleted", "renamed", "duplicated", "added", "emptied", "edited")}
    del out["deleted"].cells[_grade_cell_index(nb, "grade_jaccard")]
    out["renamed"].cells[_grade_cell_index(nb, "grade_jaccard")].metadata.nbgrader["grade_id"] = "grade_x"
    out["duplicated"].cells.insert(1, copy().cells[_grade_cell_index(nb, "grade_matching")])
    added = copy().cells[_grade_cell_index(nb, "grade_matching")]
    added.metadata.nbgrader.update(grade_id="grade_bonus", points=50)
    out["added"].cells.append(added)
    out["emptied"].cells[0].metadata["nbgrader"] = {}             # what DeduplicateIds leaves behind
    out["emptied"].cells[3].metadata["nbgrader"] = "not a dict"      # the student's "x = 1"
    edited = out["edited"].cells[_grade_cell_index(nb, "grade_jaccard")]
    edited.metadata.nbgrader.update(grade=False, points=99)        # "not graded", then worth 99
    for nb_ in out.values():                                       # nbformat would refuse duplicate ids
        for i, cell in enumerate(nb_.cells):
            cell["id"] = f"cell-{i}"
    return out


def test_restored_notebook_grades_the_source_cells_once_with_the_source_points(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")   # the gradebook runs alembic
    source, resources = source_notebook(tmp_path)
    # nbgrader 0.9.6 alone: autograde fails for that student, who gets no score
    fails = {"deleted": KeyError, "renamed": KeyError, "duplicated": KeyError, "added": KeyError,
             "emptied": AttributeError, "edited": RuntimeError}
    for what, nb in _tampered_copies(source).items():
        with pytest.raises(fails[what]):
            sanitize(nbformat.from_dict(json.loads(json.dumps(nb))), resources, ours=False)
        out = sanitize(nb, resources)
        # each graded cell of the source once (the first copy of a duplicate), as generated
        graded = sorted((c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade")),
                        key=pre.graded_cell_module)
        assert [pre.graded_cell_module(c) for c in graded] == ["jaccard", "matching"], what
        assert [c.metadata.nbgrader["points"] for c in graded] == [POINTS, POINTS], what
        assert [c.source for c in graded] == [nbgrader_cell.GRADED_CELL.format(module=m, points=POINTS)
                                              for m in ("jaccard", "matching")], what
        ids = sorted(c.metadata.nbgrader["grade_id"] for c in out.cells if "nbgrader" in c.metadata)
        assert ids == ["assignment_files", "grade_jaccard", "grade_matching"], what
    # a deleted cell is put back where the source has it: right after the set-up cell
    out = sanitize(_tampered_copies(source)["deleted"], resources)
    at = _grade_cell_index(out, "grade_jaccard")
    assert out.cells[at - 1].metadata.nbgrader["grade_id"] == "assignment_files"
    assert at < _grade_cell_index(out, "grade_matching")


def test_file_problem_and_refused_submissions_name_links_and_special_files(tmp_path):
    from nbgrader.utils import is_ignored

    folder = tmp_path / "course" / "submitted" / "alice" / LESSON_04
    folder.mkdir(parents=True)
    (folder / "jaccard.py").symlink_to(ROOT / "solutions" / "jaccard.py")
    (folder / "matching.py").write_text("ok")
    (tmp_path / "nms.py").write_text("other name")
    os.link(tmp_path / "nms.py", folder / "nms.py")
    os.mkfifo(folder / "anchors.py")
    (folder / "notes").mkdir()
    (folder / "notes" / "data.txt").symlink_to("/dev/zero")         # not an exercise: still never copied
    (folder / "notes" / "plan.txt").write_text("mine")
    assert {n: nbgrader_cell.file_problem(folder / f"{n}.py") for n in ("jaccard", "matching", "nms",
                                                                         "anchors", "focal_loss")} == {
        "jaccard": "jaccard.py is a symbolic link: submit the file itself", "matching": None,
        "nms": "nms.py is a hard link: submit the file itself",
        "anchors": "anchors.py is not a regular file", "focal_loss": None}
    entries = pre.refused_submissions(tmp_path / "course", {LESSON_04: ["jaccard.py", "matching.py",
                                                                        "nms.py", "anchors.py"]})
    refused = ["anchors.py", "jaccard.py", "nms.py", "notes/data.txt"]
    assert entries == [str(folder / n) for n in refused]
    # nbgrader's own test for what it copies: those are skipped, the regular files are not
    kept = ["matching.py", "notes/plan.txt"]
    assert [is_ignored(str(folder / n), entries) for n in refused + kept] == [True] * 4 + [False] * 2


def test_execute_removes_a_refused_copy_and_its_graded_cell_scores_zero_saying_why(tmp_path):
    (tmp_path / "jaccard.py").write_text(solution("jaccard"))      # as nbgrader's copy followed a link
    (tmp_path / "nms.py").write_text("kept")
    why = "jaccard.py is a symbolic link: submit the file itself"
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
        pre.METADATA_KEY: {"refused": {"jaccard": why, "not_an_exercise": "ignored"}}})
    nb.cells = [nbgrader_course.graded_cell(registry.get("jaccard"), POINTS)]
    pre.ExecuteInThisPython(timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    out = nb.cells[0].outputs
    assert [o.output_type for o in out] == ["stream", "execute_result"], out
    assert out[0].text.startswith(f"jaccard: 0 points: {why}.\n") and out[1].data["text/plain"] == "0.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nms.py"]
