"""The fast training path (ssd_course.gpu_loader and train's switches) on a CPU: the cached loader's batches, the device flips,
the switches' CPU fallbacks, a fit that learns, and `bench --gpu --quick`."""
import json
import random

import pytest
import torch

from ssd_course import gpu_loader, train
from ssd_course.data import plain
from ssd_course.tools import speed


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """16 + 8 small images: a fit of a few epochs in seconds on a busy 2-core CPU."""
    from ssd_course.synthetic import SyntheticSpec, make_synthetic
    spec = SyntheticSpec(n_train=16, n_valid=8, seed=3, min_side=64, max_side=96)
    return make_synthetic(tmp_path_factory.mktemp("tiny"), spec, workers=1, verbose=False)


pytestmark = pytest.mark.usefixtures("solutions_in_use")


def test_cached_batches_are_fastais_batches(small_dataset):
    # Same images (PIL bilinear squish, ImageNet normalisation), boxes and labels as get_dataloaders,
    # in the same (file) order for the validation set.
    config = train.get_config("smoke", bs=8)
    ref = train.make_dataloaders(config, small_dataset, device="cpu", verbose=False)
    dls = train.make_dataloaders(train.get_config(config, cache=True), small_dataset, device="cpu",
                                 verbose=False)
    assert list(dls.vocab) == list(ref.vocab) and dls.vocab[0] == "#na#"
    assert len(dls.valid_ds) == len(ref.valid_ds) == 16 and len(dls.train) == len(ref.train) == 6
    x, bbox, clas = dls.valid.one_batch()
    rx, rbbox, rclas = (plain(t) for t in ref.valid.one_batch())
    assert x.shape == rx.shape == (8, 3, 64, 64) and x.dtype == torch.float32
    assert (x - rx).abs().max() < 1e-4
    G = rbbox.shape[1]
    assert bbox.shape[0] == 8 and bbox.shape[1] >= G and bbox.shape[2] == 4 and clas.dtype == torch.int64
    assert torch.allclose(bbox[:, :G], rbbox, atol=1e-6) and torch.equal(clas[:, :G], rclas)
    assert (bbox[:, G:] == 0).all() and (clas[:, G:] == 0).all()          # the extra padding is padding
    assert bbox.min() >= -1 and bbox.max() <= 1
    real = clas > 0
    assert (bbox[real][:, 2] > bbox[real][:, 0]).all() and (bbox[~real] == 0).all()


def test_training_loader_shuffles_whole_batches_and_flips_only_there(small_dataset):
    dls = train.make_dataloaders(train.get_config("smoke", bs=8, cache=True, augment="flip"), small_dataset,
                                 device="cpu", verbose=False)
    seen = [b for b in dls.train]
    assert len(seen) == 6 and all(len(x) == 8 for x, _, _ in seen)         # 48 images, drop_last
    counts = sorted(int((c > 0).sum()) for _, _, c in seen)
    split = gpu_loader.cached_dataset(small_dataset, 64)[0]
    assert sum(counts) == int((split.labels > 0).sum())                   # every object, once an epoch
    assert dls.valid.augment == "none" and dls.train.augment == "flip"
    with pytest.raises(ValueError, match="augment"):
        train.make_dataloaders(train.get_config("smoke", cache=True, augment="blog"), small_dataset,
                               device="cpu", verbose=False)


def _image_with_a_box():
    # One image, a bright rectangle exactly inside the box (xyxy in [-1, 1]) on a dark ground.
    S = 16
    img = torch.zeros(1, 3, S, S)
    img[0, :, 2:6, 8:14] = 1.0                                  # rows 2..5 (y), columns 8..13 (x)
    box = torch.tensor([[[8 / S * 2 - 1, 2 / S * 2 - 1, 14 / S * 2 - 1, 6 / S * 2 - 1],
                         [0.0, 0.0, 0.0, 0.0]]])                # a real box, then padding
    return img, box


def _box_of_pixels(img):
    """The [-1, 1] xyxy box around the bright pixels of a [1, 3, S, S] image."""
    S = img.shape[-1]
    ys, xs = img[0, 0].nonzero(as_tuple=True)
    return torch.tensor([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / S * 2 - 1


@pytest.mark.parametrize("op", [gpu_loader.flip_lr, gpu_loader.flip_ud, gpu_loader.transpose])
def test_device_flips_move_each_box_with_its_pixels(op):
    img, box = _image_with_a_box()
    out, moved = op(img, box, torch.tensor([True]))
    assert torch.allclose(moved[0, 0], _box_of_pixels(out), atol=1e-6)
    assert (moved[0, 1] == 0).all()                             # padding stays padding
    same, kept = op(img, box, torch.tensor([False]))
    assert torch.equal(same, img) and torch.equal(kept, box)


def test_dihedral_batches_keep_every_box_tight():
    torch.manual_seed(0)
    img, box = _image_with_a_box()
    imgs, boxes = img.repeat(32, 1, 1, 1), box.repeat(32, 1, 1)
    out, moved = gpu_loader.augment_batch(imgs, boxes, "dihedral")
    assert len({tuple(b.tolist()) for b in moved[:, 0]}) > 4   # several of the 8 symmetries drawn
    for i in range(32):
        assert torch.allclose(moved[i, 0], _box_of_pixels(out[i:i + 1]), atol=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallbacks")
def test_switches_that_need_cuda_fall_back_on_a_cpu_with_a_note(small_dataset, capsys):
    gpu_loader._NOTED.clear()
    config = train.get_config("smoke", cache=True, precision="bf16", channels_last=True, opt="fused")
    learn = train.make_learner(config, path=small_dataset, verbose=False)
    out = capsys.readouterr().out
    assert "precision='bf16' needs a CUDA GPU" in out and "opt='fused' needs CUDA" in out
    assert "image cache stays in CPU memory" in out
    assert not any(type(cb).__name__ == "MixedPrecision" for cb in learn.cbs)
    learn.create_opt()
    assert type(learn.opt).__name__ == "Optimizer"                           # fastai's Adam
    conv = next(m for m in learn.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)     # layout needs no CUDA
    x, _, _ = learn.dls.train.one_batch()
    assert x.is_contiguous(memory_format=torch.channels_last) and x.device.type == "cpu"
    with pytest.raises(ValueError, match="precision"):
        train.make_learner(train.get_config("smoke", precision="fp16"), path=small_dataset, verbose=False)


def test_a_fit_on_the_fast_path_lowers_the_loss(tiny_dataset):
    random.seed(0)                                              # fastai's shuffling
    torch.manual_seed(0)                                        # weights, flips
    config = train.get_config("smoke", bs=8, cache=True, augment="flip", precision="bf16", opt="fused")
    learn = train.make_learner(config, path=tiny_dataset, verbose=False)
    x, bbox, clas = learn.dls.train.one_batch()

    def loss_on_the_batch():
        with torch.no_grad():                                   # train-mode BatchNorm: batch statistics
            return learn.loss_func(learn.model.train()(x), bbox, clas).item()

    before = loss_on_the_batch()
    with learn.no_bar(), learn.no_logging():
        seconds = train.train(learn, epochs=3, lr=3e-3)
    after = loss_on_the_batch()
    assert seconds > 0 and after < 0.85 * before, (before, after)    # 6 steps of 8 images
    assert speed.loader_speed(learn.dls.train) > 0


def test_bench_gpu_quick_prints_its_lines(tiny_dataset, tmp_path, capsys):
    from ssd_course.tools.bench_gpu import bench_gpu
    result = bench_gpu(tiny_dataset, quick=True, json_out=tmp_path / "bench.json")
    out = capsys.readouterr().out
    for prefix in ("bench --gpu:", "data: baseline", "compute: baseline", "train: baseline", "map: baseline",
                   "also: the fast path"):
        assert prefix in out, out
    assert result["data_ours"] > 0 and result["compute_baseline"] > 0
    assert set(result["train"]) == {"baseline", "ours", "blog_hp_fast"}
    for figures in result["train"].values():
        assert figures["img_s"] > 0 and 0 <= figures["map"] <= 1 and figures["n_valid"] == 8
    assert json.loads((tmp_path / "bench.json").read_text())["train"]["ours"]["map"] == result["train"]["ours"]["map"]
