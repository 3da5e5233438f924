"""The lesson notebooks as stored: clean, built from their sources, one check cell per exercise (issue 5)."""
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from ssd_course import registry

from ssd_course.tools import lessons, notebook

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
# The outline of the issue: these lessons at least, in this order.
REQUIRED = ("00", "01", "02", "03", "04", "05", "06", "07", "08")


def _load_builder():
    spec = importlib.util.spec_from_file_location("lessons_build", LESSONS / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_builder()
NOTEBOOKS = lessons.find_lessons(LESSONS)


def _read(path):
    return nbformat.read(path, as_version=4)


def test_every_lesson_of_the_outline_is_there():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == sorted(numbers)
    for n in REQUIRED:
        assert n in numbers, f"lesson {n} is missing from lessons/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_clean(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 5
    for cell in code:
        assert cell.outputs == [], f"{path.name}: a cell was stored with outputs"
        assert cell.execution_count is None, f"{path.name}: a cell was stored with an execution count"
        assert set(cell.metadata) <= {"tags", "ssd_course"}, f"{path.name}: stray cell metadata {cell.metadata}"
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_notebooks_are_built_from_their_sources():
    assert build.stale() == [], "run `python lessons/_build.py` after editing lessons/_src/"
    assert {p.name for p in build.targets().values()} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("ex", registry.EXERCISES, ids=lambda e: e.module)
def test_each_exercise_is_checked_in_its_lesson(ex):
    """The pattern: idea, contract, the file to edit, a one-line check cell, then a use of the result."""
    (path,) = [p for p in NOTEBOOKS if p.name.startswith(ex.lesson + "_")]
    cells = _read(path).cells
    checks = [i for i, c in enumerate(cells) if c.metadata.get("ssd_course", {}).get("exercise") == ex.module]
    assert len(checks) == 1, f"{path.name}: expected one check cell for {ex.module}"
    i = checks[0]
    cell = cells[i]
    assert cell.cell_type == "code" and "check" in cell.metadata["tags"]
    assert cell.source == f'check("{ex.module}")'          # a one-liner nbgrader can find and grade
    before = "\n".join(c.source for c in cells[max(0, i - 4):i] if c.cell_type == "markdown")
    assert ex.path in before, f"{path.name}: the text before the check must name {ex.path}"
    assert "Contract" in before and "Tensor[" in before, f"{path.name}: no contract before the check"
    after = [c for c in cells[i + 1:i + 5] if c.cell_type == "code"]
    assert any(f"impl.{ex.function}(" in c.source for c in after), \
        f"{path.name}: no cell uses impl.{ex.function} right after the check"


def test_no_other_cell_is_tagged_as_a_check():
    modules = {e.module for e in registry.EXERCISES}
    for path in NOTEBOOKS:
        for cell in _read(path).cells:
            if "check" in cell.metadata.get("tags", []):
                assert cell.metadata["ssd_course"]["exercise"] in modules


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_says_whose_code_runs_and_keeps_imports_quiet(path):
    cells = [c for c in _read(path).cells if c.cell_type == "code"]
    first = cells[0].source
    # fastai's import writes a FutureWarning to stderr: the first code cell silences it before importing
    assert "warnings.filterwarnings" in first
    lines = first.splitlines()
    silenced = next(i for i, line in enumerate(lines) if "filterwarnings" in line)
    imports = [i for i, line in enumerate(lines) if line.startswith(("import ", "from "))
               and "warnings" not in line]
    assert imports and silenced < min(imports), "silence the warning before importing anything else"
    assert any("impl.describe()" in c.source for c in cells[:3])


def test_parse_turns_fences_into_cells_and_headings_into_markdown_cells():
    text = ("# Title\nintro\n\n## Part\nmore\n"
            "```python\nx = 1\n```\n"
            "text\n```python check=jaccard\ncheck(\"jaccard\")\n```\n"
            "```python tags=slow,x\ny = 2\n```\n"
            "```text\nnot a cell\n```\n")
    cells = build.parse(text)
    assert [kind for kind, _, _ in cells] == ["markdown", "markdown", "code", "markdown", "code",
                                               "code", "markdown"]
    assert cells[0][1] == "# Title\nintro" and cells[1][1] == "## Part\nmore"
    assert cells[2] == ("code", "x = 1", {})
    assert cells[4][2] == {"tags": ["check"], "ssd_course": {"exercise": "jaccard"}}
    assert cells[5][2] == {"tags": ["slow", "x"]}
    assert cells[6][1] == "```text\nnot a cell\n```"


def test_parse_rejects_unclosed_fences_and_unknown_options():
    with pytest.raises(ValueError, match="not closed"):
        build.parse("```python\nx = 1\n")
    with pytest.raises(ValueError, match="unknown cell option"):
        build.parse("```python colour=red\nx = 1\n```\n")


def test_find_lessons_selects_by_number_and_range():
    assert [p.name[:2] for p in lessons.find_lessons(LESSONS, ["03"])] == ["03"]
    assert [p.name[:2] for p in lessons.find_lessons(LESSONS, ["00-02", "07"])] == ["00", "01", "02", "07"]
    with pytest.raises(ValueError, match="no lesson 42"):
        lessons.find_lessons(LESSONS, ["42"])


def test_settings_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(notebook.SMOKE_ENV, "1")
    assert notebook.smoke()
    monkeypatch.setenv(notebook.SMOKE_ENV, "0")
    assert not notebook.smoke()
    monkeypatch.setenv(notebook.DATA_ENV, str(tmp_path))
    assert notebook.data_root() == tmp_path
    monkeypatch.delenv(notebook.DATA_ENV)
    assert notebook.data_root() == ROOT / "data"


def test_smoke_dataset_is_tiny_and_separate(monkeypatch, tmp_path):
    monkeypatch.setenv(notebook.DATA_ENV, str(tmp_path))
    monkeypatch.setenv(notebook.SMOKE_ENV, "1")
    root = notebook.course_dataset(verbose=False)
    assert root == tmp_path / "synthetic-smoke"
    assert len(list((root / "train").glob("*.jpg"))) == sum(notebook.SMOKE_SIZES.values())
    with pytest.raises(ValueError, match="size must be one of"):
        notebook.course_dataset("huge")


# --- issue 16: a cell that uses an exercise says so first, and stops with one message -------

NEEDS = re.compile(r"notebook\.needs\(([^)]*)\)")


def _needs_of(source):
    return {registry.get(n).module for args in NEEDS.findall(source)
            for n in re.findall(r"[\"']([a-z_]+)[\"']", args)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_cell_that_calls_an_exercise_needs_it_first(path):
    for cell in _read(path).cells:
        if cell.cell_type != "code" or "check" in cell.metadata.get("tags", []):
            continue
        for ex in registry.EXERCISES:
            call = cell.source.find(f"impl.{ex.function}(")
            if call < 0:
                continue
            assert ex.module in _needs_of(cell.source), \
                f"{path.name}: a cell calls impl.{ex.function} without notebook.needs({ex.function!r})"
            assert cell.source.find("notebook.needs(") < call, f"{path.name}: needs(...) after the call"


def test_needs_stops_with_the_stub_message_and_passes_written_code(monkeypatch):
    from ssd_course import impl
    from ssd_course.tools.markers import not_implemented_message
    monkeypatch.setenv(impl.ENV_VAR, "student")                # this repository's exercises are stubs
    assert not notebook.written("jaccard") and not notebook.written("make_anchors")
    with pytest.raises(NotImplementedError) as stopped:
        notebook.needs("make_anchors", "jaccard")             # the first one missing is named
    assert str(stopped.value) == not_implemented_message(registry.get("anchors"))
    monkeypatch.setenv(impl.ENV_VAR, "solutions")
    assert all(notebook.written(e.module) for e in registry.EXERCISES)
    notebook.needs(*(e.function for e in registry.EXERCISES))   # returns quietly


def test_check_earlier_names_each_missing_exercise(monkeypatch, capsys):
    from ssd_course import impl
    monkeypatch.setenv(impl.ENV_VAR, "student")
    assert notebook.check_earlier("flatten_conv", "anchors") is False
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("exercise 1 (lesson 02) flatten_conv: NOT WRITTEN YET. "
                               "Write it in ssd_course/exercises/flatten_conv.py")
    assert lines[1].startswith("exercise 2 (lesson 03) make_anchors: NOT WRITTEN YET.")
    monkeypatch.setenv(impl.ENV_VAR, "solutions")
    monkeypatch.setenv(notebook.SMOKE_ENV, "1")                 # written: the public cases are not run
    assert notebook.check_earlier("flatten_conv") is True
    assert "flatten_conv: ok" in capsys.readouterr().out


def test_check_earlier_runs_the_public_cases_of_written_exercises(monkeypatch, capsys):
    from ssd_course import impl
    monkeypatch.setenv(impl.ENV_VAR, "solutions")
    monkeypatch.setenv(notebook.SMOKE_ENV, "0")
    assert notebook.check_earlier("flatten_conv", "make_anchors") is True
    assert capsys.readouterr().out.splitlines() == [
        "exercise 1 (lesson 02) flatten_conv: ok, passes its public cases",
        "exercise 2 (lesson 03) make_anchors: ok, passes its public cases"]
