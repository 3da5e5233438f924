"""`ssd-course release OUT`: write the student copy of the course.

The copy holds what a student works with and nothing a student must not see:

    README.md          for students: set-up in one command (and what it downloads), lessons, how to check
    pyproject.toml     the same package definition (it finds the packages that exist)
    environment.yml    for conda users: installs what the README's set-up installs (the `lessons` extra)
    .gitignore         the virtualenv, data/, outputs and checkpoints stay out of a git repository
    lessons/           the notebooks, as they are
    docs/              the documentation (the exercises' contracts: docs/exercises.md)
    ssd_course/        the package, with the exercises as stubs (regenerated from solutions/)
    autograder/        the public cases only, with their expected values stored as data
                       (autograder/cases/public_expected.{json,npz}), never solution code

Left out: solutions/, autograder/hidden/ (hidden cases and the code of known
mistakes), tests/, the Makefile's instructor targets, and the instructor's tools
(`instructor_tools`: stubs, release, nbgrader course, lesson runner). Before it finishes, the
release reads every file it wrote and refuses to stand if a line of solution
code or a hidden case's name or definition appears anywhere (``leaks``).
"""
import json
import shutil
import time
from pathlib import Path

from ssd_course import registry
from ssd_course.impl import repo_root, solutions_dir
from ssd_course.tools import markers
from ssd_course.tools.stubs import expected_stubs

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
MIN_LINE = 20  # shorter code lines (a length, a loop header) are too common to call a leak

STUDENT_README = """\
# ssd-course: build a Single Shot Detector with fastai v2

Your copy of the course. You work through the numbered notebooks in `lessons/`
and write six functions of the detector in `ssd_course/exercises/`; your
finished code then trains the real multi-grid model.

## Set up (once)

```sh
python -m venv .venv && .venv/bin/pip install -e '.[lessons]'
```

(Python 3.10 or newer; conda users: `conda env create -f environment.yml`,
which installs the same.) It installs this copy's `ssd_course` (your
exercises included), PyTorch, fastai and Jupyter.

**What it costs.** On Linux, pip's default PyTorch is the CUDA build: about
{cuda_download} GB to download and {cuda_disk} GB on disk, most of it NVIDIA's GPU libraries.
On a laptop without an NVIDIA GPU you need none of that: install the CPU-only
PyTorch first (about {cpu_download} GB to download, {cpu_disk} GB on disk for the whole
set-up), then the course, and pip keeps the PyTorch you have:

```sh
python -m venv .venv
.venv/bin/pip install torch=={torch} torchvision=={torchvision} --index-url https://download.pytorch.org/whl/cpu
.venv/bin/pip install -e '.[lessons]'
```

(macOS wheels have no CUDA libraries: there the plain set-up is already small.)
Every lesson runs on a CPU; only lesson 08's full-size training wants a GPU.
The lessons write their dataset and trained weights to `data/` (about
{data_mb} MB on a laptop; lesson 08 on a GPU adds a larger dataset). The
`.gitignore` keeps `data/`, `.venv/` and other outputs out of git, so this
folder can be a git repository of your own.

Then open the lessons, starting with `00_setup.ipynb`:

```sh
.venv/bin/jupyter lab lessons/
```

## The exercises

| lesson | file in `ssd_course/exercises/` | function |
| --- | --- | --- |
{table}

Each stub's docstring is its contract (shapes, box formats, units). Write your
code between the `BEGIN EXERCISE` / `END EXERCISE` markers.

## Check your work

In a notebook: `from autograder import check; check("jaccard")`. In a shell,
from this folder: `.venv/bin/ssd-course check` (all six) or
`.venv/bin/ssd-course check jaccard nms`. Each public case prints PASS or FAIL,
with a hint when the failure looks like a known mistake; the last line of each
exercise says how many public cases pass and how many hidden cases run at
grading. The check exits non-zero while a case fails. With pytest installed
(`.venv/bin/pip install pytest`), `.venv/bin/python -m pytest autograder/` runs
the same cases as pytest tests; `--exercise jaccard` (or `-k jaccard`) keeps to
the exercises you have written, so the stubs still to come do not fill the
screen with failures.

Your code runs in a separate, sandboxed process with a time and memory limit:
an infinite loop or a crash in one exercise is reported in one line and never
affects the others. The sandbox computes, nothing else: your exercise code may
not start processes, write files, open sockets or signal other processes.
"""


# What the set-up costs, as measured on the course's Linux machines (pip's wheels of the pinned
# torch; the CUDA build pulls about 2.3 GB of nvidia-* wheels and triton beside torch itself).
INSTALL_SIZES = dict(cuda_download="3", cuda_disk="6.5", cpu_download="0.5", cpu_disk="2",
                     data_mb="100")

STUDENT_ENVIRONMENT = """\
# Conda users: `conda env create -f environment.yml && conda activate ssd-course`.
# Installs what the README's set-up installs: this copy of the course, editable, with its
# `lessons` extra (PyTorch, fastai, Jupyter). On Linux pip's PyTorch is the CUDA build
# (about {cuda_download} GB to download); on a laptop without a GPU, see the README for the CPU-only one.
name: ssd-course
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
      - -e .[lessons]
"""

# Kept out of a student's git repository: what the set-up and the lessons write.
STUDENT_GITIGNORE = """\
# The virtualenv (several GB) and Python's caches
.venv/
venv/
__pycache__/
*.pyc
*.egg-info/
# What the lessons write: the datasets and trained weights (data/), executed copies (out/)
/data/
/out/
# Checkpoints: Jupyter's, and weights saved anywhere else
.ipynb_checkpoints/
models/
*.pth
.pytest_cache/
"""


def _pins() -> dict:
    """The torch and torchvision versions pyproject.toml pins, for the CPU-only install line."""
    import re
    text = (repo_root() / "pyproject.toml").read_text()
    found = dict(re.findall(r'"(torch|torchvision)==([^"]+)"', text))
    return {"torch": found.get("torch", "?"), "torchvision": found.get("torchvision", "?")}


def _student_readme() -> str:
    table = "\n".join(f"| {e.lesson} | `{e.module}.py` | `{e.function}` |" for e in registry.EXERCISES)
    return STUDENT_README.format(table=table, **INSTALL_SIZES, **_pins())


def _pyproject(text: str) -> str:
    # The stored expectations of the public cases are .npz files: ship them with the package.
    line = '"*" = ["*.json", "*.md"]'
    return text.replace(line, '"*" = ["*.json", "*.md", "*.npz"]') if line in text else text


def write_release(out: Path, force: bool = False) -> list:
    """Write the student copy into `out`; returns notes for the user (one line each).

    Raises:
        FileExistsError: `out` exists and is not empty, and `force` is not set.
        RuntimeError: the copy would contain solution code or hidden cases.
    """
    from autograder import cases, reference

    root, out, notes = repo_root(), Path(out), []
    if solutions_dir() is None:
        raise RuntimeError("no solutions/ here: a release is made from the instructor's repository")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} is not empty: choose an empty folder, or pass --force "
                                  "(the old contents are moved aside, not deleted)")
        aside = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
        out.rename(aside)
        notes.append(f"moved the old {out} to {aside}")
    out.mkdir(parents=True, exist_ok=True)

    (out / "README.md").write_text(_student_readme())
    (out / "pyproject.toml").write_text(_pyproject((root / "pyproject.toml").read_text()))
    (out / "environment.yml").write_text(STUDENT_ENVIRONMENT.format(**INSTALL_SIZES))
    (out / ".gitignore").write_text(STUDENT_GITIGNORE)
    if (root / "lessons").is_dir():
        shutil.copytree(root / "lessons", out / "lessons", ignore=SKIP)
    shutil.copytree(root / "docs", out / "docs", ignore=SKIP)   # the contracts the stubs cite, and the rest
    shutil.copytree(root / "ssd_course", out / "ssd_course", ignore=SKIP)
    for name in instructor_tools():
        (out / "ssd_course" / "tools" / name).unlink()
    for rel, text in expected_stubs().items():
        (out / rel).write_text(text)
    shutil.copytree(root / "autograder", out / "autograder",
                    ignore=shutil.ignore_patterns("hidden", "__pycache__", "*.pyc",
                                                  "public_expected.*", "hidden_counts.json"))
    public = [c for e in registry.EXERCISES for c in cases.public_cases(e.module)]
    count = reference.freeze(public, reference.Live(solutions_dir()),
                             out / "autograder" / "cases" / "public_expected")
    hidden_counts = {e.module: len(cases.hidden_cases(e.module)) for e in registry.EXERCISES}
    (out / "autograder" / "cases" / "hidden_counts.json").write_text(json.dumps(hidden_counts))
    problems = leaks(out)
    if problems:
        shutil.rmtree(out)  # never leave a copy behind that someone could hand out
        raise RuntimeError("the release would leak grader material; nothing is safe to hand out:\n  "
                           + "\n  ".join(problems[:20]))
    notes.append(f"wrote the student copy to {out}: {count} public cases with stored expected "
                 f"values, {sum(hidden_counts.values())} hidden cases left out, no solution code")
    return notes


def instructor_tools() -> list:
    """File names in ssd_course/tools/ that the student copy leaves out: the modules of the
    instructor-only commands (`cli.INSTRUCTOR_ONLY`) and the GPU machine's check script."""
    from ssd_course.tools import cli
    modules = {cli.COMMANDS[name][0] for name in cli.INSTRUCTOR_ONLY}
    return sorted(m.rpartition(".")[2] + ".py" for m in modules if m.startswith("ssd_course.tools.")) \
        + ["gpu_check.sh"]


# --- what must never reach students ----------------------------------------------------------

def solution_lines() -> set:
    """Code lines of the solution regions of solutions/ (hints, comments and any line the
    stubs show on purpose, e.g. inside a hint, excluded)."""
    lines, stubs = set(), "\n".join(expected_stubs().values())
    for ex in registry.EXERCISES:
        source = (solutions_dir() / f"{ex.module}.py").read_text()
        for line in markers.solution_code(source, ex.module):
            code = line.split("#", 1)[0].strip()
            if len(code) >= MIN_LINE and code not in stubs:
                lines.add(code)
    return lines


def hidden_material() -> set:
    """Names of the hidden cases, and the code lines of autograder/hidden/ that appear nowhere
    else in the autograder (shared helper calls are public anyway)."""
    from autograder import cases

    material = {c.name for e in registry.EXERCISES for c in cases.hidden_cases(e.module)}
    package = Path(cases.__file__).resolve().parent.parent
    public = "\n".join(p.read_text() for p in package.rglob("*.py") if "hidden" not in p.parts)
    for path in (package / "hidden").glob("*.py"):
        for line in path.read_text().splitlines():
            code = line.split("#", 1)[0].strip()
            if len(code) >= MIN_LINE and not code.startswith(("from ", "import ", '"""')) \
                    and code not in public:
                material.add(code)
    return material


def leaks(out: Path) -> list:
    """Files under `out` holding a solution code line or hidden-case material: 'path: line'."""
    needles = solution_lines() | hidden_material()
    found = []
    for path in sorted(p for p in Path(out).rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue  # binary files (.npz arrays, images) hold numbers, not code
        for needle in needles:
            if needle in text:
                found.append(f"{path.relative_to(out)}: {needle[:70]}")
    return found


# --- command line -------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT", help="an empty (or new) folder")
    parser.add_argument("--force", action="store_true",
                        help="OUT is not empty: move its contents aside (to OUT.old-TIME) and write anew")


def run(args) -> int:
    try:
        notes = write_release(args.out, force=args.force)
    except (FileExistsError, RuntimeError) as exc:
        print(f"release: {exc}")
        return 1
    for note in notes:
        print(note)
    print(f"next: cd {args.out} && python -m venv .venv && .venv/bin/pip install -e '.[lessons]' && "
          ".venv/bin/ssd-course check")
    return 0
