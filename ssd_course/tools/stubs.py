"""Generate the student stubs in ssd_course/exercises/ from solutions/.

Write once, generate the rest: each solution marks the student's part with

    # ==== BEGIN EXERCISE (about N lines) ====
    # HINT: ...            (kept in the stub)
    ...solution code...    (blanked)
    # ==== END EXERCISE ====

and the stub keeps everything else (imports, signature, docstring, argument
checks), the markers and the hints, and raises NotImplementedError in place of
the code. `ssd-course stubs` rewrites the files; `ssd-course stubs --check`
(and a test) fails when they drift from the solutions.
"""
from pathlib import Path

from ssd_course import registry
from ssd_course.impl import repo_root, solutions_dir
from ssd_course.tools import markers

STAMP = '''\
# Your exercise file. Write your code between the BEGIN/END EXERCISE markers and
# keep the function's signature: the lessons, the pipeline and `check("{module}")`
# call it. (Generated from the course's reference by `ssd-course stubs`.)
'''


def make_stub(source: str, ex: registry.Exercise) -> str:
    """The stub text for one exercise, given its solution's source text."""
    out = [STAMP.format(module=ex.module)]
    for label, line in markers.lines(source, ex.module):
        if label == markers.BEGIN_LINE:
            indent = markers.BEGIN.match(line)["indent"]
            out += [line, f"{indent}# TODO: write {ex.function} here, in place of the `raise` below.\n"]
        elif label == markers.END_LINE:
            out += [f"{indent}raise NotImplementedError(\n{indent}    {markers.not_implemented_message(ex)!r})\n",
                    line]
        elif label != markers.SOLUTION:
            out.append(line)
    return "".join(out)


def expected_stubs(solutions: Path = None) -> dict:
    """{path of the stub relative to the course root: its text}, for all six exercises."""
    solutions = Path(solutions or solutions_dir() or "")
    if not (solutions / "__init__.py").is_file():
        raise FileNotFoundError("no solutions/ folder here: stubs are generated in the "
                                "instructor's repository, not in a student copy")
    return {ex.path: make_stub((solutions / f"{ex.module}.py").read_text(), ex)
            for ex in registry.EXERCISES}


def drifted(root: Path = None) -> list:
    """Stub files that differ from what the solutions generate (relative paths)."""
    root = Path(root or repo_root())
    return [rel for rel, text in expected_stubs().items()
            if not (root / rel).is_file() or (root / rel).read_text() != text]


def write_stubs(root: Path = None) -> list:
    """(Re)write the stubs under `root`; returns the paths written."""
    root = Path(root or repo_root())
    written = []
    for rel, text in expected_stubs().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        written.append(root / rel)
    return written


# --- command line: ssd-course stubs [--check] ---------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only report stubs that differ from the solutions (exit 1 if any)")


def run(args) -> int:
    if args.check:
        stale = drifted()
        for rel in stale:
            print(f"out of date: {rel} (run `ssd-course stubs`)")
        print("stubs: up to date" if not stale else f"stubs: {len(stale)} out of date")
        return 1 if stale else 0
    for path in write_stubs():
        print(f"wrote {path.relative_to(repo_root())}")
    return 0
