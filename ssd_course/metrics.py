"""Mean average precision at IoU 0.5 (PASCAL VOC's measure), from a maintained implementation.

`mean_average_precision` hands detections and ground truth to torchmetrics'
`MeanAveragePrecision` (pycocotools, the COCO evaluation code, underneath) with
a single IoU threshold of 0.5: a detection is right when it has the right class
and overlaps a not-yet-found object of that class by IoU >= 0.5. AP per class is
the area under the interpolated precision-recall curve (COCO's 101 recall
points); mAP is its mean over the classes that have objects.

`evaluate` runs a model over a DataLoader, post-processes (`postprocess.detect`)
and scores it.
"""
import time

import torch

from ssd_course.boxes import signed_to_unit
from ssd_course.data import plain, unpad
from ssd_course.postprocess import detect

IOU = 0.5
EVAL_SCORE_THRESH = 0.05   # low: mAP rewards the recall of low-scoring boxes (they rank last)


def targets_of(bbox, clas):
    """A batch's ground truth in torchmetrics' format.

    Args:
        bbox (Tensor[B, G, 4]): ``xyxy`` in [-1, 1] (fastai's), zero-padded; clas (Tensor[B, G]).

    Returns:
        list of B dicts ``{"boxes": Tensor[K, 4] xyxy in [0, 1], "labels": Tensor[K] int64}``.
    """
    out = []
    for bb, c in zip(plain(bbox), plain(clas)):
        bb, c = unpad(bb, c)
        out.append({"boxes": signed_to_unit(bb), "labels": c})
    return out


def mean_average_precision(preds, targets, vocab=None):
    """mAP@0.5 and AP@0.5 per class (torchmetrics `MeanAveragePrecision`, COCO backend).

    Args:
        preds: list of dicts ``{"boxes" [K, 4] xyxy, "scores" [K], "labels" [K]}``, one per image.
        targets: list of dicts ``{"boxes" [G, 4] xyxy, "labels" [G]}``, same units as ``preds``.
        vocab: names of the class indices (``dls.vocab``); per_class is keyed by name when given.

    Returns:
        dict: ``map`` (float), ``per_class`` ({class: AP}, classes with objects only).
    """
    from torchmetrics.detection import MeanAveragePrecision
    # sync_on_compute=False: under several processes the caller hands over every image
    # (`distributed.evaluate` gathers them on rank 0); torchmetrics would wait for the others.
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", iou_thresholds=[IOU],
                                  class_metrics=True, backend="pycocotools", sync_on_compute=False)
    cpu = lambda d: {k: plain(v).detach().cpu() for k, v in d.items()}
    metric.update([cpu(p) for p in preds], [cpu(t) for t in targets])
    result = metric.compute()
    classes = result["classes"].reshape(-1).tolist()
    aps = result["map_per_class"].reshape(-1).tolist()
    with_objects = {int(l) for t in targets for l in t["labels"].tolist()}
    per_class = {(vocab[c] if vocab is not None else c): ap
                 for c, ap in zip(classes, aps) if c in with_objects}
    return {"map": float(result["map"]), "per_class": per_class}


@torch.no_grad()
def predict(model, dl, score_thresh: float = EVAL_SCORE_THRESH, **detect_kwargs):
    """Run `model` over `dl`: (detections, targets), lists of dicts with one entry per image.

    Boxes are ``xyxy`` in [0, 1]. The model is put in eval mode (and put back as it was).
    """
    anchors, grid_sizes = model.spec.make()
    was_training = model.training
    model.eval()
    preds, targets = [], []
    try:
        for x, bbox, clas in dl:
            clas_actn, bbox_actn = model(x)
            preds += detect(clas_actn, bbox_actn, anchors, grid_sizes, score_thresh=score_thresh,
                            **detect_kwargs)
            targets += targets_of(bbox, clas)
    finally:
        model.train(was_training)
    return preds, targets


def evaluate(learn_or_model, dl=None, vocab=None, **detect_kwargs) -> dict:
    """mAP@0.5 of a Learner's (or a model's) detections on a DataLoader.

    Args:
        learn_or_model: a fastai Learner (its model, validation set and vocab are used
            unless given) or an `SSD` model.
        dl: the DataLoader to score (a Learner's ``dls.valid`` by default).
        vocab: class names (a Learner's ``dls.vocab`` by default).
        **detect_kwargs: passed on to `postprocess.detect` (e.g. ``score_thresh``).

    Returns:
        dict: ``map``, ``per_class`` ({name: AP}), ``n_images``, ``seconds``.
    """
    model = getattr(learn_or_model, "model", learn_or_model)
    dls = getattr(learn_or_model, "dls", None)
    dl = dl if dl is not None else dls.valid
    vocab = vocab if vocab is not None else getattr(dls, "vocab", None)
    start = time.perf_counter()
    preds, targets = predict(model, dl, **detect_kwargs)
    result = mean_average_precision(preds, targets, vocab)
    return {**result, "n_images": len(targets), "seconds": time.perf_counter() - start}


def format_table(result: dict) -> str:
    """The per-class AP table and the final ``mAP@0.5: <value>`` line, as the demo prints them."""
    width = max([len(str(c)) for c in result["per_class"]] + [5])
    lines = [f"{'class':<{width}}  AP@0.5", f"{'-' * width}  ------"]
    lines += [f"{str(c):<{width}}  {ap:.3f}" for c, ap in result["per_class"].items()]
    lines.append(f"mAP@0.5: {result['map']:.3f}")
    return "\n".join(lines)
