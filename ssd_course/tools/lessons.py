"""`ssd-course run-lessons OUT`: the course end to end, each lesson in a fresh kernel.

`run-lessons OUT` executes each notebook of lessons/ in a fresh kernel (cwd =
the lessons folder, the same Python as the command), with the reference
solutions unless told otherwise, and writes ``OUT/NN_name.ipynb`` and
``OUT/NN_name.html``. It prints one line per lesson (``03_anchors: ok 12.3 s``)
and exits 1 when a cell raised, naming the cell (130 when stopped by Ctrl-C or
`kill`: the running lesson's kernel is shut down first). The settings it hands
the kernels are those of `ssd_course.tools.notebook`.
"""
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ssd_course import impl
from ssd_course.tools.notebook import DATA_ENV, SMOKE_ENV

LESSON_NAME = re.compile(r"^(\d\d)_[A-Za-z0-9_]+\.ipynb$")   # 03_anchors.ipynb


# --- finding and running the lessons ----------------------------------------------------------

def lessons_dir() -> Path:
    """The lessons/ folder of this course copy."""
    return impl.repo_root() / "lessons"


def find_lessons(folder=None, only=None) -> list:
    """The numbered notebooks (``NN_name.ipynb``) in `folder`, in order.

    Args:
        only (sequence of str): lesson numbers or names to keep (``"03"``, ``"03_anchors"``);
            ranges like ``"00-04"`` are accepted.
    """
    folder = Path(folder or lessons_dir())
    found = sorted(p for p in folder.glob("*.ipynb") if LESSON_NAME.match(p.name))
    if not only:
        return found
    wanted = set()
    for item in only:
        if re.fullmatch(r"\d\d-\d\d", item):
            lo, hi = (int(v) for v in item.split("-"))
            wanted.update(f"{n:02d}" for n in range(lo, hi + 1))
        else:
            wanted.add(item[:2] if re.match(r"\d\d", item) else item)
    chosen = [p for p in found if p.name[:2] in wanted]
    missing = sorted(w for w in wanted if not any(p.name[:2] == w for p in found))
    if missing and not any(re.fullmatch(r"\d\d-\d\d", i) for i in only):
        raise ValueError(f"no lesson {', '.join(missing)} in {folder} (there are: "
                         f"{', '.join(p.stem for p in found)})")
    return chosen


@dataclass
class LessonResult:
    name: str                       # 03_anchors
    status: str                     # "ok", "error", or "interrupted" (Ctrl-C, kill)
    seconds: float
    error: str = ""                 # the failing cell and its exception, when status is "error"
    stderr_cells: list = field(default_factory=list)   # code cells (0-based) that wrote to stderr
    cpu_seconds: float = None       # CPU time of the kernel (all its threads): compare with `seconds`
                                    # to see how much other work on the machine slowed the lesson

    def line(self) -> str:
        text = f"{self.name}: {self.status} {self.seconds:.1f} s"
        if self.cpu_seconds is not None:
            text += f" (kernel cpu {self.cpu_seconds:.0f} s)"
        if self.error:
            text += f"  ({self.error})"
        if self.stderr_cells:
            text += f"  [stderr in cell(s) {', '.join(map(str, self.stderr_cells))}]"
        return text


def _kernel_manager(tmp: Path):
    """A kernel manager whose `python3` kernel is this very interpreter.

    A `python3` kernelspec in the user's Jupyter folder would otherwise win over
    the virtualenv's, and the lessons would import some other ssd_course.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    spec_dir = tmp / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")], ensure_native_kernel=False)
    # Async, as nbclient's own default: a blocking client would wait for kernel messages inside
    # a C call that no signal interrupts, and Ctrl-C would not stop the run.
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ksm)


def _error_summary(nb, exc) -> str:
    """'cell 12: NotImplementedError: ...' for the first code cell with an error output."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                value = out.get("evalue", "").strip().splitlines()
                return f"cell {i}: {out.get('ename', 'Error')}: {value[0] if value else ''}"[:300]
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"[:300]


def stderr_cells(nb) -> list:
    """Indices of the cells that wrote to stderr (nbgrader scores such a graded cell 0)."""
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and any(o.get("output_type") == "stream" and o.get("name") == "stderr"
                    for o in cell.get("outputs", []))]


def error_cells(nb) -> list:
    """Indices of the cells with an error output."""
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and any(o.get("output_type") == "error" for o in cell.get("outputs", []))]


def run_lesson(path, out_dir, env=None, timeout=1800, html=True, allow_errors=False) -> LessonResult:
    """Execute one notebook in a fresh kernel and write the executed copy (and HTML) to `out_dir`.

    Args:
        path: the lesson notebook; its folder is the kernel's working directory.
        env (dict): the kernel's environment (default: this process's).
        timeout (int): seconds allowed per cell.
        allow_errors (bool): run every cell, as a student who runs them all would; the
            result's status is then "error" when any cell raised (see `error_cells`).
    """
    import nbformat
    from nbclient import NotebookClient
    path, out_dir = Path(path), Path(out_dir)
    nb = nbformat.read(path, as_version=4)
    start, cpu_start = time.perf_counter(), _children_cpu()
    error = ""
    out_dir.mkdir(parents=True, exist_ok=True)
    # The kernel process's own messages (start-up notices, a crash's last words) go to a
    # log file next to the notebook, not into the run's report.
    with tempfile.TemporaryDirectory(prefix="ssd-course-kernel-") as tmp, \
            open(out_dir / f"{path.stem}.kernel.log", "w") as log:
        client = NotebookClient(nb, km=_kernel_manager(Path(tmp)), timeout=timeout,
                                shutdown_kernel="immediate", allow_errors=allow_errors,
                                resources={"metadata": {"path": str(path.parent)}})
        # nbclient stops the kernel and closes its channels at the end only for kernel managers
        # it made itself; this one is ours, so say it is its own: else every lesson's kernel,
        # trained model and all, would live on until the command ends.
        client.owns_km = True
        try:
            client.execute(env=dict(os.environ if env is None else env), stdout=log, stderr=log)
        except Exception as exc:   # CellExecutionError, a timeout, a dead kernel: report, keep going
            error = _error_summary(nb, exc)
        if allow_errors and not error and error_cells(nb):
            error = _error_summary(nb, None)
    # On SIGINT/SIGTERM during a lesson nbclient shuts its kernel down (and notes the task here).
    interrupted = getattr(client, "_async_cleanup_kernel_future", None) is not None
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu_start                  # the kernel has exited and been reaped by now
    nbformat.write(nb, out_dir / path.name)
    if html:
        _write_html(nb, out_dir / f"{path.stem}.html")
    status = "interrupted" if interrupted else "error" if error else "ok"
    return LessonResult(path.stem, status, seconds, error, stderr_cells(nb),
                        round(cpu, 1) if cpu > 0 else None)


def _children_cpu() -> float:
    """CPU seconds used by this process's finished child processes (the lesson kernels)."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _write_html(nb, target: Path) -> None:
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter().from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


def lesson_env(which="solutions", smoke_run=False, data=None) -> dict:
    """The kernel environment for a run: whose code, smoke or not, where the data goes."""
    env = dict(os.environ)
    env[impl.ENV_VAR] = which
    env[SMOKE_ENV] = "1" if smoke_run else "0"
    if data is not None:
        env[DATA_ENV] = str(Path(data).resolve())
    # Figures go into the notebook even when the caller set a headless backend (MPLBACKEND=Agg).
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


# --- command line: ssd-course run-lessons OUT [--smoke] ------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("out", type=Path, help="folder for the executed notebooks and their HTML")
    parser.add_argument("--smoke", action="store_true",
                        help="quick automated run: tiny dataset, 1 short epoch (sets SSD_COURSE_SMOKE=1)")
    parser.add_argument("--impl", choices=impl.CHOICES, default="solutions",
                        help="whose exercise code the lessons run (default: solutions)")
    parser.add_argument("--only", nargs="+", metavar="NN",
                        help="run only these lessons, e.g. --only 00 03 or --only 00-07")
    parser.add_argument("--lessons", type=Path, default=None,
                        help="folder of the notebooks (default: lessons/ of this course copy)")
    parser.add_argument("--data", type=Path, default=None,
                        help="where datasets and trained models go (sets SSD_COURSE_DATA; "
                             "default: data/ in the course copy)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--no-html", action="store_true", help="write the notebooks only")
    parser.add_argument("--all-cells", action="store_true",
                        help="run every cell even after one raised, as a student who runs them all "
                             "(with --impl student: each cell that needs an unwritten exercise stops "
                             "with its message, and the others run)")


def run(args) -> int:
    try:
        if args.impl == "solutions":
            impl.use("solutions")   # fails early, with the reason, in a student copy
        lessons = find_lessons(args.lessons, args.only)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    if not lessons:
        print(f"error: no lessons (NN_name.ipynb) in {args.lessons or lessons_dir()}")
        return 2
    env = lesson_env(args.impl, args.smoke, args.data)
    print(f"running {len(lessons)} lesson(s) with the {args.impl} code"
          f"{' (smoke run: tiny data, 1 short epoch)' if args.smoke else ''} -> {args.out}", flush=True)
    results, start = [], time.perf_counter()
    for path in lessons:
        result = run_lesson(path, args.out, env=env, timeout=args.timeout, html=not args.no_html,
                            allow_errors=getattr(args, "all_cells", False))
        results.append(result)
        print(result.line(), flush=True)
        if result.status == "interrupted":       # Ctrl-C or `kill`: its kernel is stopped; stop here
            break
    total = time.perf_counter() - start
    failed = [r.name for r in results if r.status != "ok"]
    (Path(args.out) / "summary.json").write_text(json.dumps(
        {"impl": args.impl, "smoke": args.smoke, "seconds": round(total, 1),
         "lessons": [asdict(r) for r in results]}, indent=1) + "\n")
    print(f"total: {total:.1f} s, {len(results) - len(failed)}/{len(results)} ok"
          + (f"; errors in {', '.join(failed)}" if failed else ""))
    if results[-1].status == "interrupted":
        return 130
    return 1 if failed else 0
