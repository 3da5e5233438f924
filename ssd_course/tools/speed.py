"""Speed measurement of training: images a second, and lesson 08's switch-by-switch table.

Used by lesson 08 and `ssd-course bench --gpu` (`bench_gpu`). Every figure is
timed after a warm-up step, with the GPU synchronised before the clock is read.
"""
import time
from dataclasses import replace

import torch

from ssd_course.train import make_learner


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def loader_speed(dl) -> float:
    """Images a second of one pass over `dl` (data pipeline only: no model).

    Timed from the start of the pass, worker start-up included, as each epoch pays it;
    one batch is taken before, so that one-time costs (CUDA's start) stay out.
    """
    dl.one_batch()
    _sync()
    n, start = 0, time.perf_counter()
    for x, _, _ in dl:
        n += len(x)
    _sync()
    return n / max(time.perf_counter() - start, 1e-9)


def train_steps(learn, batch, steps: int) -> float:
    """Run `steps` training steps on one batch already in memory; returns seconds after 1 warm-up step.

    Precision as the Learner's callbacks say (autocast for bf16), the Learner's loss and optimizer.
    """
    x, bbox, clas = batch
    model, loss_func = learn.model.to(x.device).train(), learn.loss_func
    if learn.opt is None:
        learn.create_opt()
    bf16 = any(type(cb).__name__ == "MixedPrecision" for cb in learn.cbs)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            pred = model(x)
        loss = loss_func(tuple(p.float() for p in pred), bbox, clas)
        loss.backward()
        learn.opt.step()
        learn.opt.zero_grad()

    step()
    _sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync()
    return time.perf_counter() - start


def compute_speed(learn, steps: int = 10) -> float:
    """Images a second of training steps on one batch already on the device (no data loading)."""
    batch = learn.dls.train.one_batch()
    return steps * len(batch[0]) / train_steps(learn, batch, steps)


def pipeline_speed(learn, steps: int = 5) -> float:
    """Images a second of training steps fed by the Learner's own training DataLoader (loading included).

    Two untimed steps on one batch first (cuDNN's choice of kernels, memory); then the
    clock runs from the start of a pass over the training set (worker start-up included,
    as each epoch pays it) for `steps` batches (fewer if the epoch is shorter).
    """
    batch = learn.dls.train.one_batch()
    train_steps(learn, batch, 1)
    bf16 = any(type(cb).__name__ == "MixedPrecision" for cb in learn.cbs)
    model, loss_func = learn.model, learn.loss_func
    _sync()
    n, start = 0, time.perf_counter()
    for i, (x, bbox, clas) in enumerate(learn.dls.train):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            pred = model(x)
        loss_func(tuple(p.float() for p in pred), bbox, clas).backward()
        learn.opt.step()
        learn.opt.zero_grad()
        n += len(x)
        if i + 1 >= steps:
            break
    _sync()
    return n / (time.perf_counter() - start)


# The switches, one after the other, from the blog's recipe to ours (lesson 08's table).
SWITCH_STEPS = (
    ("blog's recipe (PIL per image, loop loss, fp32)",
     dict(cache=False, augment="blog", batched=False, precision="fp32", channels_last=False, opt="fastai")),
    ("+ batched loss", dict(batched=True)),
    ("+ cached images, flips on the device", dict(cache=True, augment="flip")),
    ("+ bf16 autocast", dict(precision="bf16")),
    ("+ channels_last", dict(channels_last=True)),
    ("+ fused AdamW", dict(opt="fused")),
)


def switch_table(config, path, steps: int = 8, bs: int = None, verbose: bool = True):
    """Training img/s (data loading included) as each switch of `SWITCH_STEPS` is turned on in turn.

    Args:
        config (train.Config): the run's config (model, size, batch); the switches are overridden.
        path: the dataset folder.
        steps (int): timed training steps per row (after one warm-up step).
        bs (int): batch size (default: the config's).

    Returns:
        list of (row name, img/s); also printed as a table when `verbose`.
    """
    rows, settings = [], {} if bs is None else {"bs": bs}
    for name, change in SWITCH_STEPS:
        settings.update(change)
        cfg = replace(config, **settings)
        learn = make_learner(cfg, path=path, verbose=False)
        rows.append((name, pipeline_speed(learn, steps)))
        del learn
    if verbose:
        print(format_rows(rows))
    return rows


def format_rows(rows) -> str:
    """A small text table: row name, img/s, speed-up over the first row."""
    width = max(len(name) for name, _ in rows)
    lines = [f"{'switch':<{width}}  {'img/s':>8}  speed-up", f"{'-' * width}  {'-' * 8}  --------"]
    lines += [f"{name:<{width}}  {speed:8.0f}  {speed / rows[0][1]:7.1f}x" for name, speed in rows]
    return "\n".join(lines)
