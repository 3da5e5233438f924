"""The SSD model: a resnet body from fastai's `create_body`, then a head of small conv layers.

    image [B, 3, S, S] -> body -> features [B, nf, s, s] -> head -> (class logits [B, A, C],
                                                                     box activations [B, A, 4])

The head turns the body's feature map into one grid per anchor grid (4x4, or 4x4,
2x2 and 1x1), and an `OutConv` on each grid predicts, for each of the k anchors
of a cell, C class scores and 4 box activations. `flatten_conv` (exercise 1) lays
those out one row per anchor, in the order of `make_anchors` (exercise 2), so
row i of the output belongs to anchor i.

Two heads, as in the blog:

    "4x4"    grids (4,),      1 anchor a cell:   16 anchors (lesson 05)
    "multi"  grids (4, 2, 1), 9 anchors a cell: 189 anchors (lesson 06)

The head fits itself to the body's output grid (7x7 for a resnet at 224 px, 4x4
at 128 px, 3x3 at 96 px): stride-2 convs where they help, a resize where not, so
any input size or body gives the configured grids.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssd_course import impl

# --- anchors: which grids, and the k shapes of a cell ------------------------------------------


@dataclass(frozen=True)
class AnchorSpec:
    """What `make_anchors` is called with; the head is built to predict these anchors."""
    grids: tuple = (4,)
    zooms: tuple = (1.0,)
    ratios: tuple = ((1.0, 1.0),)

    @property
    def k(self) -> int:
        """Anchors per grid cell."""
        return len(self.zooms) * len(self.ratios)

    @property
    def n_anchors(self) -> int:
        return sum(g * g for g in self.grids) * self.k

    def make(self):
        """(anchors Tensor[A, 4] cxcywh in [0, 1], grid_sizes Tensor[A, 1]) from the current `make_anchors`."""
        return impl.make_anchors(self.grids, self.zooms, self.ratios)


HEADS = {
    "4x4": AnchorSpec(grids=(4,)),                                       # lesson 05: 16 anchors
    "multi": AnchorSpec(grids=(4, 2, 1), zooms=(0.7, 1.0, 1.3),          # lesson 06: 189 anchors
                        ratios=((1.0, 1.0), (1.0, 0.5), (0.5, 1.0))),
}

# --- the head's building blocks (the blog's names) ---------------------------------------------

NF_HEAD = 256         # channels inside the head (the blog's)
CLAS_BIAS = -4.0      # initial class-logit bias: sigmoid(-4) = 0.018, "almost surely background"


class StdConv(nn.Module):
    """3x3 conv -> BatchNorm -> ReLU -> Dropout: the head's standard layer (stride 2 halves the grid).

    The blog puts the ReLU before the BatchNorm. Trained from scratch, that breaks
    in eval mode: a channel that is almost always 0 after the ReLU gets a running
    variance near 0, and the rare image that switches it on is scaled up a
    thousandfold (measured here: the 1x1 grid's outputs went from ~5 to ~15000, the
    validation loss from 2 to several thousand). Normalising before the ReLU, as
    resnets do, avoids that.
    """

    def __init__(self, nin: int, nout: int, stride: int = 2, drop: float = 0.1):
        super().__init__()
        self.conv = nn.Conv2d(nin, nout, 3, stride=stride, padding=1)
        self.bn = nn.BatchNorm2d(nout)
        self.drop = nn.Dropout(drop)

    def forward(self, x):                                  # [B, nin, s, s] -> [B, nout, s', s']
        return self.drop(F.relu(self.bn(self.conv(x))))


class OutConv(nn.Module):
    """The predictions of one grid: for each of the k anchors of each cell, C class logits and 4 box numbers.

    Returns:
        [Tensor[B, g*g*k, C], Tensor[B, g*g*k, 4]]: one row per anchor, in `flatten_conv`'s order.
    """

    def __init__(self, k: int, nin: int, n_classes: int, bias: float = CLAS_BIAS):
        super().__init__()
        self.k = k
        self.oconv1 = nn.Conv2d(nin, n_classes * k, 3, padding=1)   # classes
        self.oconv2 = nn.Conv2d(nin, 4 * k, 3, padding=1)           # boxes
        self.oconv1.bias.data.zero_().add_(bias)

    def forward(self, x):                                            # [B, nin, g, g]
        return [impl.flatten_conv(self.oconv1(x), self.k),          # [B, g*g*k, C]
                impl.flatten_conv(self.oconv2(x), self.k)]          # [B, g*g*k, 4]


def to_grid(nin: int, nout: int, size: int, grid: int, drop: float) -> nn.Sequential:
    """Layers taking a ``size x size`` feature map to a ``grid x grid`` one.

    Stride-2 `StdConv`s while they do not overshoot (7 -> 4 -> 2 -> 1 as in the
    blog); a stride-1 `StdConv` when none fits, so every grid gets at least one
    layer of its own; then an adaptive average pool if the size is still not
    ``grid`` (e.g. 3x3 at a 96 px input -> 4x4, or 5x5 -> 4x4).
    """
    layers = []
    while size > grid and math.ceil(size / 2) >= grid:
        layers.append(StdConv(nout if layers else nin, nout, stride=2, drop=drop))
        size = math.ceil(size / 2)
    if not layers:
        layers.append(StdConv(nin, nout, stride=1, drop=drop))
    if size != grid:
        layers.append(nn.AdaptiveAvgPool2d(grid))
    return nn.Sequential(*layers)


class SSDHead(nn.Module):
    """The blog's SSD head (`SSD_Head` for one grid, `SSD_MultiHead` for several), fitted to the body's grid.

    Args:
        nin (int): channels of the body's output.
        in_grid (int): side of the body's output feature map (7 for a resnet at 224 px).
        n_classes (int): C, background included.
        spec (AnchorSpec): the grids, and the k anchors a cell, to predict.
        nf (int): channels inside the head.
        drop (float): dropout in each `StdConv`; ``in_drop``: dropout on the body's features.
        bias (float): initial class-logit bias (`CLAS_BIAS`).

    Returns (forward):
        [Tensor[B, A, C], Tensor[B, A, 4]]: class logits and box activations, anchors in
        `spec.make()`'s order (grid by grid, each row-major, k anchors of a cell adjacent).
    """

    def __init__(self, nin: int, in_grid: int, n_classes: int, spec: AnchorSpec = HEADS["4x4"],
                 nf: int = NF_HEAD, drop: float = 0.1, in_drop: float = 0.25, bias: float = CLAS_BIAS):
        super().__init__()
        self.spec = spec
        self.drop = nn.Dropout(in_drop)
        self.sconv0 = StdConv(nin, nf, stride=1, drop=drop)
        sizes = (in_grid,) + tuple(spec.grids[:-1])          # each grid is made from the one before
        self.to_grids = nn.ModuleList(to_grid(nf, nf, s, g, drop) for s, g in zip(sizes, spec.grids))
        self.outs = nn.ModuleList(OutConv(spec.k, nf, n_classes, bias) for _ in spec.grids)

    def forward(self, x):                                    # [B, nin, s, s]
        x = self.sconv0(self.drop(F.relu(x)))                # [B, nf, s, s]
        clas, boxes = [], []
        for to_grid_, out in zip(self.to_grids, self.outs):
            x = to_grid_(x)                                  # [B, nf, g, g]
            c, b = out(x)
            clas.append(c)
            boxes.append(b)
        return [torch.cat(clas, dim=1), torch.cat(boxes, dim=1)]   # [B, A, C], [B, A, 4]


class SSD(nn.Module):
    """body + head; ``model(images)`` gives ``(class logits [B, A, C], box activations [B, A, 4])``.

    Attributes:
        spec (AnchorSpec): the anchors the head predicts (``model.spec.make()`` makes them).
        weights (str): which weights the body started from, in words.
    """

    def __init__(self, body: nn.Module, head: SSDHead, weights: str = "random initialisation"):
        super().__init__()
        self.body, self.head = body, head
        self.spec, self.weights = head.spec, weights

    def forward(self, x):
        return tuple(self.head(self.body(x)))


# --- bodies -------------------------------------------------------------------------------------

def _resnet10(weights=None):
    """A resnet with one BasicBlock per stage: resnet18's width, half its depth, twice its speed.

    With ``weights`` (resnet18's ImageNet weights) it starts from resnet18's stem and the
    first block of each of its stages: a resnet still works with blocks left out.
    """
    from torchvision.models.resnet import BasicBlock, ResNet
    model = ResNet(BasicBlock, [1, 1, 1, 1])
    if weights is not None:
        own = model.state_dict()
        model.load_state_dict({k: v for k, v in weights.get_state_dict(progress=False).items() if k in own})
    return model


def _torchvision(name):
    def build(weights=None):
        import torchvision
        return torchvision.models.get_model(name, weights=weights)
    build.__name__ = name
    return build


# name -> builder(weights=None), for torchvision's resnets and resnet10 (made of resnet18's blocks).
ARCHS = {
    "resnet10": _resnet10,
    "resnet18": _torchvision("resnet18"),
    "resnet34": _torchvision("resnet34"),
    "resnet50": _torchvision("resnet50"),
}
WEIGHTS_OF = {"resnet10": "resnet18"}     # whose ImageNet weights an architecture starts from
WEIGHTS_HOST = "download.pytorch.org"


def pretrained_weights(arch: str, timeout: float = 3.0):
    """torchvision's ImageNet weights for `arch`, if they can be had without hanging.

    Looks in the torch hub cache first; downloads only when the server answers
    within `timeout` seconds.

    Returns:
        (weights enum or None, str): the weights to load, and a sentence saying which were used.
    """
    from pathlib import Path

    import torchvision
    from ssd_course.network import reachable
    try:
        weights = torchvision.models.get_model_weights(WEIGHTS_OF.get(arch, arch)).DEFAULT
    except (ValueError, KeyError):
        return None, f"random initialisation: {arch} has no pretrained weights"
    which = f"{weights}" if arch not in WEIGHTS_OF else f"{weights}, the blocks {arch} shares with it"
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if cached.is_file():
        return weights, f"pretrained ImageNet weights ({which}; from {cached})"
    problem = reachable(WEIGHTS_HOST, timeout=timeout)
    if problem:
        return None, (f"random initialisation: pretrained weights for {arch} are not cached in "
                      f"{cached.parent} and {WEIGHTS_HOST} cannot be reached ({problem}); offline")
    return weights, f"pretrained ImageNet weights ({which}; downloaded from {WEIGHTS_HOST})"


def make_body(arch="resnet34", pretrained: bool = True, cut=None):
    """fastai's `create_body` on `arch` (a name in `ARCHS`, or a builder taking ``weights=``).

    Args:
        cut: where `create_body` cuts the architecture's layers: None keeps everything
            before the pooling layer (a resnet's features at stride 32); -3 also drops a
            resnet's last stage (features at stride 16: twice finer, and cheaper).

    Returns:
        (nn.Module, str): the body, and which weights it starts from, in words.
    """
    from fastai.vision.learner import create_body
    build = ARCHS[arch] if isinstance(arch, str) else arch
    name = arch if isinstance(arch, str) else getattr(arch, "__name__", "model")
    if pretrained:
        weights, note = pretrained_weights(name)
    else:
        weights, note = None, "random initialisation (pretrained=False)"
    model = build(weights=weights)
    return create_body(model, pretrained=weights is not None, cut=cut), note


def body_output(body: nn.Module, size: int):
    """(channels, grid side) of `body`'s output for a ``size x size`` image."""
    was_training = body.training
    body.eval()
    with torch.no_grad():
        p = next(body.parameters())
        feats = body(torch.zeros(1, 3, size, size, dtype=p.dtype, device=p.device))   # [1, nf, s, s]
    body.train(was_training)
    return feats.shape[1], feats.shape[-1]


def ssd_model(arch="resnet34", n_classes: int = 21, head="multi", size: int = 224,
              pretrained: bool = True, cut=None, **head_kwargs) -> SSD:
    """An SSD for ``size x size`` images.

    Args:
        arch: body architecture: a name in `ARCHS` ("resnet34", "resnet18", ...) or a
            torchvision-style builder taking ``weights=``.
        n_classes (int): C, background included (``len(dls.vocab)``).
        head: "4x4" (16 anchors), "multi" (189 anchors), or an `AnchorSpec`.
        size (int): input side in pixels; the head fits the body's output grid at that size.
        pretrained (bool): start the body from ImageNet weights when they can be had
            (see `pretrained_weights`); ``model.weights`` says what happened.
        cut: where the body ends (see `make_body`): None, or -3 for a resnet's stride-16 features.
        **head_kwargs: passed to `SSDHead` (``nf``, ``drop``, ``in_drop``, ``bias``).

    Returns:
        SSD: ``model(x [B, 3, size, size])`` -> ``(Tensor[B, A, C], Tensor[B, A, 4])``.
    """
    spec = HEADS[head] if isinstance(head, str) else head
    body, weights = make_body(arch, pretrained, cut)
    nin, grid = body_output(body, size)
    return SSD(body, SSDHead(nin, grid, n_classes, spec, **head_kwargs), weights)
