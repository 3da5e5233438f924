"""What the lessons call: their shared settings, datasets, trained weights, and exercise gates.

Settings every lesson reads (environment variables, so that a notebook kernel
started by `ssd-course run-lessons` sees the same choice as the command that started it):

    SSD_COURSE_SMOKE=1    tiny dataset, 1 short epoch: an automated run, not a lesson to learn from
    SSD_COURSE_DATA=DIR   where datasets and trained models go (default: data/ in the course copy)
    SSD_COURSE_IMPL=...   whose exercise code runs (see ssd_course.impl)

What a lesson does with an exercise the student has not written yet:
`needs("jaccard")` at the top of a cell stops that cell, before it does
anything, with the stub's own message (exercise, lesson, file to edit), so a
cell never fails later with a `NameError` or draws empty axes; cells that do
not need it run. `check_earlier(...)` at a lesson's top says, one line per
exercise of an earlier lesson, whether it is written and passes its checks.
"""
import contextlib
import io
import os
import time
from pathlib import Path

from ssd_course import impl, registry
from ssd_course.tools.markers import not_implemented_message

SMOKE_ENV = "SSD_COURSE_SMOKE"
DATA_ENV = "SSD_COURSE_DATA"

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
    from ssd_course.synthetic import SyntheticSpec, make_synthetic
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
    cases once, together (`autograder.check`, a few seconds), except in a smoke
    run, which only proves that the cells run. A failing one is named, with the
    check that shows why.

    Args:
        exercises: module or function names of exercises introduced by earlier lessons.
    Returns:
        bool: True when every one is written (and, outside a smoke run, passes its public cases).
    """
    from autograder import check
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
