"""`ssd-course bench --gpu`: the blog's recipe against ours, side by side, on the same data in one run.

    bench --gpu: <device>, torch <v>, fastai <v>; <dataset>; <E> epoch(s)
    data: baseline <N> img/s, ours <N> img/s, speedup <x>x
        the training DataLoader alone (no model): fastai's per-item PIL path with its
        workers and the blog's augmentations, against the cache (`gpu_loader.CachedDetectionDL`)
    compute: baseline <N> img/s, ours <N> img/s, speedup <x>x
        training steps on one batch already on the device (no loading): fp32, the loop
        loss and fastai's Adam, against bf16 autocast, channels_last, the batched loss, fused AdamW
    train: baseline <N> img/s (<s> s/epoch), ours <N> img/s (<s> s/epoch), speedup <x>x
        `fit_one_cycle` end to end: training images seen / seconds of the whole fit,
        the validation passes included in the seconds (not in the images)
    map: baseline <m>, ours <m> (mAP@0.5 on the <V> validation images after <E> epoch(s))
    also: the fast path with the blog's hyperparameters: <N> img/s, mAP@0.5 <m>
        separates what the switches buy in speed from what the gpu config's
        hyperparameters buy in accuracy
    ddp: <N> processes <T> img/s in all, <T/N> img/s per process; 1 process <O> img/s; scaling efficiency <e>%
        with more than one GPU only: `distributed.main` (the gpu config) under torchrun on 1 and on
        N = all the GPUs, one process each; efficiency = T / (N x O)

The baseline is the `blog` config and ours the `gpu` config (`train.CONFIGS`),
both from scratch, with the same seed. The dataset is the synthetic one at
PASCAL VOC's image sizes (375-500 px a side, 2,000 + 500 images), written on
first use. ``--quick`` shrinks everything (resnet10, 64 px, a few dozen images,
1 epoch) so that the command can be tested on a CPU in seconds: its figures are
not GPU figures.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from ssd_course.tools import speed

PASCAL_SIZED = dict(n_train=2000, n_valid=500, min_side=375, max_side=500)
QUICK_SIZED = dict(n_train=16, n_valid=8, min_side=96, max_side=160)
QUICK = dict(arch="resnet10", size=64, bs=8, epochs=1, num_workers=0)


def device_name() -> str:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (no CUDA device)"


def bench_configs(epochs: int, quick: bool):
    """(baseline, ours, ours with the blog's hyperparameters): three `train.Config`s."""
    from ssd_course.train import get_config
    shrink = QUICK if quick else dict(epochs=epochs)
    baseline, ours = get_config("blog", **shrink), get_config("gpu", **shrink)
    blog_hp = replace(baseline, name="blog-hp-fast", cache=True, augment="flip", batched=True,
                      precision=ours.precision, channels_last=ours.channels_last, opt=ours.opt)
    return baseline, ours, blog_hp


def _fit(config, root, seed: int = 0, warm_up: bool = True):
    """Train `config` from scratch on `root`: (Learner, seconds, training images seen).

    One training step of a throwaway Learner first, so that one-time costs (cuDNN
    timing its kernels for this layout and precision) stay out of the fit's seconds.
    """
    from ssd_course.train import make_learner, train
    if warm_up:
        warm = make_learner(config, path=root, verbose=False)
        speed.train_steps(warm, warm.dls.train.one_batch(), 1)
        del warm
    torch.manual_seed(seed)
    learn = make_learner(config, path=root, verbose=False)
    with learn.no_bar(), learn.no_logging():
        seconds = train(learn)
    return learn, seconds, len(learn.dls.train) * learn.dls.bs * config.epochs


def _count(json_file) -> int:
    return len(json.loads(Path(json_file).read_text())["images"])


def bench_gpu(data=None, epochs: int = 5, quick: bool = False, steps: int = 10, json_out=None) -> dict:
    """Run the benchmark and print its lines; returns the figures as a dict (also written to `json_out`).

    Args:
        data: a dataset folder to use as it is, or where to write the benchmark's synthetic set
            (default: under `lessons.data_root()`).
        epochs (int): each recipe's training epochs; quick (bool): the tiny version, for tests.
        steps (int): timed steps of the compute-only figure.
    """
    import fastai
    from ssd_course.synthetic import SyntheticSpec, make_synthetic
    from ssd_course.tools.notebook import data_root
    from ssd_course.metrics import evaluate
    from ssd_course.train import make_learner
    sizes = dict(QUICK_SIZED if quick else PASCAL_SIZED)
    root = Path(data or data_root() / ("bench-quick" if quick else "bench-pascal-sized"))
    if (root / "train.json").is_file() and data is not None:      # a dataset given: use it as it is
        sizes = dict(n_train=_count(root / "train.json"), n_valid=_count(root / "valid.json"),
                     min_side="?", max_side="?")
    else:
        root = make_synthetic(root, SyntheticSpec(**sizes), workers=max(1, min(16, os.cpu_count() or 1)),
                              verbose=False)
    baseline, ours, blog_hp = bench_configs(epochs, quick)
    steps = 1 if quick else steps
    print(f"bench --gpu: {device_name()}, torch {torch.__version__}, fastai {fastai.__version__}; "
          f"{root}: {sizes['n_train']} train + {sizes['n_valid']} valid images, {sizes['min_side']}-"
          f"{sizes['max_side']} px; {baseline.arch} {baseline.size} px, batch {baseline.bs}; "
          f"{baseline.epochs} epoch(s)", flush=True)
    if quick:
        print("note: --quick: a tiny model and dataset, to test the command; these are not GPU figures")
    if not torch.cuda.is_available():
        print("note: no CUDA device: the switches that need one fall back (see the notes below)")
    out = {"device": device_name(), "torch": torch.__version__, "fastai": fastai.__version__,
           "dataset": str(root), **sizes, "epochs": baseline.epochs, "date": time.strftime("%Y-%m-%d")}

    # 1. the data pipeline alone, then 2. compute alone: one Learner of each recipe serves both
    learn_b = make_learner(baseline, path=root, verbose=False)
    data_b = speed.loader_speed(learn_b.dls.train)
    start = time.perf_counter()
    learn_o = make_learner(ours, path=root, verbose=False)
    out["cache_seconds"] = time.perf_counter() - start
    data_o = speed.loader_speed(learn_o.dls.train)
    print(f"data: baseline {data_b:.0f} img/s, ours {data_o:.0f} img/s, speedup {data_o / data_b:.1f}x "
          f"(ours: images decoded once, {out['cache_seconds']:.1f} s before the first epoch)", flush=True)
    comp_b, comp_o = speed.compute_speed(learn_b, steps), speed.compute_speed(learn_o, steps)
    print(f"compute: baseline {comp_b:.0f} img/s, ours {comp_o:.0f} img/s, speedup {comp_o / comp_b:.1f}x",
          flush=True)
    out.update(data_baseline=data_b, data_ours=data_o, compute_baseline=comp_b, compute_ours=comp_o)
    del learn_b, learn_o

    # 3. end to end, and 4. the accuracy it reaches
    results = {}
    for key, config in (("baseline", baseline), ("ours", ours), ("blog_hp_fast", blog_hp)):
        learn, seconds, images = _fit(config, root, warm_up=not quick)
        results[key] = dict(img_s=images / seconds, s_epoch=seconds / config.epochs,
                            map=evaluate(learn)["map"], n_valid=len(learn.dls.valid_ds))
        del learn
    b, o, h = results["baseline"], results["ours"], results["blog_hp_fast"]
    print(f"train: baseline {b['img_s']:.0f} img/s ({b['s_epoch']:.1f} s/epoch), ours {o['img_s']:.0f} img/s "
          f"({o['s_epoch']:.1f} s/epoch), speedup {o['img_s'] / b['img_s']:.1f}x")
    print(f"map: baseline {b['map']:.3f}, ours {o['map']:.3f} (mAP@0.5 on the {o['n_valid']} validation "
          f"images after {baseline.epochs} epoch(s))")
    print(f"also: the fast path with the blog's hyperparameters: {h['img_s']:.0f} img/s, mAP@0.5 {h['map']:.3f}",
          flush=True)
    out.update(train=results)

    # 5. several processes (DDP): only where there are several GPUs to run them on
    if torch.cuda.device_count() > 1:
        out["ddp"] = bench_ddp(ours, root)
    else:
        print("ddp: skipped (fewer than 2 GPUs; with N, the gpu config on N processes against 1)", flush=True)
    if json_out:
        Path(json_out).write_text(json.dumps(out, indent=1) + "\n")
    return out


# --- several processes --------------------------------------------------------------------------

def ddp_command(n: int, config, root, report) -> list:
    """argv of `distributed.main` training `config` on `n` processes of this machine, writing its `--report`.

    torchrun --standalone: a rendezvous on this machine at a free port. Every field where
    `config` differs from its named config travels as ``--set FIELD=VALUE``.
    """
    from dataclasses import fields
    from ssd_course.train import CONFIGS
    named = CONFIGS[config.name]
    settings = [f"--set={f.name}={getattr(config, f.name)}" for f in fields(config)
                if getattr(config, f.name) != getattr(named, f.name)]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}",
            "-m", "ssd_course.distributed", "--config", config.name, "--data", str(root), "--report", str(report),
            *settings]


def ddp_figures(one: dict, many: dict) -> dict:
    """Scaling, from the `--report` summaries of a 1-process and an N-process run of the same config.

    Returns:
        dict: ``n``, ``one_img_s``, ``all_img_s`` (all N processes together),
        ``per_process_img_s``, ``efficiency`` (all_img_s / (N x one_img_s): 1.0 is perfect
        scaling), ``map_one``, ``map_all``.
    """
    n = many["world_size"]
    return dict(n=n, one_img_s=one["img_s"], all_img_s=many["img_s"], per_process_img_s=many["img_s"] / n,
                efficiency=many["img_s"] / (n * one["img_s"]), map_one=one["map"], map_all=many["map"])


def ddp_line(f: dict) -> str:
    return (f"ddp: {f['n']} processes {f['all_img_s']:.0f} img/s in all, {f['per_process_img_s']:.0f} img/s per "
            f"process; 1 process {f['one_img_s']:.0f} img/s; scaling efficiency {f['efficiency']:.0%} "
            f"(mAP@0.5 {f['map_all']:.3f} on {f['n']}, {f['map_one']:.3f} on 1)")


def bench_ddp(config, root, n: int = None, run=subprocess.run) -> dict:
    """Train `config` under torchrun on 1 process, then on `n` (default: every GPU); print the ddp line.

    Each run is a fresh `distributed.main` (its own cache, cuDNN's timing in its fit), so the
    two pay the same one-time costs. `run` is `subprocess.run` (a test passes its own).

    Returns:
        `ddp_figures`'s dict.
    """
    n = n or torch.cuda.device_count()
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        for procs in (1, n):
            report = Path(tmp) / f"ddp-{procs}.json"
            run(ddp_command(procs, config, root, report), check=True, stdout=subprocess.DEVNULL)
            reports[procs] = json.loads(report.read_text())
    figures = ddp_figures(reports[1], reports[n])
    print(ddp_line(figures), flush=True)
    return figures
