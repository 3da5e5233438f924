"""Pictures of every step: images with boxes, batches, anchors, matches, detections.

Orientation: images are shown as ``[H, W, 3]`` (rows are y, columns are x) and
boxes are drawn as ``xyxy`` with x along the columns. No transposing anywhere:
the blog transposes its images (``permute(2, 1, 0)``) and then swaps the box
axes in ``bb_hw`` to compensate, which hides the anchor-order bug DESIGN.md
describes. Here what you see is what the tensors hold.

Coordinates: every drawing function takes boxes in *pixels* of the image it
draws on; `to_pixels` converts fastai's [-1, 1] boxes and `cxcywh_to_xyxy` the
anchors' format. Functions return the matplotlib Axes/Figure, so a notebook
shows them inline and a script saves them with `save`.
"""
from pathlib import Path

import numpy as np

COLOURS = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4",
           "#46f0f0", "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff")


def _plt():
    import matplotlib
    if matplotlib.get_backend().lower() in ("", "tkagg") and not _in_notebook():
        matplotlib.use("Agg")  # scripts and CI have no display
    import matplotlib.pyplot as plt
    return plt


def _in_notebook():
    try:
        from IPython import get_ipython
        return get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except Exception:
        return False


def colour(label: int) -> str:
    """A fixed colour per class index, so a class looks the same in every picture."""
    return COLOURS[int(label) % len(COLOURS)]


# One colour per *object* (not class) where objects of one class must be told apart.
# Red, green and yellow stay with the class colours above; these start elsewhere so that
# object 0 is not mistaken for class 0's red.
OBJECT_COLOURS = ("#4363d8", "#f58231", "#3cb44b", "#f032e6", "#46f0f0", "#e6194b",
                  "#ffe119", "#911eb4", "#bcf60c", "#008080")
BACKGROUND = "#d0d0d0"     # background anchors: faint, so the matched ones stand out


def object_colour(index: int) -> str:
    """The colour of object `index` (0, 1, ...) in the pictures of one image."""
    return OBJECT_COLOURS[int(index) % len(OBJECT_COLOURS)]


def object_colours(n: int) -> list:
    """The colours of objects 0 .. n-1, for `draw_boxes(colours=...)`."""
    return [object_colour(g) for g in range(n)]


def to_numpy_image(img) -> np.ndarray:
    """[3, H, W] tensor in [0, 1], [H, W, 3] array, or PIL image -> [H, W, 3] array for imshow."""
    if hasattr(img, "detach"):
        img = img.detach().cpu()
        if img.dim() == 3 and img.shape[0] in (1, 3):
            img = img.permute(1, 2, 0)            # [3, H, W] -> [H, W, 3]: channels last, no transpose
        img = img.float().clamp(0, 1).numpy()
    return np.asarray(img)


def to_pixels(boxes, height: int, width: int):
    """Boxes xyxy in [-1, 1] (fastai's scale) -> xyxy in pixels of an image ``height x width``.

    Args:
        boxes (Tensor[N, 4] or array): ``xyxy`` in [-1, 1].
    Returns:
        ndarray[N, 4]: ``xyxy`` in pixels, x along columns (width), y along rows (height).
    """
    b = _as_array(boxes).reshape(-1, 4)
    scale = np.array([width, height, width, height], dtype=np.float64)
    return (b + 1) / 2 * scale


def unit_to_pixels(boxes, height: int, width: int):
    """Boxes xyxy in [0, 1] -> xyxy in pixels of an image ``height x width``."""
    return _as_array(boxes).reshape(-1, 4) * np.array([width, height, width, height], dtype=np.float64)


def cxcywh_to_xyxy(boxes):
    """Boxes ``cxcywh`` -> ``xyxy`` (same units), for arrays or tensors of shape [N, 4]."""
    b = _as_array(boxes).reshape(-1, 4)
    return np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], axis=1)


def plain(t):
    """A fastai tensor subclass (TensorBBox, TensorImage, ...) as a plain torch.Tensor.

    fastai's subclasses refuse to be indexed by one another (a TensorBBox by a
    mask made from a TensorMultiCategory); plain tensors have no such rules.
    """
    import torch
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) else t


def _as_array(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float64)


def show_image(img, ax=None, figsize=(4, 4), title=None):
    """Show an image with pixel coordinates: x to the right (columns), y down (rows)."""
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    # extent puts pixel edges at integers: a box [x0, x1] covers pixels x0 .. x1-1.
    ax.imshow(arr, extent=(0, w, h, 0), interpolation="nearest")
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def draw_boxes(ax, boxes, labels=None, scores=None, vocab=None, colours=None, linewidth=2,
               fontsize=8, text=True, numbered=False):
    """Draw xyxy pixel boxes on `ax`, with 'label score' captions.

    Args:
        boxes: [N, 4] ``xyxy`` in pixels of the image on `ax`.
        labels: [N] class indices (coloured per class; named with `vocab` if given).
        scores: [N] optional scores, printed after the label.
        colours: [N] colours, one per box, in place of the class colours.
        numbered (bool): start each caption with the box's index ("2: square"), so a
            table or heat map whose rows are these boxes can be read against the picture.
    """
    from matplotlib import patches, patheffects
    boxes = _as_array(boxes).reshape(-1, 4)
    labels = [None] * len(boxes) if labels is None else [int(l) for l in _as_array(labels).ravel()]
    scores = [None] * len(boxes) if scores is None else list(_as_array(scores).ravel())
    outline = [patheffects.Stroke(linewidth=linewidth + 2, foreground="black"), patheffects.Normal()]
    placed = []                                    # caption corners so far: a new one moves below them
    for i, ((x0, y0, x1, y1), label, score) in enumerate(zip(boxes, labels, scores)):
        c = (colours[i] if colours is not None else colour(label if label is not None else i))
        rect = ax.add_patch(patches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                              edgecolor=c, linewidth=linewidth))
        rect.set_path_effects(outline)
        if not text or (label is None and score is None and not numbered):
            continue
        caption = "" if label is None else (str(vocab[label]) if vocab is not None else str(label))
        if numbered:
            caption = f"{i}: {caption}"
        if score is not None:
            caption += f" {score:.2f}"
        y0 = _free_row(placed, x0, y0, step=fontsize * 1.6 * _pixels_per_point(ax))
        t = ax.text(x0, y0, caption.strip(), va="top", color="white", fontsize=fontsize, weight="bold")
        t.set_path_effects([patheffects.Stroke(linewidth=2, foreground="black"), patheffects.Normal()])
    return ax


def _pixels_per_point(ax) -> float:
    """Data units (image pixels) per typographic point on `ax`, to space captions by their height."""
    fig = ax.figure
    height_points = ax.get_position().height * fig.get_figheight() * 72
    y_lo, y_hi = sorted(ax.get_ylim())
    return (y_hi - y_lo) / max(height_points, 1e-6)


def _free_row(placed: list, x: float, y: float, step: float) -> float:
    """A y at or below `y` where a caption at `x` does not sit on one already placed (then noted)."""
    while any(abs(x - px) < 6 * step and abs(y - py) < step for px, py in placed):
        y += step
    placed.append((x, y))
    return y


def show_boxes(img, boxes, labels=None, scores=None, vocab=None, ax=None, title=None, figsize=(4, 4)):
    """An image with its xyxy pixel boxes; returns the Axes."""
    ax = show_image(img, ax=ax, figsize=figsize, title=title)
    return draw_boxes(ax, boxes, labels, scores, vocab)


def render_boxes(img, boxes, labels=None, linewidth=2):
    """Draw boxes on an image at exactly one figure pixel per image pixel.

    Returns:
        ndarray[H, W, 3]: uint8 RGB of the drawing (the same pixels `save_boxes` writes).
    """
    fig = _exact_figure(img)
    draw_boxes(fig.axes[0], boxes, labels, linewidth=linewidth, text=False)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    _plt().close(fig)
    return rgb


def save_boxes(path, img, boxes, labels=None, linewidth=2):
    """Save an image with its boxes as a PNG of the image's own size (1 image pixel = 1 PNG pixel)."""
    fig = _exact_figure(img)
    draw_boxes(fig.axes[0], boxes, labels, linewidth=linewidth, text=False)
    return save(fig, path, dpi=fig.dpi, tight=False)


def _exact_figure(img, dpi=100):
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    fig = _plt().figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    show_image(arr, ax=ax)
    return fig


def show_batch(images, boxes, labels, vocab=None, n=12, ncols=4, size=3.0, titles=None):
    """A grid of the first `n` images of a batch with their ground truth.

    Args:
        images (Tensor[B, 3, H, W]): in [0, 1] (see `data.denormalize`).
        boxes (Tensor[B, G, 4]): ``xyxy`` in [-1, 1], zero-padded.
        labels (Tensor[B, G]): int64, padded with 0 (background; not drawn).
    Returns:
        the Figure.
    """
    images, boxes, labels = (plain(t) for t in (images, boxes, labels))
    n = min(n, len(images))
    nrows = (n + ncols - 1) // ncols
    fig, axes = _plt().subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        h, w = images[i].shape[-2:]
        keep = labels[i] > 0                               # drop the padding
        show_boxes(images[i], to_pixels(boxes[i][keep], h, w), labels[i][keep], vocab=vocab, ax=ax,
                   title=None if titles is None else titles[i])
    fig.tight_layout()
    return fig


def batch_figure(dls, n=12, ds_idx=0):
    """Draw a batch of `dls` (train by default) with its boxes; returns the Figure."""
    from ssd_course.data import denormalize
    dl = dls[ds_idx]
    images, boxes, labels = dl.one_batch()
    if any(type(t).__name__ == "Normalize" for t in dl.after_batch.fs):
        images = denormalize(images)
    return show_batch(images, boxes, labels, vocab=dls.vocab, n=n)


def save_batch(dls, path, n=12):
    """Save a picture of a batch of `dls` to `path` (PNG)."""
    return save(batch_figure(dls, n=n), path)


def show_anchors(img, anchors, labels=None, ax=None, figsize=(5, 5), numbers=False, title=None,
                 faint=False):
    """Anchors over an image.

    Args:
        img: the image ([3, H, W] in [0, 1], or [H, W, 3]).
        anchors (Tensor[A, 4]): ``cxcywh`` in [0, 1], as `make_anchors` returns them.
        labels: optional [A] class per anchor (e.g. after matching; 0 = background, drawn grey).
        numbers (bool): write each anchor's index at its centre (shows the order).
        faint (bool): thin dotted grey outlines, a backdrop for boxes drawn over them.
    """
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    ax = show_image(arr, ax=ax, figsize=figsize, title=title)
    boxes = unit_to_pixels(cxcywh_to_xyxy(anchors), h, w)
    if faint:
        _outline(ax, boxes, BACKGROUND, linestyle=":", linewidth=0.8)
    elif labels is None:
        draw_boxes(ax, boxes, colours=["white"] * len(boxes), linewidth=1, text=False)
    else:
        labels = _as_array(labels).astype(int)
        cs = ["#888888" if l == 0 else colour(l) for l in labels]
        draw_boxes(ax, boxes, colours=cs, linewidth=1, text=False)
    if numbers:
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, str(i), ha="center", va="center",
                    fontsize=7, color="yellow", weight="bold")
    return ax


def _outline(ax, boxes, colour_, linestyle="-", linewidth=1.0, zorder=2):
    """Plain rectangles (no caption, no black edge) for xyxy pixel `boxes` [N, 4]."""
    from matplotlib import patches
    for x0, y0, x1, y1 in _as_array(boxes).reshape(-1, 4):
        ax.add_patch(patches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour_,
                                       linestyle=linestyle, linewidth=linewidth, zorder=zorder))


def show_matches(img, gt_boxes, gt_labels, anchors, anchor_objects, vocab=None, ax=None,
                 figsize=(6.5, 5), title=None, legend="right"):
    """Which anchor was matched to which object (the picture of lesson 04).

    One colour per object, not per class, so that two squares and their anchors
    are told apart: each object is drawn thick and numbered ("1: square"), the
    anchors matched to it tinted and dashed in its colour with a dot at their
    centre, the background anchors faint grey. The legend (outside the image) names each
    object and counts its anchors; an object with 0 anchors has lost its match.

    Args:
        img: the image ([3, H, W] in [0, 1], or [H, W, 3]).
        gt_boxes (Tensor[G, 4]): ``xyxy`` in [0, 1] (not fastai's [-1, 1]).
        gt_labels (Tensor[G]): class index of each object (1.., vocab indices).
        anchors (Tensor[A, 4]): ``cxcywh`` in [0, 1], as `make_anchors` returns them.
        anchor_objects (Tensor[A]): int, the object (0..G-1) each anchor is matched to,
            -1 for a background anchor.
        legend: "right" of the image, "below" it (for panels side by side), or None.
    Returns:
        the Axes.
    """
    from matplotlib import patches
    from matplotlib.lines import Line2D
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    ax = show_image(arr, ax=ax, figsize=figsize, title=title)
    boxes = unit_to_pixels(cxcywh_to_xyxy(anchors), h, w)           # [A, 4] xyxy pixels
    owner = _as_array(anchor_objects).astype(int).ravel()           # [A], -1 = background
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2                      # [A, 2] (x, y)
    _outline(ax, boxes[owner < 0], BACKGROUND, linestyle=":", linewidth=0.8)
    n_objects = len(_as_array(gt_labels).ravel())
    inset = np.array([2, 2, -2, -2]) * max(h, w) / 224        # neighbouring anchors share edges: pull apart
    handles = []
    for g in range(n_objects):
        mine = owner == g
        for x0, y0, x1, y1 in boxes[mine] + inset:             # tinted: which cells went to object g
            ax.add_patch(patches.Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=object_colour(g),
                                           alpha=0.3, edgecolor="none", zorder=3))
        _outline(ax, boxes[mine] + inset, object_colour(g), linestyle="--", linewidth=2, zorder=4)
        ax.scatter(centres[mine, 0], centres[mine, 1], s=22, c=object_colour(g), edgecolors="black",
                   linewidths=0.5, zorder=5)
        name = _class_name(gt_labels, g, vocab)
        count = int(mine.sum())
        handles.append(Line2D([], [], color=object_colour(g), linewidth=3,
                              label=f"{g}: {name}, {count} anchor{'' if count == 1 else 's'}"))
    draw_boxes(ax, unit_to_pixels(gt_boxes, h, w), gt_labels, vocab=vocab, linewidth=3,
               colours=object_colours(n_objects), numbered=True)
    if legend:
        handles.append(Line2D([], [], color=BACKGROUND, linestyle=":",
                              label=f"background, {int((owner < 0).sum())} anchors"))
        where = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0)) if legend == "right" else \
            dict(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2)
        ax.legend(handles=handles, fontsize=7, frameon=False, title="object: anchors", title_fontsize=7,
                  **where)
    return ax


def _class_name(labels, g, vocab):
    label = int(_as_array(labels).ravel()[g])
    return str(vocab[label]) if vocab is not None else str(label)


# The 9 shapes of a cell: colour = ratio, line = zoom (small dotted, large solid).
RATIO_COLOURS = ("#ffe119", "#46f0f0", "#f032e6")
ZOOM_STYLES = (":", "--", "-")


def _ratio_name(ratio) -> str:
    """(1, 1) -> "square", (1, 0.5) -> "wide, w:h = 2:1", (0.5, 1) -> "tall, w:h = 1:2"."""
    from fractions import Fraction
    rw, rh = ratio
    if rw == rh:
        return "square"
    r = Fraction(rw / rh).limit_denominator(10)
    return f"{'wide' if rw > rh else 'tall'}, w:h = {r.numerator}:{r.denominator}"


def show_anchor_shapes(img, anchors, zooms, ratios, ax=None, figsize=(4.5, 4.5), title=None,
                       legend=True):
    """The anchors of one cell, told apart by shape: colour = ratio, line style = zoom.

    Args:
        img: the image ([3, H, W] in [0, 1], or [H, W, 3]).
        anchors (Tensor[k, 4]): ``cxcywh`` in [0, 1], the ``k = len(zooms) * len(ratios)``
            anchors of one cell in `make_anchors`' order (zoom by zoom, each zoom's ratios).
        zooms (sequence of float), ratios (sequence of (w, h)): what they were made with.
        legend (bool): a legend under the image (use `anchor_shapes_legend` for a figure of several).
    Returns:
        the Axes.
    """
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    ax = show_image(arr, ax=ax, figsize=figsize, title=title)
    boxes = unit_to_pixels(cxcywh_to_xyxy(anchors), h, w)            # [k, 4] xyxy pixels
    if len(boxes) != len(zooms) * len(ratios):
        raise ValueError(f"expected {len(zooms) * len(ratios)} anchors (zooms x ratios), got {len(boxes)}")
    for n, box in enumerate(boxes):
        z, r = divmod(n, len(ratios))                                  # zoom-major, as make_anchors
        _outline(ax, box[None], RATIO_COLOURS[r % len(RATIO_COLOURS)],
                 linestyle=ZOOM_STYLES[min(z, len(ZOOM_STYLES) - 1)], linewidth=1.8, zorder=4)
    if legend:
        ax.legend(handles=_shape_handles(zooms, ratios), fontsize=7, ncol=2, frameon=False,
                  loc="upper center", bbox_to_anchor=(0.5, 0.0))
    return ax


def _shape_handles(zooms, ratios):
    from matplotlib.lines import Line2D
    colours = [Line2D([], [], color=RATIO_COLOURS[r % len(RATIO_COLOURS)], linewidth=3,
                      label=_ratio_name(ratio)) for r, ratio in enumerate(ratios)]
    styles = [Line2D([], [], color="black", linestyle=ZOOM_STYLES[min(z, len(ZOOM_STYLES) - 1)],
                     linewidth=1.8, label=f"zoom {zoom:g} x cell") for z, zoom in enumerate(zooms)]
    return colours + styles


def anchor_shapes_legend(fig, zooms, ratios):
    """One legend under a figure of `show_anchor_shapes` panels: which colour and line is which shape."""
    handles = _shape_handles(zooms, ratios)
    fig.tight_layout(rect=(0, 0.06, 1, 1))                 # leave a strip at the bottom for the legend
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    return fig


def show_overlap(box_a, box_b, ax=None, figsize=(4.5, 4.5), title=None):
    """Two xyxy boxes on a grid of their own units, their intersection shaded (the IoU picture).

    Args:
        box_a, box_b (Tensor[4] or sequence): ``xyxy``, any units (drawn as they are, y down
            as in an image).
    Returns:
        the Axes.
    """
    from matplotlib import patches
    a, b = _as_array(box_a).ravel(), _as_array(box_b).ravel()
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    # A's caption in its top-left corner, B's in its bottom-right: away from the overlap between them.
    for (x0, y0, x1, y1), name, c, corner in ((a, "A", COLOURS[3], "tl"), (b, "B", COLOURS[0], "br")):
        ax.add_patch(patches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=c, linewidth=3))
        pad = 0.04 * max(x1 - x0, y1 - y0)
        tx, ty, ha, va = (x0 + pad, y0 + pad, "left", "top") if corner == "tl" else \
            (x1 - pad, y1 - pad, "right", "bottom")
        ax.text(tx, ty, f"{name}: area {(x1 - x0) * (y1 - y0):g}", color=c, ha=ha, va=va,
                fontsize=12, weight="bold")
    # The intersection is the box between the larger top-left and the smaller bottom-right corner.
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    if ix1 > ix0 and iy1 > iy0:
        ax.add_patch(patches.Rectangle((ix0, iy0), ix1 - ix0, iy1 - iy0, facecolor="#911eb4",
                                       alpha=0.45, hatch="//", edgecolor="#911eb4", linewidth=0))
        ax.text((ix0 + ix1) / 2, (iy0 + iy1) / 2, f"A ∩ B\narea {(ix1 - ix0) * (iy1 - iy0):g}", ha="center",
                va="center", fontsize=11, weight="bold")
    lo, hi = min(a[0], a[1], b[0], b[1]) - 0.5, max(a[2], a[3], b[2], b[3]) + 0.5
    ax.set_xlim(lo, hi)
    ax.set_ylim(hi, lo)                                               # y down, as in an image
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(np.ceil(lo), hi))                         # whole units: read corners off the grid
    ax.set_yticks(np.arange(np.ceil(lo), hi))
    ax.grid(alpha=0.3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_heatmap(img, heat, ax=None, figsize=(4, 4), title=None, alpha=0.6, cmap="magma"):
    """An image with a heat map over it (e.g. which pixels a prediction depends on).

    Args:
        img: the image ([3, H, W] in [0, 1], or [H, W, 3]).
        heat (Tensor[h, w] or array): any non-negative values; stretched over the image.
    """
    arr = to_numpy_image(img)
    h, w = arr.shape[:2]
    ax = show_image(arr, ax=ax, figsize=figsize, title=title)
    heat = _as_array(heat)
    ax.imshow(heat / max(float(heat.max()), 1e-12), extent=(0, w, h, 0), alpha=alpha, cmap=cmap,
              interpolation="bilinear")
    return ax


def predictions_figure(images, preds, targets, vocab=None, ncols=2, size=3.0):
    """Each image twice, side by side: the detections (after NMS) and the ground truth.

    Args:
        images (Tensor[B, 3, H, W]): in [0, 1] (see `data.denormalize`).
        preds: list of B dicts ``{"boxes" [K, 4] xyxy in [0, 1], "scores" [K], "labels" [K]}``
            (`postprocess.detect`'s).
        targets: list of B dicts ``{"boxes" [G, 4] xyxy in [0, 1], "labels" [G]}`` (`metrics.targets_of`'s).
        ncols (int): image pairs per row.
    Returns:
        the Figure.
    """
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = _plt().subplots(nrows, 2 * ncols, figsize=(2 * ncols * size, nrows * size), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i in range(n):
        h, w = images[i].shape[-2:]
        p, t = preds[i], targets[i]
        ax_pred, ax_true = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        show_boxes(images[i], unit_to_pixels(p["boxes"], h, w), p["labels"], p["scores"], vocab=vocab,
                   ax=ax_pred, title=f"predicted ({len(p['labels'])})")
        show_boxes(images[i], unit_to_pixels(t["boxes"], h, w), t["labels"], vocab=vocab, ax=ax_true,
                   title=f"ground truth ({len(t['labels'])})")
    fig.tight_layout()
    return fig


def plot_pr_curves(curves, ax=None, figsize=(5, 4), title="precision-recall at IoU 0.5"):
    """Precision-recall curves, one per class.

    Args:
        curves (dict): ``{name: (recall, precision)}``, each a 1-D sequence in [0, 1]
            ordered by decreasing score (as detections are ranked).
    Returns:
        the Axes.
    """
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize)
    for i, (name, (recall, precision)) in enumerate(curves.items()):
        ax.step(_as_array(recall), _as_array(precision), where="post", label=str(name),
                color=colour(i + 1), linewidth=1.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall: share of the objects found")
    ax.set_ylabel("precision: share of detections that are right")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def save(fig, path, dpi=100, tight=True):
    """Save a Figure (or an Axes' figure) as PNG, close it, return the path."""
    fig = getattr(fig, "figure", fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None)
    _plt().close(fig)
    return path
