"""Pictures of anchors: the grid and its order, the matches, the shapes, two boxes' overlap, a heat map."""
import numpy as np

from ssd_course.boxes import cxcywh_to_xyxy
from ssd_course.viz.draw import (BACKGROUND, COLOURS, _as_array, _plt, _px, colour, draw_boxes, object_colour, object_colours, show_image, to_numpy_image)


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
    boxes = _px(cxcywh_to_xyxy(_as_array(anchors)), h, w)
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
    boxes = _px(cxcywh_to_xyxy(_as_array(anchors)), h, w)           # [A, 4] xyxy pixels
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
    draw_boxes(ax, _px(gt_boxes, h, w), gt_labels, vocab=vocab, linewidth=3,
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
    boxes = _px(cxcywh_to_xyxy(_as_array(anchors)), h, w)            # [k, 4] xyxy pixels
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
