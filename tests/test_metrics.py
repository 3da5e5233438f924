"""mAP@0.5 against a hand-computed case, and the demo's table."""
import torch

from ssd_course.metrics import format_table, mean_average_precision, targets_of


def box(*xyxy):
    return torch.tensor([xyxy], dtype=torch.float32)


def test_ap_of_a_hand_computed_precision_recall_curve():
    # Two objects of one class; three detections ranked by score: right, wrong, right.
    # Ranks: (P=1, R=.5), (P=.5, R=.5), (P=2/3, R=1). COCO interpolates precision at
    # 101 recall points: R in 0..0.50 (51 points) -> 1, R in 0.51..1 (50 points) -> 2/3.
    targets = [{"boxes": torch.cat([box(.1, .1, .3, .3), box(.6, .6, .9, .9)]), "labels": torch.tensor([1, 1])}]
    preds = [{"boxes": torch.cat([box(.1, .1, .3, .3), box(.4, 0, .5, .1), box(.62, .6, .9, .92)]),
              "scores": torch.tensor([.9, .8, .7]), "labels": torch.tensor([1, 1, 1])}]
    result = mean_average_precision(preds, targets)
    expected = (51 * 1 + 50 * 2 / 3) / 101
    assert abs(result["map"] - expected) < 1e-6
    assert abs(result["per_class"][1] - expected) < 1e-6


def test_iou_threshold_class_and_vocab():
    targets = [{"boxes": torch.cat([box(0, 0, .4, .4), box(.5, .5, 1, 1)]), "labels": torch.tensor([1, 2])},
               {"boxes": box(0, 0, .5, .5), "labels": torch.tensor([3])}]
    preds = [{"boxes": torch.cat([box(0, 0, .4, .4), box(.5, .5, 1, 1)]), "scores": torch.tensor([.9, .8]),
              "labels": torch.tensor([1, 1])},                       # second box: right place, wrong class
             {"boxes": box(0, 0, .5, .3), "scores": torch.tensor([.9]),   # IoU 0.6 >= 0.5: found
              "labels": torch.tensor([3])}]
    result = mean_average_precision(preds, targets, vocab=["#na#", "circle", "square", "ring"])
    assert result["per_class"] == {"circle": 1.0, "square": 0.0, "ring": 1.0}
    assert abs(result["map"] - 2 / 3) < 1e-6
    preds[1]["boxes"] = box(0, 0, .5, .2)                            # IoU 0.4 < 0.5: missed
    assert mean_average_precision(preds, targets)["per_class"][3] == 0.0


def test_targets_drop_padding_and_move_to_unit_scale():
    bbox = torch.tensor([[[-1., -1., 0., 0.], [0., 0., 0., 0.]]])
    t = targets_of(bbox, torch.tensor([[2, 0]]))
    torch.testing.assert_close(t[0]["boxes"], torch.tensor([[0., 0., .5, .5]]))
    assert t[0]["labels"].tolist() == [2]


def test_table_ends_with_the_map_line():
    text = format_table({"map": 0.6123, "per_class": {"circle": 0.7, "ring": 0.5246}})
    assert text.splitlines()[-1] == "mAP@0.5: 0.612"
    assert "circle" in text and "0.525" in text
