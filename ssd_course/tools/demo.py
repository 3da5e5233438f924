"""`ssd-course demo` (what `make demo` runs): the course's detector end to end.

    1. the synthetic dataset (written to data/synthetic if it is not there yet)
    2. the `cpu` config trained from scratch with fastai (progress bars on)
    3. mAP@0.5 on the validation split, a table per class
    4. a picture of predictions after NMS next to the ground truth (out/demo/predictions.png)

The last line printed is ``mAP@0.5: <value>``. It runs the reference solutions
where this copy has them (the instructor's repository) and the student's code
otherwise; ``--impl`` chooses, and the run prints which.
"""
import time
from pathlib import Path

from ssd_course import impl

DEFAULT_OUT = Path("out/demo")
PICTURE_SCORE = 0.3   # detections drawn in the picture: the confident ones


def prepare_dataset(path):
    """The dataset root for `path`: "pascal", an existing dataset, or the synthetic set (made if missing).

    The default folder (data/synthetic) belongs to the demo: it is rewritten when the
    generator's settings changed. Any other folder holding a train.json is used as it is.
    """
    from ssd_course.data import dataset_path
    from ssd_course.synthetic import make_synthetic
    from ssd_course.train import DEFAULT_DATA
    root = Path(path)
    if str(path).lower() in ("pascal", "pascal_2007", "voc"):
        return dataset_path(path)
    if (root / "train.json").is_file() and root.resolve() != DEFAULT_DATA.resolve():
        return root
    return make_synthetic(root)                       # skipped when already up to date


def save_predictions(learn, path, n: int = 8, score_thresh: float = PICTURE_SCORE):
    """Draw the first `n` validation images: predictions after NMS next to the ground truth."""
    import torch
    from ssd_course import viz
    from ssd_course.data import denormalize, plain
    from ssd_course.metrics import targets_of
    from ssd_course.postprocess import detect
    x, bbox, clas = learn.dls.valid.one_batch()
    x, bbox, clas = x[:n], bbox[:n], clas[:n]
    model = learn.model.eval()
    with torch.no_grad():
        preds = detect(*model(x), learn.anchors, learn.grid_sizes, score_thresh=score_thresh)
    fig = viz.predictions_figure(denormalize(plain(x)), preds, targets_of(bbox, clas),
                                 vocab=learn.dls.vocab)
    return viz.save(fig, path)


def add_arguments(parser) -> None:
    from ssd_course.train import CONFIGS, DEFAULT_DATA
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help=f"dataset folder, made if missing (default {DEFAULT_DATA}); or 'pascal'")
    parser.add_argument("--config", default="cpu", choices=sorted(CONFIGS), help="training config (default cpu)")
    parser.add_argument("--impl", choices=impl.CHOICES, default=None,
                        help="whose exercise code runs (default: solutions where this copy has them)")
    parser.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where the picture goes ({DEFAULT_OUT})")


def run(args) -> int:
    start = time.perf_counter()
    impl.use(args.impl or impl.command_default())          # printed when training starts (train.ShowRun)
    from ssd_course import metrics, train
    from ssd_course.data import DatasetUnavailable
    config = train.get_config(args.config, epochs=args.epochs)
    try:
        root = prepare_dataset(args.data)
    except (DatasetUnavailable, FileNotFoundError) as e:
        print(f"error: {e}")
        return 1
    data_s = time.perf_counter() - start
    learn = train.make_learner(config, path=root)
    fit_s = train.train(learn)
    result = metrics.evaluate(learn)
    picture = save_predictions(learn, args.out / "predictions.png")
    total = time.perf_counter() - start
    print(f"time: data {data_s:.0f} s, training {fit_s:.0f} s ({config.epochs} epochs), "
          f"evaluation {result['seconds']:.0f} s on {result['n_images']} images, total {total:.0f} s")
    print(f"picture: predictions after NMS (score > {PICTURE_SCORE}) next to the ground truth: {picture}")
    print(metrics.format_table(result), flush=True)
    return 0
