"""The layout a maintainer lives in: no import cycles, small files, every cited document present.

The import graph counts every import statement, also those inside functions,
between the modules of ssd_course, autograder and solutions; `from pkg import mod`
is an edge to the module `pkg.mod`.
"""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ssd_course", "autograder", "solutions")
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imported(node, package: str) -> list:
    """Dotted names an import statement names (relative imports resolved against `package`)."""
    if isinstance(node, ast.Import):
        return [[a.name] for a in node.names]
    base = node.module or ""
    if node.level:
        up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join(up + ([base] if base else []))
    return [[f"{base}.{a.name}", base] for a in node.names]


def import_graph(modules: dict) -> dict:
    """{module: set of project modules it imports}."""
    def resolve(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for choices in _imported(node, package):
                    exact = next((c for c in choices if c in modules), None)
                    target = exact or resolve(choices[0])
                    if target and target != name:
                        edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from ssd_course import viz\n")
    assert _imported(tree.body[0].body[0], "ssd_course") == [["ssd_course.viz", "ssd_course"]]


def test_no_import_cycles_between_the_project_modules():
    graph = import_graph(_modules())
    assert len(graph) > 60 and graph["ssd_course.loss"] >= {"ssd_course.boxes", "ssd_course.impl"}
    assert cycles(graph) == []


def test_the_detector_never_imports_the_tooling_or_the_grader():
    graph = import_graph(_modules())
    detector = [m for m in graph if m.startswith("ssd_course") and not m.startswith("ssd_course.tools")
                and m != "ssd_course.__main__"]      # `python -m ssd_course`: the command's entry point
    crossing = {m: sorted(t for t in graph[m] if t.startswith(("ssd_course.tools", "autograder")))
                for m in detector}
    assert {m: t for m, t in crossing.items() if t} == {}


def test_no_python_file_outside_tests_is_over_the_line_limit():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if not p.relative_to(ROOT).parts[0] in ("tests", ".venv", "out", "data", "build")
            and (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


CITED = re.compile(r"\b((?:docs/)?[A-Za-z_]+\.md)\b")
FAMILIES = {"NN_name.md"}     # a name standing for a family of files (lessons/_src/NN_name.md)


def test_every_document_the_code_and_tests_cite_exists():
    sources = [p for pkg in (*PACKAGES, "tests", "lessons") for p in (ROOT / pkg).rglob("*")
               if p.suffix in (".py", ".md", ".ipynb", ".sh") and "corpus" not in p.parts]
    missing = set()
    for path in sources:
        for name in CITED.findall(path.read_text(errors="replace")):
            if name not in FAMILIES and not ((ROOT / name).is_file() or (ROOT / "docs" / name).is_file()
                    or (path.parent / name).is_file()):
                missing.add(f"{path.relative_to(ROOT)}: {name}")
    assert sorted(missing) == []
