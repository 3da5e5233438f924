"""Training on several processes: DistributedDataParallel through fastai's `distrib_ctx`.

Launched by `torchrun` or `accelerate launch` (`main`, below), W processes run the
same program; each knows its rank r = 0..W-1 from the launcher's environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Each process:

    1. joins the process group (`start`): NCCL with one GPU per process (GPU = LOCAL_RANK),
       gloo on CPUs;
    2. builds the same Learner, from the same seed;
    3. trains inside fastai's ``learn.distrib_ctx()`` (`training`): the model wrapped in
       DistributedDataParallel (gradients averaged over the ranks in every backward, so
       the weights stay identical), every loader wrapped in `ShardedDL` (each epoch rank 0
       shuffles, broadcasts the order, rank r takes the r-th of W equal slices), the
       losses fastai logs gathered over the ranks and printed by rank 0 alone;
    4. is scored by `evaluate`: each rank predicts its slice of the validation set, rank 0
       gathers the detections and computes one mAP over the whole set.

Only rank 0 prints tables and writes files (`on_rank0`). One process (no launcher, or
``--nproc_per_node 1``) trains exactly as without this module.
"""
import hashlib
import os
from contextlib import contextmanager

import torch
import torch.distributed as dist
from fastai.callback.core import Callback
from fastai.distributed import DistributedDL     # also gives Learner its distrib_ctx (needs accelerate)
from fastai.torch_core import find_bs, num_distrib, rank_distrib


def world() -> int:
    """W, the number of processes of this run (1 without a launcher)."""
    return max(1, num_distrib())


def rank() -> int:
    """r, this process's rank (0 without a launcher)."""
    return rank_distrib()


def backend() -> str:
    """The process group's backend: "nccl" (a GPU per process) or "gloo" (CPUs)."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def start() -> str:
    """Join the launcher's process group (once per process); returns its backend, or None for one process.

    Each process takes the GPU numbered by its LOCAL_RANK (torchrun's and accelerate's
    numbering on a node), so that W processes on a node of W GPUs use one GPU each.
    """
    if world() == 1:
        return None
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    if not dist.is_initialized():
        dist.init_process_group(backend=backend())      # env:// rendezvous, as the launcher set it
    return dist.get_backend()


def stop() -> None:
    """Leave the process group (at the end of a run: NCCL warns about a group left alive)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank is here (nothing to wait for in one process)."""
    if dist.is_initialized():
        dist.barrier()


def local_first(func, *args):
    """``func(*args)`` on each machine's first process (LOCAL_RANK 0), then on its other processes.

    For what a machine writes once and its processes then read (a download, a cache on disk).
    """
    first = int(os.environ.get("LOCAL_RANK", 0)) == 0
    if first:
        result = func(*args)
    barrier()
    if not first:
        result = func(*args)
    return result


def on_rank0(func, *args):
    """``func(*args)`` on rank 0 only (writing a file, printing a table); None elsewhere."""
    return func(*args) if rank() == 0 else None


def gather(obj) -> list:
    """Every rank's `obj` (picklable), in rank order, on every rank: ``[obj]`` for one process."""
    if world() == 1:
        return [obj]
    out = [None] * world()
    dist.all_gather_object(out, obj)
    return out


# --- sharding a loader ---------------------------------------------------------------------------

class ShardedDL(DistributedDL):
    """fastai's `DistributedDL` (rank r of W serves the r-th of W equal slices of each epoch's order),
    on gloo as on NCCL, remembering the slice it served.

    fastai broadcasts rank 0's order as a CUDA tensor (NCCL takes nothing else); gloo takes
    CPU tensors, so the order travels on the device the backend takes. When the length
    does not divide by W, the order is padded with its first indices (fastai's rule).

    Args:
        dl: a fastai DataLoader (`gpu_loader.CachedDetectionDL` too: it serves any order of indices).
        rank, world_size (int): r and W (default: the launcher's, from the environment).

    Attributes:
        shard (list of int): this rank's indices into the dataset for the current pass,
            padding included, in the order served (the last incomplete batch of a
            ``drop_last`` loader is not served).
    """

    def _broadcast(self, t, rank):
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        t = torch.tensor(t, dtype=torch.int64, device=device)                 # [N] indices
        dist.broadcast(t, rank)
        return t.cpu().tolist()

    def get_idxs(self):
        self.shard = super().get_idxs()
        return self.shard


def sync_buffers(model) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank, in place.

    DistributedDataParallel averages gradients, so parameters agree; the BatchNorm
    statistics are each rank's own unless BatchNorm is synchronised (SyncBatchNorm, which
    needs GPUs). DDP itself broadcasts rank 0's buffers before each forward: this does
    it once more after the last one, so every rank ends with rank 0's model.
    """
    if world() == 1:
        return
    for b in model.buffers():
        dist.broadcast(b.data, 0)


@contextmanager
def training(learn):
    """Train `learn` on all the ranks inside this context (fastai's ``learn.distrib_ctx()``).

    Inside: the model in DistributedDataParallel (through accelerate), its BatchNorm
    synchronised across ranks on GPUs (SyncBatchNorm; on CPUs each rank keeps its own
    statistics, `sync_buffers` unifies them at the end), the loaders sharded by
    `ShardedDL`, the progress bar and the tables of rank 0 alone. After: the plain model
    and loaders back, the same weights on every rank. One process: does nothing.
    """
    if world() == 1:
        yield learn
        return
    plain = list(learn.dls.loaders)
    # fastai's DistributedTrainer keeps a DistributedDL as it finds it: these are ours.
    learn.dls.loaders = [ShardedDL(dl) for dl in plain]
    on_gpus = torch.cuda.is_available()
    try:
        # cpu=True: accelerate's gloo mode (without it a CPU process is not wrapped at all).
        with learn.distrib_ctx(sync_bn=on_gpus, cpu=not on_gpus):
            yield learn
        sync_buffers(learn.model)
    finally:
        learn.dls.loaders = plain


class StepLog(Callback):
    """Counts what this rank trained on: steps, images, and (sharded) which images of each epoch.

    Attributes:
        steps (int), images (int): training batches and images of the whole fit, this rank's.
        epochs (list of list of int): per epoch, the dataset indices this rank trained on
            (empty lists when the loader is not sharded).
    """
    order = 100

    def before_fit(self):
        self.steps, self.images, self.epochs, self._epoch_images = 0, 0, [], 0

    def before_train(self):
        self._epoch_images = 0

    def after_batch(self):
        if self.training:
            self.steps += 1
            self._epoch_images += find_bs(self.learn.yb)

    def after_train(self):
        self.images += self._epoch_images
        shard = getattr(self.learn.dl, "shard", None)
        self.epochs.append([] if shard is None else [int(i) for i in shard[:self._epoch_images]])


def weights_digest(model) -> str:
    """sha256 of every parameter and buffer of `model` (bit for bit): equal digests, equal models."""
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


# --- scoring on all the ranks --------------------------------------------------------------------

def evaluate(learn, **detect_kwargs) -> dict:
    """mAP@0.5 over the whole validation set, each rank predicting its slice (`metrics.evaluate` for one).

    Returns, on every rank, the dict of `metrics.evaluate` (``map``, ``per_class``,
    ``n_images``, ``seconds``) plus ``per_rank`` (list of int): validation images each
    rank predicted (padding included: when W does not divide the set, its first images
    are predicted twice). ``n_images`` counts distinct images: rank 0 scores each once.
    """
    from ssd_course import metrics
    if world() == 1:
        return {**metrics.evaluate(learn, **detect_kwargs), "per_rank": [len(learn.dls.valid_ds)]}
    import time
    start = time.perf_counter()
    dl = ShardedDL(learn.dls.valid)
    preds, targets = metrics.predict(learn.model, dl, **detect_kwargs)
    cpu = lambda ds: [{k: v.detach().cpu() for k, v in d.items()} for d in ds]   # noqa: E731
    mine = list(zip(dl.shard, cpu(preds), cpu(targets)))
    everyone = gather(mine)
    by_index = {i: (p, t) for part in everyone for i, p, t in part}           # padding: same index again
    result = None
    if rank() == 0:
        ordered = [by_index[i] for i in sorted(by_index)]
        result = metrics.mean_average_precision([p for p, _ in ordered], [t for _, t in ordered], learn.dls.vocab)
        result.update(n_images=len(ordered), seconds=time.perf_counter() - start,
                      per_rank=[len(part) for part in everyone])
    box = [result]
    dist.broadcast_object_list(box, 0)
    return box[0]


def summary(learn, log: StepLog, seconds: float, result: dict) -> dict:
    """The run in figures, on every rank (`main` prints it and writes it with ``--report``).

    Args:
        learn: the trained Learner; log: its `StepLog`; seconds: of training (rank's own clock).
        result: `evaluate`'s dict.

    Returns:
        dict: ``world_size``, ``backend``, ``epochs``, ``seconds``, ``images`` (training images
        of all the ranks), ``img_s``, ``map``, ``per_class``, ``n_valid`` (distinct validation
        images scored), ``valid_per_rank``, and ``ranks``: one dict per rank (``rank``,
        ``steps``, ``images``, ``epochs``: the indices of each epoch, ``losses``: the last
        epoch's [train, valid] loss as fastai logged it, ``weights``: `weights_digest`).
    """
    losses = [float(v) for v in learn.recorder.values[-1][:2]] if learn.recorder.values else []
    mine = dict(rank=rank(), steps=log.steps, images=log.images, epochs=log.epochs, losses=losses,
                weights=weights_digest(learn.model))
    ranks = gather(mine)
    images = sum(r["images"] for r in ranks)
    return dict(config=learn.config.name, world_size=world(), backend=dist.get_backend() if world() > 1 else None,
                epochs=len(log.epochs), seconds=seconds, images=images, img_s=images / max(seconds, 1e-9),
                map=result["map"], per_class=result["per_class"], n_valid=result["n_images"],
                valid_per_rank=result["per_rank"], ranks=ranks)


# --- the training entry point (also under torchrun / accelerate launch) -------------------------

def fit(config, path, epochs: int = None, lr: float = None, seed: int = None, cbs=None):
    """Build the Learner of `config` over `path` and train it; on all the ranks when launched so.

    Under `torchrun` or `accelerate launch` with W > 1 processes, each process joins the
    process group (NCCL, one GPU each; gloo on CPUs) and trains inside
    `training`, fastai's ``learn.distrib_ctx()``: DistributedDataParallel,
    each rank on its 1/W of every epoch (the cached loader included). One process
    trains as without a launcher.

    Args:
        config (train.Config): what to train; path: the dataset folder, or "pascal"
            (downloaded once a machine, before its other processes read it).
        epochs, lr: override the config's.
        seed (int): seeds Python, NumPy and torch before the Learner is built, the same on
            every rank (same initial weights; the shuffled order is rank 0's anyway).
        cbs: extra fastai callbacks (e.g. `StepLog`).

    Returns:
        (Learner, seconds of training): the plain model, the same on every rank.
    """
    from fastai.torch_core import set_seed
    from ssd_course.data import dataset_path
    from ssd_course.train import make_learner, train
    start()
    root = local_first(dataset_path, path)
    if seed is not None:
        set_seed(seed)
    learn = make_learner(config, path=root, cbs=cbs, verbose=rank() == 0)
    with training(learn):
        seconds = train(learn, epochs, lr)
    return learn, seconds


def parse_setting(text: str):
    """``"FIELD=VALUE"`` -> (field, value typed as `train.Config`'s field), e.g. "bs=8" -> ("bs", 8)."""
    from dataclasses import fields
    from ssd_course.train import Config
    name, sep, value = text.partition("=")
    kinds = {f.name: f.type for f in fields(Config)}
    if not sep or name not in kinds:
        raise ValueError(f"--set takes FIELD=VALUE with FIELD one of {sorted(kinds)}, got {text!r}")
    kind = kinds[name]                          # int, float, bool or str: Config's annotations
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"--set {name}= takes true or false, got {value!r}")
        return name, value.lower() in ("true", "1")
    return name, kind(value)


def summary_lines(summary: dict) -> str:
    """What `main` prints (rank 0): img/s of all the processes together, what each rank did, mAP."""
    ranks = summary["ranks"]
    return "\n".join([
        f"trained {summary['epochs']} epoch(s) on {summary['world_size']} process(es) in "
        f"{summary['seconds']:.1f} s: {summary['img_s']:.0f} img/s (validation included)",
        f"per rank: {[r['steps'] for r in ranks]} steps, {[r['images'] for r in ranks]} training images; "
        f"validation images predicted {summary['valid_per_rank']}",
        f"mAP@0.5: {summary['map']:.3f} (over the {summary['n_valid']} validation images)"])


def main(argv=None) -> int:
    import argparse
    import json
    from pathlib import Path
    from ssd_course import impl
    from ssd_course.train import CONFIGS, get_config
    parser = argparse.ArgumentParser(prog="python -m ssd_course.distributed",
                                     description="Train a config (on one GPU, or several under torchrun / "
                                                 "accelerate launch) and print its img/s and mAP@0.5.")
    parser.add_argument("--config", default="gpu", choices=sorted(CONFIGS))
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (ssd-course data make DIR)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a field of the config, e.g. --set bs=64 (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="the same on every rank (default 0)")
    parser.add_argument("--impl", choices=impl.CHOICES, default=None)
    parser.add_argument("--save", type=Path, help="write the trained weights (a state_dict) here (rank 0)")
    parser.add_argument("--report", type=Path, help="write what each rank did, and the mAP, as JSON (rank 0)")
    args = parser.parse_args(argv)
    impl.use(args.impl or impl.command_default())
    settings = {"epochs": args.epochs, "lr": args.lr, **dict(map(parse_setting, args.set))}
    config = get_config(args.config, **settings)
    log = StepLog()
    try:
        learn, seconds = fit(config, args.data, seed=args.seed, cbs=[log])
        result = summary(learn, log, seconds, evaluate(learn))
    finally:
        stop()
    on_rank0(print, summary_lines(result))
    if args.save:
        on_rank0(torch.save, learn.model.state_dict(), args.save)
    if args.report:
        on_rank0(Path(args.report).write_text, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    raise SystemExit(main())
