"""The lessons' shared settings, and `ssd-course run-lessons`: the course end to end.

Settings every lesson reads (environment variables, so that a notebook kernel
started by `run-lessons` sees the same choice as the command that started it):

    SSD_COURSE_SMOKE=1    tiny dataset, 1 short epoch: an automated run, not a lesson to learn from
    SSD_COURSE_DATA=DIR   where datasets and trained models go (default: data/ in the course copy)
    SSD_COURSE_IMPL=...   whose exercise code runs (see ssd_course.impl)

What a lesson does with an exercise the student has not written yet:
`needs("jaccard")` at the top of a cell stops that cell, before it does
anything, with the stub's own message (exercise, lesson, file to edit), so a
cell never fails later with a `NameError` or draws empty axes; cells that do
not need it run. `check_earlier(...)` at a lesson's top says, one line per
exercise of an earlier lesson, whether it is written and passes its checks.

`run-lessons OUT` executes each notebook of lessons/ in a fresh kernel (cwd =
the lessons folder, the same Python as the command), with the reference
solutions unless told otherwise, and writes ``OUT/NN_name.ipynb`` and
``OUT/NN_name.html``. It prints one line per lesson (``03_anchors: ok 12.3 s``)
and exits 1 when a cell raised, naming the cell (130 when stopped by Ctrl-C or
`kill`: the running lesson's kernel is shut down first).
"""
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ssd_course import impl, registry
from ssd_course.stubs import not_implemented_message

SMOKE_ENV = "SSD_COURSE_SMOKE"
DATA_ENV = "SSD_COURSE_DATA"
LESSON_NAME = re.compile(r"^(\d\d)_[A-Za-z0-9_]+\.ipynb$")   # 03_anchors.ipynb

# The course's datasets. The lessons' set is the synthetic default (5,000 + 500
# small images, ~6 s to write on 2 cores); the smoke set only has to exercise the code.
SMOKE_SIZES = dict(n_train=48, n_valid=24)
LARGE_SIZES = dict(n_train=10000, n_valid=1000,   # lesson 08 without PASCAL: more data for a GPU,
                   min_side=160, max_side=320)     # and images large enough for 224 px training


# --- settings the notebooks read --------------------------------------------------------------

def smoke() -> bool:
    """True when ``SSD_COURSE_SMOKE`` asks for a quick automated run (``run-lessons --smoke``)."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def data_root() -> Path:
    """Where the lessons keep datasets and trained models: ``$SSD_COURSE_DATA`` or ``data/`` in the course copy."""
    return Path(os.environ.get(DATA_ENV) or impl.repo_root() / "data")


def course_dataset(size: str = None, verbose: bool = True) -> Path:
    """The synthetic dataset the lessons share, written the first time it is asked for.

    Args:
        size (str): "lessons" (5,000 train + 500 valid images), "large" (10,000 + 1,000,
            for a GPU) or "smoke" (48 + 24); default "smoke" when `smoke()` else "lessons".
    Returns:
        Path: the dataset root (``train/``, ``train.json``, ``valid.json``), under `data_root()`.
    """
    from ssd_course.data import SyntheticSpec, make_synthetic
    size = size or ("smoke" if smoke() else "lessons")
    sizes = {"lessons": {}, "large": LARGE_SIZES, "smoke": SMOKE_SIZES}
    if size not in sizes:
        raise ValueError(f"size must be one of {sorted(sizes)}, got {size!r}")
    folder = "synthetic" if size == "lessons" else f"synthetic-{size}"
    workers = max(1, min(8, os.cpu_count() or 1))      # a GPU machine's cores write the large set faster
    return make_synthetic(data_root() / folder, SyntheticSpec(**sizes[size]), workers=workers,
                          verbose=verbose)


def models_dir() -> Path:
    """Where lessons save trained weights for later lessons (``data/models``)."""
    path = data_root() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> str:
    """"gpu" when CUDA is available, else "cpu"; the lessons size their training by it."""
    import torch
    return "gpu" if torch.cuda.is_available() else "cpu"


def training_config(head: str, cpu_epochs: int = None, gpu_epochs: int = None, **overrides):
    """The training config a lesson uses on this machine, saying which and why.

    "smoke" in an automated run (``SSD_COURSE_SMOKE=1``, 1 epoch), "gpu" (the blog's
    recipe) when there is a GPU, else "cpu" (a smaller body and images, trained
    from scratch).

    Args:
        head (str): "4x4" or "multi".
        cpu_epochs, gpu_epochs (int): the lesson's number of epochs on that kind of
            machine (default: the config's own).
        **overrides: other Config fields to change.
    Returns:
        ssd_course.train.Config
    """
    from ssd_course.train import get_config
    if smoke():
        name, why, epochs = "smoke", "automated run (SSD_COURSE_SMOKE=1): a tiny model, to prove the cells run", 1
    elif machine() == "gpu":
        name, why, epochs = "gpu", "a GPU is here: the blog's model and input size (resnet34, 224 px, batches of 128) on the fast path of lesson 08", gpu_epochs
    else:
        name, why, epochs = "cpu", "no GPU here: a smaller body and images, so that it trains in minutes", cpu_epochs
    config = get_config(name, head=head, **{"epochs": epochs, **overrides})
    print(f"training config {name!r} ({why})\n  {config.describe()}")
    return config


def estimate_training(learn, epochs: int = None) -> float:
    """Measure one training step and say how long ``fit_one_cycle(epochs)`` will take.

    Runs four batches forward and backward, restores the model's weights, and
    extrapolates the fastest of the last three (the first pays for one-time set-up,
    and a busy machine only ever slows a step down) to the epochs' training and
    validation batches (validation counted at a third of a training step).

    Returns:
        float: the estimate, in seconds (also printed).
    """
    import copy
    import torch
    epochs = epochs or learn.config.epochs
    state = copy.deepcopy(learn.model.state_dict())
    learn.model.train()
    timings = []
    for i, (x, bbox, clas) in enumerate(learn.dls.train):
        start = time.perf_counter()
        loss = learn.loss_func(learn.model(x), bbox, clas)
        loss.backward()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        timings.append(time.perf_counter() - start)
        if i == 3 or smoke():
            break
    learn.model.zero_grad(set_to_none=True)
    learn.model.load_state_dict(state)
    step = min(timings[1:] or timings)
    batches = len(learn.dls.train) + len(learn.dls.valid) / 3
    seconds = step * batches * epochs
    print(f"one training step takes {step:.2f} s (batch of {learn.dls.bs}); {epochs} epoch(s) of "
          f"{len(learn.dls.train)} batches: about {_duration(seconds)}")
    return seconds


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.0f} minutes"


def save_model(learn, name: str) -> Path:
    """Save a Learner's weights (and the config that made them) for a later lesson: ``data/models/NAME.pth``."""
    import torch
    from dataclasses import asdict as _asdict
    path = models_dir() / f"{name}.pth"
    torch.save({"config": _asdict(learn.config), "vocab": list(learn.dls.vocab),
                "state": learn.model.state_dict()}, path)
    print(f"saved the trained weights to {path}")
    return path


def load_model(learn, name: str) -> bool:
    """Load weights saved by `save_model` into `learn` if they were made with the same config and classes.

    Returns:
        bool: True when loaded; False (and why, printed) when there is nothing suitable.
    """
    import torch
    from dataclasses import asdict as _asdict
    path = models_dir() / f"{name}.pth"
    if not path.is_file():
        print(f"no saved weights in {path}")
        return False
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if saved["config"] != _asdict(learn.config) or saved["vocab"] != list(learn.dls.vocab):
        print(f"the weights in {path} were trained with another config or dataset: not used")
        return False
    learn.model.load_state_dict(saved["state"])
    print(f"loaded the weights trained in an earlier lesson from {path}")
    return True


# --- the exercises a cell needs: one message, never a cascade ----------------------------------

def _probe_args(module: str, torch) -> tuple:
    """The smallest valid input of each exercise's contract: enough to reach a stub's `raise`."""
    box = torch.tensor([[0.0, 0.0, 1.0, 1.0]])                      # [1, 4] xyxy
    return {"flatten_conv": (torch.zeros(1, 2, 1, 1), 1),             # x [B, k*F, H, W], k
            "anchors": (),                                          # the default 4x4 grid
            "jaccard": (box, box),
            "matching": (torch.tensor([[0.5]]),),                   # overlaps [G=1, A=1]
            "focal_loss": (torch.zeros(1, 2), torch.zeros(1, dtype=torch.long)),
            "nms": (box, torch.ones(1))}[module]


def written(name: str) -> bool:
    """False while exercise `name` (module or function name) is still the stub.

    Calls the function of the implementation in use on a tiny valid input: the
    untouched stub raises NotImplementedError there. Anything else, a result or
    another error, means the student has written something; its bugs are then
    the cell's to show, not hidden behind "not written yet". What the call
    prints is swallowed, so a student's debugging prints do not repeat in every cell.
    """
    import torch
    ex = registry.get(name)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            impl.function(ex.module)(*_probe_args(ex.module, torch))
    except NotImplementedError:
        return False
    except Exception:           # written, with a bug: let the cell run into it
        return True
    return True


def needs(*exercises: str) -> None:
    """Stop the cell here when an exercise it uses is not written yet.

    Put first in a cell that calls an exercise, directly or through the pipeline
    (the model calls `flatten_conv`, the loss `jaccard`, ...), or that uses a
    result of such a cell: it stops before drawing anything or defining half
    its names, so later cells never fail with a `NameError` in its place.

    Args:
        exercises: module or function names (``"anchors"`` or ``"make_anchors"``), checked in order.
    Raises:
        NotImplementedError: the stub's message (exercise, lesson, file to edit, check to run)
            of the first exercise not written yet.
    """
    for name in exercises:
        ex = registry.get(name)
        if not written(ex.module):
            raise NotImplementedError(not_implemented_message(ex)) from None


def check_earlier(*exercises: str) -> bool:
    """What a lesson needs from earlier lessons: one line per exercise, then True when all are ready.

    Each exercise is "not written yet" (where to write it, and that the cells using
    it will stop until then), or written; the written ones run their public
    cases once, together (`ssd_course.check`, a few seconds), except in a smoke
    run, which only proves that the cells run. A failing one is named, with the
    check that shows why.

    Args:
        exercises: module or function names of exercises introduced by earlier lessons.
    Returns:
        bool: True when every one is written (and, outside a smoke run, passes its public cases).
    """
    from ssd_course import check
    chosen = [registry.get(name) for name in exercises]
    missing = [ex for ex in chosen if not written(ex.module)]
    ready = [ex for ex in chosen if ex not in missing]
    failing = []
    if ready and not smoke() and not check(*(ex.module for ex in ready), quiet=True):
        failing = [ex for ex in ready if not check(ex.module, quiet=True)]
    for ex in chosen:
        head = f"exercise {ex.number} (lesson {ex.lesson}) {ex.function}:"
        if ex in missing:
            print(f"{head} NOT WRITTEN YET. Write it in {ex.path} and run check('{ex.module}') "
                  f"in lesson {ex.lesson}; until then the cells below that use it stop with that message.")
        elif ex in failing:
            print(f"{head} FAILS some of its public cases: run check('{ex.module}') to see which; "
                  f"the cells below that use it may fail or draw wrong pictures.")
        else:
            print(f"{head} ok" + (" (written; public cases not run in a smoke run)" if smoke()
                                  else ", passes its public cases"))
    return not missing and not failing


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
