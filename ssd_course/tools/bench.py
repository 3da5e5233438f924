"""`ssd-course bench`: side-by-side benchmarks on this machine, one line each.

    loss: baseline <ms> ms, ours <ms> ms, speedup <x>x
        the blog's per-image loop (`ssd_loss_loop`) against `ssd_loss_batched`, forward and
        backward, on one random padded batch of 128 images, 189 anchors
    nms: baseline(torchvision) <ms> ms, ours <ms> ms, speedup <x>x
        `torchvision.ops.nms` against the exercise's `nms` (for information: the loop of
        exercise 6 is not expected to beat torchvision's C++)
    grade: ...
        the autograder's own benchmark line, when `autograder.bench` is there
    grade-all: ...
        a synthetic class graded by `grade-all --jobs 2` against separate `grade` calls

`ssd-course bench --gpu` runs the training benchmark instead: the blog's recipe
against the fast path, end to end (see `ssd_course.tools.bench_gpu` for its lines).

Both sides of a line run in the same process, interleaved, and each reports its
best time over the repeats, so a busy machine slows both alike. The exercise
functions come from `--impl` (the solutions by default where this copy has them).
"""
import gc
import time
from pathlib import Path

import torch

from ssd_course import impl

LOSS_BATCH, LOSS_CLASSES, LOSS_OBJECTS = 128, 7, 5     # the synthetic set: 6 shapes + background, <= 5 objects
NMS_BOXES = 1000


def random_targets(B: int, G: int, n_classes: int, generator=None, empty=()):
    """A padded batch of targets like fastai's: 1..G objects an image, the rest padding.

    Returns:
        (Tensor[B, G, 4], Tensor[B, G]): ``xyxy`` boxes in [-1, 1] and int64 labels, padded with 0;
        the images listed in `empty` have no object at all.
    """
    n = torch.randint(1, G + 1, (B,), generator=generator)
    n[list(empty)] = 0
    xy = torch.rand(B, G, 2, generator=generator) * 1.6 - 1            # top-left corner
    wh = torch.rand(B, G, 2, generator=generator) * 0.9 + 0.05
    boxes = torch.cat([xy, (xy + wh).clamp(max=1)], dim=-1)            # [B, G, 4]
    labels = torch.randint(1, n_classes, (B, G), generator=generator)
    real = torch.arange(G)[None, :] < n[:, None]                       # [B, G]
    return boxes * real[..., None], labels * real


def _best_ms(fn, repeats):
    """Fastest of `repeats` calls, in ms, with Python's garbage collector paused (as `timeit` does)."""
    times = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        if collecting:
            gc.enable()
    return 1000 * min(times)


def _side_by_side(baseline, ours, rounds, repeats_baseline, repeats_ours):
    baseline(), ours()                                                  # warm up
    b, o = [], []
    for _ in range(rounds):                                             # interleaved: same load for both
        b.append(_best_ms(baseline, repeats_baseline))
        o.append(_best_ms(ours, repeats_ours))
    return min(b), min(o)


def bench_loss(rounds: int = 5, device="cpu"):
    """(loop ms, batched ms) for the SSD loss, forward + backward, batch 128, 189 anchors."""
    from ssd_course.loss import SSDLoss
    from ssd_course.model import HEADS
    gen = torch.Generator().manual_seed(0)
    anchors, grid_sizes = HEADS["multi"].make()
    bbox, clas = random_targets(LOSS_BATCH, LOSS_OBJECTS, LOSS_CLASSES, gen)
    bbox, clas = bbox.to(device), clas.to(device)
    A = len(anchors)
    pred = [torch.randn(LOSS_BATCH, A, LOSS_CLASSES, generator=gen).to(device).requires_grad_(),
            torch.randn(LOSS_BATCH, A, 4, generator=gen).to(device).requires_grad_()]

    def step(loss_fn):
        return lambda: loss_fn(pred, bbox, clas).backward()

    loop, batched = SSDLoss(anchors, grid_sizes, batched=False), SSDLoss(anchors, grid_sizes, batched=True)
    # The batched loss's time spreads more than the loop's (it streams 145,000-element
    # tensors through memory the machine's other work shares): more calls a round find its floor.
    return _side_by_side(step(loop), step(batched), rounds, 3, 30)


def bench_nms(rounds: int = 5, device="cpu"):
    """(torchvision ms, exercise ms) for NMS of 1000 random boxes at IoU 0.5."""
    import torchvision
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(NMS_BOXES, 2, generator=gen)
    boxes = torch.cat([xy, xy + 0.05 + 0.25 * torch.rand(NMS_BOXES, 2, generator=gen)], dim=1).to(device)
    scores = torch.rand(NMS_BOXES, generator=gen).to(device)
    return _side_by_side(lambda: torchvision.ops.nms(boxes, scores, 0.5),
                         lambda: impl.nms(boxes, scores, overlap=0.5, top_k=NMS_BOXES), rounds, 20, 5)


def line(name: str, baseline_ms: float, ours_ms: float) -> str:
    return f"{name}: baseline {baseline_ms:.2f} ms, ours {ours_ms:.2f} ms, speedup {baseline_ms / ours_ms:.1f}x"


def grade_line() -> str:
    """The autograder's benchmark line, or a note saying why there is none."""
    try:
        from autograder.bench import grade_line as autograder_line
    except ModuleNotFoundError as e:
        if e.name not in ("autograder", "autograder.bench"):
            raise
        return "note: no autograder/bench.py in this copy, so no `grade:` line"
    return autograder_line()


def grade_all_line() -> str:
    """The class-grading line (``autograder.bench.grade_all_line``), or why there is none."""
    try:
        from autograder.bench import grade_all_line as autograder_line
    except ImportError as e:     # a copy whose autograder/bench.py predates grade-all
        return f"note: no grade-all benchmark in this copy ({e})"
    return autograder_line()


# --- command line: ssd-course bench --------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--impl", choices=impl.CHOICES, default=None,
                        help="whose exercise code runs (default: solutions where this copy has them)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per benchmark (best kept)")
    gpu = parser.add_argument_group("training benchmark (--gpu)")
    gpu.add_argument("--gpu", action="store_true",
                     help="the blog's training recipe against ours on whatever GPU is here (ssd_course.tools.bench_gpu)")
    gpu.add_argument("--quick", action="store_true", help="with --gpu: tiny model and data, seconds on a CPU")
    gpu.add_argument("--epochs", type=int, default=5, help="with --gpu: epochs each recipe trains")
    gpu.add_argument("--data", type=Path, default=None, help="with --gpu: dataset folder (written if missing)")
    gpu.add_argument("--json", type=Path, default=None, help="with --gpu: also write the figures here")


def run(args) -> int:
    impl.use(args.impl or impl.command_default())
    print(impl.describe())
    if getattr(args, "gpu", False):
        from ssd_course.tools.bench_gpu import bench_gpu
        bench_gpu(args.data, epochs=args.epochs, quick=args.quick, json_out=args.json)
        return 0
    print(f"on this machine: {torch.get_num_threads()} threads, CPU; best of {args.rounds} interleaved rounds",
          flush=True)
    print(line("loss", *bench_loss(args.rounds)), flush=True)
    print(line("nms", *bench_nms(args.rounds)).replace("baseline", "baseline(torchvision)", 1), flush=True)
    print(grade_line(), flush=True)
    print(grade_all_line(), flush=True)
    return 0
