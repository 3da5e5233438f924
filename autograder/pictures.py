"""Pictures of failing cases, for `check()` in a notebook, where a picture says more than numbers.

    anchors   the expected anchors and the returned ones side by side, each numbered in
              order: a transposed or swapped order shows at a glance
    nms       the input boxes, the ones the contract keeps and the ones that came back

Drawn from ``Outcome.picture`` (``autograder.feedback.picture_data``): public cases only.
matplotlib is imported only when a picture is drawn.
"""
import numpy as np

SHOWN_ANCHORS = 16     # the first anchors, numbered: enough to see the order, few enough to read


def figures(result) -> list:
    """One matplotlib Figure per exercise with a pictured failing case (its first such case)."""
    out = []
    for ex in result.exercises:
        shown = next((o for o in ex.outcomes if not o.passed and o.picture), None)
        draw = DRAWERS.get(ex.module)
        if shown is not None and draw is not None:
            out.append(draw(shown.picture))
    return out


def show(result) -> None:
    """Display the figures (in a notebook) and close them."""
    import matplotlib.pyplot as plt

    for fig in figures(result):
        plt.show()
        plt.close(fig)


def _axes(titles):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(titles), figsize=(4.2 * len(titles), 4.4))
    for ax, title in zip(np.atleast_1d(axes), titles):
        ax.set_title(title, fontsize=9)
        ax.set_aspect("equal")
    return fig, np.atleast_1d(axes)


def _anchors(picture) -> object:
    """Expected and returned anchors (cxcywh, [0, 1]): centres numbered in order."""
    fig, axes = _axes(["expected (the contract's order)", "returned"])
    for ax, arrays in zip(axes, (picture["expected"], picture["got"])):
        anchors = arrays[0] if arrays and arrays[0].ndim == 2 and arrays[0].shape[1] == 4 else np.zeros((0, 4))
        for i, (cx, cy, w, h) in enumerate(anchors[:SHOWN_ANCHORS]):
            ax.add_patch(_rect(cx - w / 2, cy - h / 2, w, h, "tab:blue", alpha=0.25))
            ax.text(cx, cy, str(i), ha="center", va="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(1, 0)          # y down, as in an image
    fig.suptitle(f"anchors: {picture['title']} (first {SHOWN_ANCHORS})", fontsize=9)
    return fig


def _nms(picture) -> object:
    """The input boxes (xyxy), the boxes the contract keeps and those that came back."""
    boxes = picture["inputs"][0] if picture["inputs"] else np.zeros((0, 4))
    fig, axes = _axes(["kept, as the contract says", "kept, as returned"])
    for ax, arrays in zip(axes, (picture["expected"], picture["got"])):
        kept = {int(i) for i in (arrays[0].ravel() if arrays and arrays[0].dtype.kind in "iu" else [])}
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            on = i in kept
            ax.add_patch(_rect(x1, y1, x2 - x1, y2 - y1, "tab:green" if on else "tab:grey",
                               alpha=0.35 if on else 0.08, dashed=not on))
            ax.text(x1, y1, str(i), fontsize=7, va="top")
        if len(boxes):
            pad = 0.05 * max(np.ptp(boxes[:, [0, 2]]), np.ptp(boxes[:, [1, 3]]), 1e-6)
            ax.set_xlim(boxes[:, 0].min() - pad, boxes[:, 2].max() + pad)
            ax.set_ylim(boxes[:, 3].max() + pad, boxes[:, 1].min() - pad)
    fig.suptitle(f"nms: {picture['title']}", fontsize=9)
    return fig


def _rect(x, y, w, h, colour, alpha, dashed=False):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor=colour, alpha=max(alpha, 0.5) if dashed else alpha,
                     linestyle="--" if dashed else "-", fill=not dashed)


DRAWERS = {"anchors": _anchors, "nms": _nms}
