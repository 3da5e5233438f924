"""Pictures are drawn where the tensors say, with no transposing (issue 2)."""
import numpy as np
import torch
from PIL import Image

from ssd_course import viz


def _is_colour(pixel, rgb, tol=40):
    return np.abs(pixel.astype(int) - np.array(rgb)).max() <= tol


def _hex(c):
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


def test_one_known_box_is_drawn_at_the_right_pixels(tmp_path):
    # A wide, black image: a transposed drawing would put the box elsewhere (or outside).
    img = torch.zeros(3, 80, 200)                       # [3, H=80, W=200]
    box = [[120, 10, 180, 50]]                          # xyxy pixels: x along the 200 columns
    path = viz.save_boxes(tmp_path / "box.png", img, box, labels=[1])
    png = np.asarray(Image.open(path).convert("RGB"))
    assert png.shape == (80, 200, 3)
    red = _hex(viz.colour(1))
    for y in (20, 30, 40):                              # left and right edges
        assert _is_colour(png[y, 120], red) and _is_colour(png[y, 180], red), (y, png[y, 118:123])
    for x in (130, 150, 170):                           # top and bottom edges
        assert _is_colour(png[10, x], red) and _is_colour(png[50, x], red), (x, png[8:13, x])
    assert png[30, 150].max() < 30                      # inside: the black image
    assert png[30, 60].max() < 30 and png[70, 150].max() < 30   # outside: untouched
    # The transposed place (rows 120-180 do not exist; columns 10-50 at rows 120..) stays black.
    assert png[:, 10:50].max() < 30


def test_batch_picture_is_saved(small_dataset, tmp_path):
    from ssd_course.data import get_dataloaders
    dls = get_dataloaders(small_dataset, size=64, bs=4, num_workers=0, device="cpu")
    out = viz.save_batch(dls, tmp_path / "batch.png", n=4)
    w, h = Image.open(out).size
    assert w > 300 and h > 60
