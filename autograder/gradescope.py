"""`ssd-course gradescope OUT.zip`: the course's autograder as Gradescope runs it.

    ssd-course gradescope OUT.zip [--exercise NAME ...] [--time-limit S]

writes the zip Gradescope's "Autograder Specifications" ask for: ``setup.sh`` and
``run_autograder`` at the root, beside the grader (``autograder/`` with the hidden
cases), ``solutions/``, ``ssd_course/``, the pinned ``requirements.txt`` and
``config.json`` (the exercises graded, the time limit). Gradescope extracts it to
``/autograder/source``, runs ``setup.sh`` once when it builds the image, and then,
per submission:

    /autograder/run_autograder    ->  python -m autograder.gradescope run
                                      grades /autograder/submission (a course copy, the
                                      loose files, a nested folder or a zip in it) and
                                      writes /autograder/results/results.json

``results.json`` is written whatever happens: a grading that fails gets score 0,
a one-line reason for the student, and the traceback on stdout, which only the
instructor sees. ``SSD_COURSE_AUTOGRADER_ROOT`` stands for ``/autograder`` (the
tests run the zip in a temporary folder), ``SSD_COURSE_PYTHON`` for the image's
Python, ``SSD_COURSE_ISOLATION`` overrides config.json's isolation.
"""
import json
import os
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from ssd_course import registry

ROOT_ENV, DEFAULT_ROOT = "SSD_COURSE_AUTOGRADER_ROOT", "/autograder"
CONFIG = "config.json"
PACKAGES = ("autograder", "ssd_course", "solutions")   # what the image's grader imports
PINNED = ("torch", "torchvision", "numpy")             # all that grading imports (fastai: never)
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"   # CPU wheels: no multi-GB CUDA download

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, when it builds the autograder
# (written by `ssd-course gradescope`). It installs Python, bubblewrap and libseccomp,
# the pinned libraries into /autograder/source/.venv, and fills the grader's cache of
# expected values, so that each submission's grading only loads it.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap libseccomp2
python3 -m venv "$SOURCE/.venv"
"$SOURCE/.venv/bin/python" -m pip install -q --upgrade pip
"$SOURCE/.venv/bin/python" -m pip install -q --index-url __TORCH_INDEX__ \
    --extra-index-url https://pypi.org/simple -r "$SOURCE/requirements.txt"
export SSD_COURSE_CACHE="$SOURCE/.cache/ssd-course"
cd "$SOURCE" && PYTHONPATH="$SOURCE" "$SOURCE/.venv/bin/python" -m autograder.gradescope warm
""".replace("__TORCH_INDEX__", TORCH_INDEX)

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission, as root, in /autograder (written by
# `ssd-course gradescope`). SSD_COURSE_AUTOGRADER_ROOT stands for /autograder in tests.
START=$SECONDS
ROOT="${SSD_COURSE_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${SSD_COURSE_PYTHON:-$SOURCE/.venv/bin/python}"
export SSD_COURSE_CACHE="${SSD_COURSE_CACHE:-$SOURCE/.cache/ssd-course}"
mkdir -p "$ROOT/results"
cd "$SOURCE" && PYTHONPATH="$SOURCE" "$PYTHON" -m autograder.gradescope run --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # Python itself could not start: still a results.json, as Gradescope needs one
    echo "run_autograder: the grader exited with status $status before writing results.json"
    printf '{"score": 0, "execution_time": %d, "output": "The autograder could not grade this submission: the grader did not start. Your score is 0 for now; your instructor has the details and will regrade it.", "visibility": "visible", "stdout_visibility": "hidden", "tests": [], "extra_data": {"error": "the grader did not start"}}\n' "$((SECONDS - START))" \
        > "$ROOT/results/results.json"
fi
exit 0
"""


# --- building the zip ----------------------------------------------------------------------------

def requirements() -> str:
    """The pinned libraries grading needs, at this environment's versions."""
    import importlib.metadata
    return "".join(f"{p}=={importlib.metadata.version(p)}\n" for p in PINNED)


def course_files(root: Path):
    """(path in the zip, file) of the grader, solutions and package: .py and data, no caches."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json", ".npz"):
                yield path.relative_to(root).as_posix(), path


def build(out: Path, exercises=None, time_s: float = 30.0, isolation: str = "auto") -> list:
    """Write the autograder zip at `out`; returns the names it holds.

    Raises:
        FileNotFoundError: this copy has no solutions/ or no hidden cases (a student copy).
    """
    from autograder import cases
    from ssd_course import impl

    root = impl.repo_root()
    if impl.solutions_dir() is None or not cases.hidden_available():
        raise FileNotFoundError("the Gradescope autograder needs the instructor's repository "
                                "(solutions/ and autograder/hidden/)")
    config = {"exercises": list(exercises) if exercises else [e.module for e in registry.EXERCISES],
              "time_s": time_s, "isolation": isolation}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        _add(z, "setup.sh", SETUP_SH, executable=True)
        _add(z, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(z, CONFIG, json.dumps(config, indent=1) + "\n")
        _add(z, "requirements.txt", requirements())
        for name, path in course_files(root):
            _add(z, name, path.read_bytes())
        names = z.namelist()
    os.replace(tmp, out)
    return names


def _add(z: zipfile.ZipFile, name: str, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))   # same bytes for the same course
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


# --- inside the image ----------------------------------------------------------------------------

def lock(root: Path):
    """As root (Gradescope), make the grader's own files unreadable to the box's user.

    Where bubblewrap cannot run (a container without user namespaces) the box is plain
    processes under a uid of its own, which would read anything world-readable: the
    solutions and hidden cases are made the owner's only. The box keeps the Python it
    runs (``.venv``) and the way to it.
    """
    if os.geteuid() != 0:
        return
    source = root / "source"
    os.chmod(source, 0o711)
    for item in source.iterdir():
        if item.name == ".venv":
            continue
        for path in [item, *(item.rglob("*") if item.is_dir() and not item.is_symlink() else [])]:
            if not path.is_symlink():
                os.chmod(path, stat.S_IMODE(path.stat().st_mode) & 0o700)
    results = root / "results"
    if results.is_dir():
        os.chmod(results, 0o700)


def _one_zip(folder: Path):
    """The single .zip a submission folder holds and nothing else (an upload of a zip)."""
    items = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    return items[0] if len(items) == 1 and items[0].suffix.lower() == ".zip" and items[0].is_file() \
        else None


def grade_submission(root: Path, config: dict, tmp: Path):
    """(found, result) of grading ``root/submission`` as config.json says."""
    from autograder import api, layout
    from autograder.sandbox import Limits

    submission = root / "submission"
    found = layout.prepare(submission, tmp / "copy")
    inner = _one_zip(submission) if found.layout == "empty" else None
    if inner is not None:
        found = layout.prepare(inner, tmp / "copy-of-zip")
    isolation = os.environ.get("SSD_COURSE_ISOLATION") or config.get("isolation", "auto")
    result = api.grade(found.root, config["exercises"], isolation=isolation,
                       limits=Limits(time_s=float(config.get("time_s", 30.0))),
                       hide=[root / "source", root / "results"])
    return found, result


def student_output(found, result) -> str:
    """results.json's top-level text: the score line, where the files were found, notes."""
    lines = [f"{result.score}/{result.max_score} points (isolation: {result.isolation.kind})",
             f"files graded from: {found.layout}"]
    if found.layout == "empty":
        names = ", ".join(f"{e.module}.py" for e in registry.EXERCISES)
        lines.append(f"no exercise file was found: upload {names} (or your course copy)")
    return "\n".join(lines + [f"note: {n}" for n in found.notes])


def run_autograder(root: Path) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; always returns 0.

    Whatever fails (the config, the sandbox, a bug), results.json is written: score 0,
    one line for the student, the traceback on stdout for the instructor.
    """
    from autograder import report
    from autograder.classroom import _report

    start = time.perf_counter()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        config = json.loads((root / "source" / CONFIG).read_text())
        lock(root)
        with tempfile.TemporaryDirectory(prefix="ssd-course-gradescope-") as tmp:
            found, result = grade_submission(root, config, Path(tmp))
        data = report.gradescope(result, execution_time=time.perf_counter() - start)
        data["output"] = student_output(found, result)
        print(_report(found, result))
    except BaseException as exc:            # noqa: BLE001  Gradescope needs results.json regardless
        print("run_autograder: the grading failed; the student sees score 0 and one line:")
        traceback.print_exc(file=sys.stdout)
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        data = report.gradescope_failure(reason, execution_time=time.perf_counter() - start)
    _write_atomically(results, json.dumps(data, indent=1))
    print(f"wrote {results}: score {data['score']}")
    return 0


def warm() -> int:
    """Compute (or load) every expected value once: setup.sh's last step."""
    from autograder import cases, reference

    ref = reference.available()
    ref.expect(cases.collect(hidden=True)[0])
    print(f"expected values ready in {getattr(ref, 'directory', 'memory')}")
    return 0


def _write_atomically(path: Path, text: str):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --- command line --------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("zip", metavar="OUT.zip", help="where to write the autograder zip")
    parser.add_argument("--exercise", action="append", dest="exercises", metavar="NAME",
                        help="grade only this exercise (repeatable; default: all six)")
    parser.add_argument("--time-limit", default="30", metavar="S",
                        help="wall-time limit of one exercise, seconds (default 30)")


def run(args) -> int:
    """``ssd-course gradescope OUT.zip``: exit 0 with the zip written, 2 with one line when not."""
    out = Path(args.zip)
    try:
        if out.suffix.lower() != ".zip" or out.is_dir():
            raise ValueError(f"expected a .zip file to write, got {args.zip}")
        exercises = list(dict.fromkeys(registry.get(e).module for e in args.exercises or ()))
        try:
            time_s = float(args.time_limit)
        except ValueError:
            time_s = 0.0
        if not 0 < time_s < float("inf"):     # also refuses nan: every comparison with it fails
            raise ValueError(f"expected a positive number of seconds, got {args.time_limit!r}")
        names = build(out, exercises or None, time_s)
    except (ValueError, FileNotFoundError, OSError) as exc:
        print(f"gradescope: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({len(names)} files, {out.stat().st_size >> 10} KB): upload it as the "
          "assignment's autograder (Configure Autograder > Zip file upload)")
    return 0


def main(argv=None) -> int:
    """``python -m autograder.gradescope run|warm [--root DIR]`` inside the image, or
    ``python -m autograder.gradescope OUT.zip`` (as ``ssd-course gradescope``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        root = Path(argv[2]) if argv[1:2] == ["--root"] and len(argv) > 2 else \
            Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT))
        return run_autograder(root)
    if argv[:1] == ["warm"]:
        return warm()
    from ssd_course.tools.cli import Parser
    parser = Parser(prog="ssd-course gradescope", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
