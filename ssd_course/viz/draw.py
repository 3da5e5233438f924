"""The drawing primitives: colours, images, boxes, batches, detections, PR curves, saving.

Conventions in `ssd_course.viz` (the package's docstring).
"""
from pathlib import Path

import numpy as np

from ssd_course.boxes import signed_to_pixels, unit_to_pixels
from ssd_course.data import plain

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


def _as_array(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float64)


def _px(boxes, height, width, convert=unit_to_pixels):
    """Boxes (tensor or array, ``xyxy`` in [0, 1], or [-1, 1] with `signed_to_pixels`) -> ndarray[N, 4] pixels."""
    return convert(_as_array(boxes).reshape(-1, 4), height, width)


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
        show_boxes(images[i], _px(boxes[i][keep], h, w, signed_to_pixels), labels[i][keep], vocab=vocab, ax=ax,
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
        show_boxes(images[i], _px(p["boxes"], h, w), p["labels"], p["scores"], vocab=vocab,
                   ax=ax_pred, title=f"predicted ({len(p['labels'])})")
        show_boxes(images[i], _px(t["boxes"], h, w), t["labels"], vocab=vocab, ax=ax_true,
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
