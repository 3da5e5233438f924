"""`ssd-course data make PATH | show PATH OUT.png`: write the synthetic dataset, or draw a batch."""
import time
from pathlib import Path

from ssd_course import viz
from ssd_course.data import DatasetUnavailable, dataset_path, get_dataloaders
from ssd_course.synthetic import SyntheticSpec, make_synthetic


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    make = sub.add_parser("make", help="write the synthetic dataset to PATH")
    make.add_argument("path", type=Path)
    make.add_argument("--train", type=int, default=SyntheticSpec.n_train, help="training images")
    make.add_argument("--valid", type=int, default=SyntheticSpec.n_valid, help="validation images")
    make.add_argument("--seed", type=int, default=SyntheticSpec.seed)
    make.add_argument("--workers", type=int, default=2)
    make.add_argument("--force", action="store_true", help="regenerate even if PATH is up to date")
    show = sub.add_parser("show", help="draw a batch of the dataset at PATH (or 'pascal') to OUT.png")
    show.add_argument("path")
    show.add_argument("out", type=Path)
    show.add_argument("--size", type=int, default=224)
    show.add_argument("--n", type=int, default=12, help="images in the picture")
    show.add_argument("--augment", action="store_true", help="show the blog's augmentations too")


def run(args) -> int:
    if args.data_command == "make":
        spec = SyntheticSpec(n_train=args.train, n_valid=args.valid, seed=args.seed)
        start = time.perf_counter()
        root = make_synthetic(args.path, spec, workers=args.workers, force=args.force)
        print(f"dataset ready in {root} ({time.perf_counter() - start:.1f} s)")
        return 0
    try:
        root = dataset_path(args.path)
    except (DatasetUnavailable, FileNotFoundError) as e:
        print(f"error: {e}")
        return 1
    dls = get_dataloaders(root, size=args.size, bs=args.n, num_workers=0, device="cpu",
                          batch_tfms=None if args.augment else [])
    viz.save_batch(dls, args.out, n=args.n)
    print(f"drew {args.n} images of {root} with their boxes to {args.out}")
    return 0
