"""Pictures of every step: images with boxes, batches, anchors, matches, detections.

Orientation: images are shown as ``[H, W, 3]`` (rows are y, columns are x) and
boxes are drawn as ``xyxy`` with x along the columns. No transposing anywhere:
the blog transposes its images (``permute(2, 1, 0)``) and then swaps the box
axes in ``bb_hw`` to compensate, which hides the anchor-order bug
docs/design.md describes. Here what you see is what the tensors hold.

Coordinates: every drawing function takes boxes in *pixels* of the image it
draws on; `ssd_course.boxes` converts fastai's [-1, 1] boxes and the anchors'
``cxcywh`` format. Functions return the matplotlib Axes/Figure, so a notebook
shows them inline and a script saves them with `save`.
"""
from ssd_course.viz.anchors import (  # noqa: F401  (the lessons' viz.show_anchors, ...)
    RATIO_COLOURS,
    ZOOM_STYLES,
    anchor_shapes_legend,
    show_anchor_shapes,
    show_anchors,
    show_heatmap,
    show_matches,
    show_overlap)
from ssd_course.viz.draw import (  # noqa: F401
    BACKGROUND,
    COLOURS,
    OBJECT_COLOURS,
    batch_figure,
    colour,
    draw_boxes,
    object_colour,
    object_colours,
    plot_pr_curves,
    predictions_figure,
    render_boxes,
    save,
    save_batch,
    save_boxes,
    show_batch,
    show_boxes,
    show_image,
    to_numpy_image)
