"""The SSD loss: match anchors to objects, then an L1 loss on boxes and focal loss on classes.

For one image (`ssd_1_loss`, named and written like the blog's):

    1. box activations -> predicted boxes around the anchors   (`actn_to_bb`)
    2. IoU of every object with every anchor                   (`jaccard`, exercise 3)
    3. each anchor's object; each object's best anchor         (`map_to_ground_truth`, exercise 4)
    4. anchors with IoU > 0.4 are positives: their class is the object's; the rest are background
    5. L1 between the positives' predicted boxes and their objects' boxes, averaged
       + focal loss over every anchor and class                 (`focal_loss`, exercise 5)

The batch loss is the sum of the images' losses. `ssd_loss_loop` computes it as
the blog does, one image at a time; `ssd_loss_batched` computes the same number
on the whole padded batch at once (about 30-100x faster), and a test checks they
agree. `SSDLoss` is the callable a fastai Learner takes.

Units: the model and the anchors work in [0, 1] image units; fastai's boxes come
in [-1, 1] and are brought to [0, 1] here (`boxes.signed_to_unit`).
"""
import torch

from ssd_course import impl
from ssd_course.boxes import cxcywh_to_xyxy, signed_to_unit
from ssd_course.data import plain, real_objects, unpad   # one rule for "a real object", loop and batch

POS_IOU = 0.4        # the blog's threshold: an anchor overlapping an object more than this predicts it
PAD_IOU = -1.0       # IoU given to padding objects in the batched loss: below any real IoU


def actn_to_bb(actn: torch.Tensor, anchors: torch.Tensor, grid_sizes: torch.Tensor) -> torch.Tensor:
    """Box activations -> predicted boxes, each a bounded change of its anchor.

    After a tanh, the centre moves at most half a grid cell from the anchor's
    centre and the width and height scale by 0.5 to 1.5 of the anchor's.

    Args:
        actn (Tensor[..., A, 4]): the head's raw box activations (one image or a batch).
        anchors (Tensor[A, 4]): ``cxcywh`` in [0, 1], from `make_anchors` (row i: the anchor of
            activation i; the batched loss passes just the positives' anchors).
        grid_sizes (Tensor[A, 1]): each anchor's cell size, ``1/g``.

    Returns:
        Tensor[..., A, 4]: ``xyxy`` in [0, 1] image units, on ``actn``'s device.
    """
    anchors, grid_sizes = anchors.to(actn), grid_sizes.to(actn)
    t = torch.tanh(actn)                                       # [..., A, 4] in (-1, 1)
    ctr = t[..., :2] / 2 * grid_sizes + anchors[:, :2]         # within half a cell of the anchor
    size = (t[..., 2:] / 2 + 1) * anchors[:, 2:]               # 0.5x .. 1.5x the anchor
    return cxcywh_to_xyxy(torch.cat([ctr, size], dim=-1))


# --- the blog's loss, one image at a time ------------------------------------------------------

def ssd_1_loss(b_c, b_bb, bbox, clas, anchors, grid_sizes, alpha=0.25, gamma=2.0):
    """The loss of one image, written like the blog's `ssd_1_loss`.

    Args:
        b_c (Tensor[A, C]): class logits; b_bb (Tensor[A, 4]): box activations.
        bbox (Tensor[G, 4]): ``xyxy`` in [-1, 1], padded; clas (Tensor[G]): int64, padded with 0.
        anchors (Tensor[A, 4]) ``cxcywh`` in [0, 1]; grid_sizes (Tensor[A, 1]).

    Returns:
        (Tensor[], Tensor[]): the box loss (mean L1 over the positives' 4 coordinates,
        0 when the image has no object) and the classification loss (`focal_loss`).
    """
    bbox, clas = unpad(bbox.to(b_bb.dtype), clas)              # [G, 4], [G]: real objects only
    if len(clas) == 0:                                         # every object cropped away: all background
        no_objects = torch.zeros(len(b_c), dtype=torch.int64, device=b_c.device)
        return b_bb.sum() * 0, impl.focal_loss(b_c, no_objects, alpha, gamma)
    bbox = signed_to_unit(bbox)                                # [-1, 1] -> [0, 1], like the anchors
    a_ic = actn_to_bb(b_bb, anchors, grid_sizes)               # [A, 4] predicted boxes, xyxy
    anchor_cnr = cxcywh_to_xyxy(anchors.to(bbox))              # [A, 4] anchors, xyxy
    overlaps = impl.jaccard(bbox, anchor_cnr)                  # [G, A]
    gt_overlap, gt_idx = impl.map_to_ground_truth(overlaps)    # [A], [A]
    gt_clas = clas[gt_idx]                                     # [A] each anchor's object's class
    pos = gt_overlap > POS_IOU                                 # [A]
    gt_clas = torch.where(pos, gt_clas, torch.zeros_like(gt_clas))   # the rest: background (0)
    gt_bbox = bbox[gt_idx]                                     # [A, 4]
    loc_loss = (a_ic[pos] - gt_bbox[pos]).abs().mean()
    clas_loss = impl.focal_loss(b_c, gt_clas, alpha, gamma)
    return loc_loss, clas_loss


def ssd_loss_loop(pred, bbox, clas, anchors, grid_sizes, alpha=0.25, gamma=2.0):
    """The batch loss as the blog computes it: a loop over images, summing each image's two losses.

    Args:
        pred: the model's ``(Tensor[B, A, C], Tensor[B, A, 4])``.
        bbox (Tensor[B, G, 4]): ``xyxy`` in [-1, 1], zero-padded; clas (Tensor[B, G]): padded with 0.

    Returns:
        (Tensor[], Tensor[]): (box loss, class loss), each summed over the images.
    """
    lls, lcs = 0.0, 0.0
    for b_c, b_bb, bb, c in zip(*pred, bbox, clas):
        loc_loss, clas_loss = ssd_1_loss(b_c, b_bb, bb, c, anchors, grid_sizes, alpha, gamma)
        lls = lls + loc_loss
        lcs = lcs + clas_loss
    return lls, lcs


# --- the same loss on the whole batch at once --------------------------------------------------

def match_batch(overlaps: torch.Tensor, real: torch.Tensor):
    """Each anchor's object in each image, by the rules of `map_to_ground_truth` (exercise 4).

    With the reference solutions in use, one batched call (`solutions/batched.py`, which
    a student copy does not have); otherwise the exercise's function image by image.
    Same arguments and results as `match_each_image`.
    """
    batched = impl.solutions_extra("batched")
    if batched is not None:
        return batched.map_to_ground_truth_batched(overlaps, real)
    return match_each_image(overlaps, real)


def match_each_image(overlaps: torch.Tensor, real: torch.Tensor):
    """Run `map_to_ground_truth` (exercise 4) on each image's real objects; pad the results to the batch.

    Matching is a handful of max/argmax calls per image and carries no gradient, so a
    short loop over the images costs little; the expensive parts of the loss (IoU,
    box regression, focal loss) stay batched. Objects are passed in their original
    order, so "the later object wins a shared anchor" means the same as in the loop.

    Args:
        overlaps (Tensor[B, G, A]): IoU of each (padded) object with each anchor.
        real (Tensor[B, G]): bool, which objects are real.

    Returns:
        gt_overlap (Tensor[B, A]): each anchor's matched IoU (`PAD_IOU` in an image without objects);
        gt_idx (Tensor[B, A]): int64, the matched object, an index into G.
    """
    n_images, _, n_anchors = overlaps.shape
    matched_iou = overlaps.new_full((n_images, n_anchors), PAD_IOU)
    matched_object = torch.zeros((n_images, n_anchors), dtype=torch.int64, device=overlaps.device)
    with torch.no_grad():
        for b in range(n_images):
            objects = real[b].nonzero().squeeze(1)            # [G_b]: this image's real objects
            if len(objects) == 0:
                continue                                        # all background
            iou, idx = impl.map_to_ground_truth(overlaps[b, objects])   # [A], [A] into G_b
            matched_iou[b], matched_object[b] = iou, objects[idx]
    return matched_iou, matched_object


def ssd_loss_batched(pred, bbox, clas, anchors, grid_sizes, alpha=0.25, gamma=2.0):
    """`ssd_loss_loop`'s value, computed on the padded batch without a loop over images.

    Padding objects get IoU `PAD_IOU` with every anchor, so they never win an anchor
    and claim none; an image without objects has only background anchors and adds 0
    to the box loss. `jaccard` runs once on the batch's real objects, `focal_loss`
    once on all its anchors (a sum, like the loop's), and the box loss only on the
    positive anchors, the only ones that have one. The matching (`match_batch`) is
    batched too with the solutions; with a student's code it calls their
    `map_to_ground_truth` once per image.

    Returns:
        (Tensor[], Tensor[]): (box loss, class loss), each summed over the images.
    """
    b_c, b_bb = pred                                           # [B, A, C], [B, A, 4]
    B, A, C = b_c.shape
    anchors, grid_sizes = anchors.to(b_bb), grid_sizes.to(b_bb)
    real = real_objects(bbox, clas)                            # [B, G]
    bbox = signed_to_unit(bbox.to(b_bb.dtype))                 # [B, G, 4] in [0, 1]
    overlaps = bbox.new_full((B, clas.shape[1], A), PAD_IOU)   # [B, G, A]
    overlaps[real] = impl.jaccard(bbox[real], cxcywh_to_xyxy(anchors))   # [n_real, A]
    gt_overlap, gt_idx = match_batch(overlaps, real)                     # [B, A], [B, A]
    pos = gt_overlap > POS_IOU                                 # [B, A]
    gt_clas = torch.where(pos, clas.gather(1, gt_idx), 0)   # [B, A]: the object's class, or background
    img, anc = pos.nonzero(as_tuple=True)                      # [P], [P]: the positives
    a_ic = actn_to_bb(b_bb[img, anc], anchors[anc], grid_sizes[anc])       # [P, 4]
    gt_bbox = bbox[img, gt_idx[img, anc]]                      # [P, 4]
    n_pos = pos.sum(dim=1)                                     # [B]
    loc_loss = ((a_ic - gt_bbox).abs().sum(dim=1) / (4 * n_pos[img])).sum()   # per-image means, summed
    clas_loss = impl.focal_loss(b_c.reshape(B * A, C), gt_clas.reshape(B * A), alpha, gamma)
    return loc_loss, clas_loss


class SSDLoss:
    """The SSD loss for a fastai Learner: ``loss(pred, bbox, clas) -> Tensor[]``.

    ``total = loc_weight * box loss + class loss``, each summed over the images, then
    divided by the batch size when ``per_image`` (the blog sums; dividing keeps the
    number comparable between batch sizes).

    Args:
        anchors (Tensor[A, 4]): ``cxcywh`` in [0, 1]; grid_sizes (Tensor[A, 1]): from `make_anchors`.
        batched (bool): `ssd_loss_batched` (fast) or the blog's loop `ssd_loss_loop` (same value).
        loc_weight (float): weight of the box loss against the class loss (the blog: 1).
        per_image (bool): divide by the batch size.
        alpha, gamma (float): `focal_loss`'s.
    """

    def __init__(self, anchors, grid_sizes, batched: bool = True, loc_weight: float = 1.0,
                 per_image: bool = False, alpha: float = 0.25, gamma: float = 2.0):
        self.anchors, self.grid_sizes = anchors, grid_sizes
        self.batched, self.loc_weight, self.per_image = batched, loc_weight, per_image
        self.alpha, self.gamma = alpha, gamma

    def parts(self, pred, bbox, clas):
        """(box loss, class loss), each summed over the batch's images."""
        fn = ssd_loss_batched if self.batched else ssd_loss_loop
        bbox, clas = plain(bbox), plain(clas)
        pred = tuple(plain(p) for p in pred)
        return fn(pred, bbox, clas, self.anchors, self.grid_sizes, self.alpha, self.gamma)

    def __call__(self, pred, bbox, clas):
        loc_loss, clas_loss = self.parts(pred, bbox, clas)
        total = self.loc_weight * loc_loss + clas_loss
        return total / len(clas) if self.per_image else total

    def __repr__(self):
        return (f"SSDLoss({len(self.anchors)} anchors, batched={self.batched}, loc_weight={self.loc_weight}, "
                f"per_image={self.per_image}, alpha={self.alpha}, gamma={self.gamma})")

