"""Training on several processes (ssd_course.distributed): torchrun with 2 CPU processes (gloo) on the
smoke config, a 1-process torchrun against a plain run, the cached loader's shards, `bench --gpu`'s ddp line.

The launches use `torchrun --standalone` (a rendezvous on this machine, at a free port) and
OMP_NUM_THREADS=1 (one core a process: the figures do not depend on the machine's load).
"""
import json
import os
import random
import subprocess
import sys
import time

import pytest
import torch

from ssd_course import distributed, gpu_loader, metrics, train
from ssd_course.tools import bench_gpu

pytestmark = pytest.mark.usefixtures("solutions_in_use")

N_TRAIN, N_VALID, BS, EPOCHS = 32, 8, 8, 1   # 2 ranks x 2 steps of 8 images; 4 validation images each
TIMEOUT = 300                                # seconds: a launch that hangs fails instead of blocking `make test`


@pytest.fixture(scope="module")
def ddp_dataset(tmp_path_factory):
    from ssd_course.synthetic import SyntheticSpec, make_synthetic
    spec = SyntheticSpec(n_train=N_TRAIN, n_valid=N_VALID, seed=5, min_side=64, max_side=96)
    return make_synthetic(tmp_path_factory.mktemp("ddp"), spec, workers=1, verbose=False)


def _command(data, out, nproc=None):
    """`distributed.main` on the smoke config, under torchrun with `nproc` processes (None: no launcher)."""
    launcher = [] if nproc is None else ["-m", "torch.distributed.run", "--standalone",
                                         f"--nproc_per_node={nproc}"]
    return [sys.executable, *launcher, "-m", "ssd_course.distributed", "--config", "smoke", "--data", str(data),
            "--epochs", str(EPOCHS), "--set", f"bs={BS}", "--seed", "0", "--impl", "solutions",
            "--report", str(out / "report.json"), "--save", str(out / "weights.pt")]


def _env():
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SSD_COURSE_IMPL": ""}
    env.pop("WORLD_SIZE", None)           # a run of its own, whatever launched pytest
    return env


def _finish(proc, out):
    stdout, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, (stdout[-2000:], stderr[-3000:])
    return stdout, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def two_ranks(ddp_dataset, tmp_path_factory):
    """(stdout, report) of `torchrun --standalone --nproc_per_node 2 -m ssd_course.distributed` (gloo), and its wall time."""
    out = tmp_path_factory.mktemp("two-ranks")
    start = time.perf_counter()
    proc = subprocess.Popen(_command(ddp_dataset, out, nproc=2), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    stdout, report = _finish(proc, out)
    return stdout, report, time.perf_counter() - start, out


def test_two_ranks_ran_every_step_on_disjoint_halves(two_ranks, capsys):
    stdout, report, wall, _ = two_ranks
    ranks = report["ranks"]
    with capsys.disabled():
        print(f"\n2 ranks (gloo): wall {wall:.1f} s (launch, imports, training and scoring), "
              f"fit {report['seconds']:.1f} s; steps per rank {[r['steps'] for r in ranks]}, "
              f"training images per rank {[r['images'] for r in ranks]}, mAP@0.5 {report['map']:.3f} "
              f"over {report['n_valid']} validation images ({report['valid_per_rank']} per rank)")
    assert report["world_size"] == 2 and report["backend"] == "gloo"
    assert [r["rank"] for r in ranks] == [0, 1]
    steps = N_TRAIN // 2 // BS * EPOCHS                                       # 2 per rank
    assert [r["steps"] for r in ranks] == [steps, steps]
    assert [r["images"] for r in ranks] == [N_TRAIN // 2 * EPOCHS] * 2 and report["images"] == N_TRAIN * EPOCHS
    for epoch in range(EPOCHS):
        first, second = (set(r["epochs"][epoch]) for r in ranks)
        assert len(first) == len(second) == N_TRAIN // 2                     # no image twice on a rank
        assert not first & second                                            # disjoint halves ...
        assert first | second == set(range(N_TRAIN))                         # ... of every training image
    assert "per rank: [2, 2] steps, [16, 16] training images" in stdout


def test_two_ranks_end_with_the_same_weights_and_the_same_logged_losses(two_ranks):
    _, report, _, _ = two_ranks
    first, second = report["ranks"]
    assert len(first["weights"]) == 64 and first["weights"] == second["weights"]   # sha256, buffers included
    # fastai gathers each batch's loss over the ranks: both log the same figures, rank 0 prints them.
    assert len(first["losses"]) == 2 and first["losses"] == second["losses"]
    assert all(0 < loss < float("inf") for loss in first["losses"])


def test_two_ranks_report_one_map_over_the_whole_validation_set(two_ranks, ddp_dataset):
    stdout, report, _, out = two_ranks
    assert report["n_valid"] == N_VALID and report["valid_per_rank"] == [N_VALID // 2] * 2
    assert stdout.count("mAP@0.5:") == 1                                     # rank 0 alone prints
    assert f"mAP@0.5: {report['map']:.3f} (over the {N_VALID} validation images)" in stdout
    # The same weights scored here, in one process over all the images: the same figure.
    learn = train.make_learner(train.get_config("smoke", bs=BS), path=ddp_dataset, verbose=False)
    learn.model.load_state_dict(torch.load(out / "weights.pt"))
    alone = metrics.evaluate(learn)
    assert alone["n_images"] == N_VALID
    assert abs(alone["map"] - report["map"]) < 1e-6 and alone["per_class"].keys() == report["per_class"].keys()
    assert distributed.weights_digest(learn.model) == report["ranks"][0]["weights"]


def test_one_process_under_torchrun_trains_as_a_plain_run(ddp_dataset, tmp_path):
    runs = {}
    for name, nproc in (("plain", None), ("torchrun", 1)):                   # side by side: a core each
        out = tmp_path / name
        out.mkdir()
        runs[name] = (subprocess.Popen(_command(ddp_dataset, out, nproc), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=_env()), out)
    (_, plain), (_, launched) = (_finish(proc, out) for proc, out in runs.values())
    assert plain["world_size"] == launched["world_size"] == 1 and launched["backend"] is None
    assert plain["ranks"][0]["steps"] == launched["ranks"][0]["steps"] == N_TRAIN // BS * EPOCHS
    assert plain["ranks"][0]["weights"] == launched["ranks"][0]["weights"]        # bit for bit
    assert plain["ranks"][0]["losses"] == launched["ranks"][0]["losses"]
    assert plain["map"] == launched["map"] and plain["n_valid"] == launched["n_valid"] == N_VALID


@pytest.fixture
def one_process_group():
    """A gloo process group of this process alone (no network): broadcasts work, and change nothing."""
    import torch.distributed as dist
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_the_cached_loader_splits_each_epoch_between_the_ranks(ddp_dataset, one_process_group):
    # Both ranks' views of one training loader; each view shuffles from the same seed, as the
    # order rank 0 broadcasts is the same for all the ranks.
    config = train.get_config("smoke", bs=4, cache=True, augment="none")
    dls = train.make_dataloaders(config, ddp_dataset, device="cpu", verbose=False)
    split = gpu_loader.cached_dataset(ddp_dataset, config.size)[0]
    served = []
    for r in range(2):
        view = distributed.ShardedDL(dls.train, rank=r, world_size=2)
        dls.train.rng = random.Random(0)
        batches = list(view)
        assert len(view.shard) == N_TRAIN // 2 and len(batches) == N_TRAIN // 2 // 4
        images = torch.cat([x for x, _, _ in batches])                       # [16, 3, S, S] normalised
        expected = (split.images[view.shard].float() - dls.train.mean) / dls.train.std
        assert torch.allclose(images, expected)                              # the batches are the shard
        served.append(set(view.shard))
    assert not served[0] & served[1] and served[0] | served[1] == set(range(N_TRAIN))


def test_shards_pad_an_uneven_set_with_its_first_images(ddp_dataset, one_process_group):
    # 8 validation images on 3 ranks: 3 + 3 + 3, the ninth the first again (fastai's padding).
    dls = train.make_dataloaders(train.get_config("smoke", bs=2, cache=True, augment="none"), ddp_dataset,
                                 device="cpu", verbose=False)
    shards = []
    for r in range(3):
        view = distributed.ShardedDL(dls.valid, rank=r, world_size=3)
        list(view)
        shards.append(view.shard)
    assert shards == [[0, 1, 2], [3, 4, 5], [6, 7, 0]]


def test_parse_setting_types_fields_and_names_bad_ones():
    assert distributed.parse_setting("bs=8") == ("bs", 8)
    assert distributed.parse_setting("lr=0.01") == ("lr", 0.01)
    assert distributed.parse_setting("cache=true") == ("cache", True) and distributed.parse_setting("cache=0") == ("cache", False)
    assert distributed.parse_setting("arch=resnet18") == ("arch", "resnet18")
    with pytest.raises(ValueError, match="FIELD one of"):
        distributed.parse_setting("batch=8")
    with pytest.raises(ValueError, match="true or false"):
        distributed.parse_setting("cache=maybe")


def test_bench_ddp_launches_1_and_n_processes_and_reports_scaling(tmp_path, capsys):
    config = train.get_config("gpu", arch="resnet10", size=64, epochs=1)
    launched = []

    def fake_run(argv, **kwargs):
        # Stands in for torchrun: 1 process 100 img/s; 4 processes 320 img/s together.
        launched.append(argv)
        n = int(next(a for a in argv if a.startswith("--nproc_per_node=")).split("=")[1])
        report = argv[argv.index("--report") + 1]
        img_s = {1: 100.0, 4: 320.0}[n]
        with open(report, "w") as f:
            json.dump({"world_size": n, "img_s": img_s, "map": 0.5}, f)

    figures = bench_gpu.bench_ddp(config, tmp_path, n=4, run=fake_run)
    assert figures["per_process_img_s"] == 80.0 and figures["all_img_s"] == 320.0
    assert abs(figures["efficiency"] - 0.8) < 1e-12                          # 320 / (4 x 100)
    assert capsys.readouterr().out.strip() == ("ddp: 4 processes 320 img/s in all, 80 img/s per process; "
                                               "1 process 100 img/s; scaling efficiency 80% "
                                               "(mAP@0.5 0.500 on 4, 0.500 on 1)")
    # The children get the same config back: distributed.main's own parsing of what travels.
    argv = launched[1]
    assert argv[argv.index("--config") + 1] == "gpu" and "--standalone" in argv
    settings = dict(distributed.parse_setting(a.split("=", 1)[1]) for a in argv if a.startswith("--set="))
    assert settings == {"arch": "resnet10", "size": 64, "epochs": 1}
    assert train.get_config("gpu", **settings) == config
