"""The SSD model: output shapes of both heads, grids that fit any body output, weights said plainly."""
import pytest
import torch

from ssd_course import model
from ssd_course.model import HEADS, SSDHead, ssd_model


pytestmark = pytest.mark.usefixtures("solutions_in_use")


def grids_seen(m, x):
    """The side of the feature map each OutConv receives."""
    sizes = []
    hooks = [o.register_forward_hook(lambda mod, inp, out: sizes.append(inp[0].shape[-1])) for o in m.head.outs]
    with torch.no_grad():
        m.eval()(x)
    for h in hooks:
        h.remove()
    return sizes


HEAD_GRIDS = {"4x4": (16, [4]), "multi": (189, [4, 2, 1])}


# Body outputs: 7x7 at 224 px (strided convs), 4x4 at 128, 3x3 at 96 and 2x2 at 64 (resized up).
@pytest.mark.parametrize("head, size", [("4x4", 224), ("4x4", 96), ("multi", 224), ("multi", 128),
                                        ("multi", 96), ("multi", 64)])
def test_both_heads_give_the_configured_grids_at_any_input_size(head, size):
    n_anchors, grids = HEAD_GRIDS[head]
    m = ssd_model("resnet10", n_classes=7, head=head, size=size, pretrained=False)
    x = torch.randn(2, 3, size, size)
    clas, boxes = m.eval()(x)
    assert clas.shape == (2, n_anchors, 7) and boxes.shape == (2, n_anchors, 4)
    assert grids_seen(m, x) == grids
    assert m.spec.n_anchors == n_anchors == len(m.spec.make()[0])


def test_a_stride_16_body_gets_a_strided_conv_to_4x4():
    m = ssd_model("resnet10", n_classes=7, head="multi", size=128, pretrained=False, cut=-3)
    assert model.body_output(m.body, 128) == (256, 8)             # resnet10 without its last stage
    assert grids_seen(m, torch.randn(2, 3, 128, 128)) == [4, 2, 1]
    assert [layer.conv.stride[0] for layer in m.head.to_grids[0]] == [2]


def test_at_224_the_heads_are_the_blogs():
    # 7x7 body output: one stride-2 StdConv to 4x4, then one per smaller grid, no resizing.
    head = SSDHead(512, 7, 21, HEADS["multi"])
    strides = [[layer.conv.stride[0] for layer in seq] for seq in head.to_grids]
    assert strides == [[2], [2], [2]] and head.sconv0.conv.stride == (1, 1)
    head4 = SSDHead(512, 7, 21, HEADS["4x4"])
    assert [[layer.conv.stride[0] for layer in seq] for seq in head4.to_grids] == [[2]]
    assert head.outs[0].oconv1.out_channels == 21 * 9 and head.outs[0].oconv2.out_channels == 4 * 9


def test_class_bias_starts_at_background():
    m = ssd_model("resnet10", n_classes=7, head="multi", size=64, pretrained=False)
    clas, _ = m.eval()(torch.zeros(1, 3, 64, 64))
    assert clas.sigmoid().mean() < 0.1                        # "almost surely background" at start


def test_outputs_follow_the_input_device_and_keep_gradients():
    m = ssd_model("resnet10", n_classes=4, head="4x4", size=64, pretrained=False)
    x = torch.randn(2, 3, 64, 64)
    clas, boxes = m(x)
    (clas.sum() + boxes.sum()).backward()
    assert clas.device == x.device and next(m.head.parameters()).grad is not None
    if torch.cuda.is_available():
        m = m.cuda()
        assert all(t.device.type == "cuda" for t in m(x.cuda()))


def test_weights_are_said_plainly_and_never_hang_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr("ssd_course.network.reachable", lambda host, timeout: "no route to host")
    assert "pretrained=False" in ssd_model("resnet10", 3, "4x4", size=64, pretrained=False).weights
    m = ssd_model("resnet10", n_classes=3, head="4x4", size=64, pretrained=True)
    assert m.weights.startswith("random initialisation") and "offline" in m.weights
    weights, note = model.pretrained_weights("resnet34")
    assert weights is None and note.startswith("random initialisation") and "offline" in note


def test_resnet10_starts_from_resnet18s_cached_weights(monkeypatch, tmp_path):
    import torchvision
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr("ssd_course.network.reachable", lambda host, timeout: "no route to host")
    r18 = torchvision.models.resnet18().state_dict()               # stands for the ImageNet file
    (tmp_path / "checkpoints").mkdir()
    torch.save(r18, tmp_path / "checkpoints" / "resnet18-f37072fd.pth")
    m = ssd_model("resnet10", n_classes=3, head="4x4", size=64, pretrained=True)
    assert m.weights.startswith("pretrained ImageNet weights") and "resnet18" in m.weights.lower()
    body = dict(m.body.named_parameters())
    for name in ("0.weight", "4.0.conv1.weight", "7.0.conv2.weight"):   # stem, layer1.0, layer4.0
        torch_name = {"0": "conv1", "4": "layer1", "7": "layer4"}[name.split(".")[0]] + name[1:]
        assert torch.equal(body[name], r18[torch_name])
