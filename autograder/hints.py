"""What a student reads when a case fails: one hint per recognised mistake.

A hint is chosen when the student's output equals what a known mistake gives
on the same inputs (the mistakes' code lives with the grader only), when the
output has a telling shape or type, or when the error message matches one of
``ERROR_PATTERNS``. Hints say what to change; they never quote a hidden case's
expected values.
"""
import re

HINTS = {
    # --- any exercise ---
    "not_implemented": "Not written yet: write the function between the BEGIN/END EXERCISE "
                       "markers of your file.",
    "sandbox_denied": "The grader's sandbox refused a system call: graded code may not start "
                      "processes, write files, open sockets or signal other processes. Compute "
                      "the result from the inputs alone.",
    "none_returned": "The function returned None: did you forget `return`?",
    "numpy_returned": "Returned a numpy array: return a torch.Tensor (torch.from_numpy(...) or "
                      "torch.as_tensor(...)) on the inputs' device.",
    "list_returned": "Returned a Python list: return a tensor.",
    "subclass_returned": "Return a plain torch.Tensor, not a subclass of it.",
    "float64_result": "The result is float64 where float32 was expected: torch.tensor(...) and numpy "
                      "default to float64; pass dtype=... or convert with .to(x.dtype).",
    "dtype_changed": "Keep the input's dtype: build new tensors with dtype=x.dtype (or .to(x)) "
                     "instead of a fixed dtype.",
    "int32_indices": "Indices must be int64 (torch.long), as Tensor.max and argsort give them.",
    "grad_cut": "No gradient reached the input: the computation was cut off from it (numpy, "
                ".detach(), .data or torch.tensor(...) on the input). Use torch operations on the "
                "input itself.",
    "modified_input": "Your function changed an input in place (e.g. clamp_(), +=, sort_() or item "
                      "assignment on an argument): work on a copy or use out-of-place operations.",
    "self_contained": "Each exercise file must stand alone: it cannot import ssd_course or your "
                      "other exercise files. Copy the helper you need into this file.",
    "nan_result": "The result has NaN where a number was expected: look for a 0/0 or a log(0).",
    "too_slow": "Too slow for the size: a Python loop over boxes or anchors? Broadcast "
                "([N, 1, ...] against [1, M, ...]) to do all pairs in one operation.",
    # --- flatten_conv ---
    "column_major": "Rows come out column by column: permute to [B, H, W, k*F] "
                    "(permute(0, 2, 3, 1)) so that cells go row by row, like the anchors.",
    "anchor_minor": "The anchors' features are interleaved: channels j*F ... (j+1)*F - 1 belong "
                    "to anchor j, so split the k*F channels as (k, F), not (F, k).",
    "no_permute": "The channels were reshaped without moving them last: permute(0, 2, 3, 1) "
                  "first, so that each row holds the features of one cell's anchor.",
    "view_not_contiguous": "view() failed on a permuted (non-contiguous) tensor: use reshape(), "
                           "or .contiguous().view().",
    # --- make_anchors ---
    "blog_transposed": "Anchors are in the blog's transposed order (x taken from the row): "
                       "cells go row by row, cx = (c + .5)/g comes from the column c and "
                       "cy = (r + .5)/g from the row r.",
    "loops_swapped": "Zooms and ratios are nested the wrong way round: inside a cell the order "
                     "is `for z in zooms: for (rw, rh) in ratios`.",
    "corner_centres": "Anchor centres sit on the cells' corners: the centre of column c is "
                      "(c + 0.5)/g.",
    "wh_swapped": "Width and height are swapped: a ratio (rw, rh) gives width z*rw/g and "
                  "height z*rh/g.",
    "xyxy_anchors": "Anchors came back as corners (xyxy); the contract is cxcywh: "
                    "(centre x, centre y, width, height).",
    "grid_sizes_g": "grid_sizes holds the cell size 1/g (a fraction of the image), not g.",
    "grid_sizes_flat": "grid_sizes must be [A, 1] (one column): add the dimension with "
                       "unsqueeze(1) or [:, None].",
    # --- jaccard ---
    "transposed": "IoU returned as [M, N]: entry [i, j] must be IoU(box_a[i], box_b[j]); did you "
                  "swap the arguments or the broadcast dimensions?",
    "plus_one": "This is the +1 pixel convention (width = x2 - x1 + 1): boxes here are continuous "
                "coordinates, width = x2 - x1, and boxes that only touch have IoU 0.",
    "xywh": "The boxes were read as (x, y, w, h): they are xyxy, (x_min, y_min, x_max, y_max); "
            "the width is x_max - x_min.",
    "no_clamp": "Disjoint boxes gave a non-zero IoU: clamp the intersection's width and height at "
                "0 before multiplying (two negative sides make a positive area).",
    "union_without_intersection": "The union counts the intersection twice: "
                                  "union = area_a + area_b - intersection.",
    "nan_for_empty": "NaN where two empty boxes meet: their union is 0 and 0/0 is NaN. Guard the "
                     "division (e.g. clamp the union at a tiny positive number): the IoU is 0 there.",
    # --- map_to_ground_truth ---
    "forced_missing": "No forced matches: after the per-anchor max, every ground truth g claims its "
                      "best anchor a_g (overlaps.max(1)): gt_overlap[a_g] = 1.99, gt_idx[a_g] = g.",
    "first_wins": "Two ground truths share a best anchor and the first one won: the later one must "
                  "win, as in the blog's loop. Indexed assignment with repeated indices keeps an "
                  "unspecified value; make the order explicit (a loop over g, or scatter_reduce "
                  "with 'amax').",
    "forced_idx_missing": "Forced anchors got 1.99 but kept their old gt_idx: set gt_idx[a_g] = g "
                          "as well.",
    "last_index_ties": "Ties between ground truths must go to the first index, as Tensor.max gives; "
                       "yours takes the last.",
    "max_over_anchors": "overlaps is [G, A]: each anchor's best ground truth is a max over dim 0, "
                        "giving results of shape [A].",
    # --- focal_loss ---
    "background_kept": "The background column is in the loss: drop column 0 of the logits and of "
                       "the one-hot targets (logits[:, 1:], t[:, 1:]).",
    "alpha_swapped": "alpha weighs the wrong class: objects (t = 1) get alpha, the rest 1 - alpha.",
    "gamma_missing": "The focusing term is missing: multiply the weight by (1 - p_t) ** gamma.",
    "divided_by_c_minus_1": "Divide the sum by C, the number of classes including the background "
                            "(logits.shape[1]), not by C - 1.",
    "mean_reduction": "Sum over anchors and classes, then divide by C; not the mean.",
    "not_divided": "Divide the sum by C (logits.shape[1]).",
    "not_scalar": "Return a scalar: a 0-dimensional Tensor[] (.sum() with no dim), not shape [1].",
    "grad_background": "Column 0 (the background) received a gradient: the loss must not use "
                       "logits[:, 0].",
    "log_underflow": "The loss is inf or NaN for a confidently wrong logit: in float32 sigmoid(z) "
                     "rounds to 0 below z = -104 or so, and log(0) = -inf. Write -log(sigmoid(z)) as "
                     "max(-z, 0) - log(sigmoid(|z|)), or use F.binary_cross_entropy_with_logits.",
    "cuda_trap": "Do not call .cuda(): build the one-hot targets on the logits' device "
                 "(F.one_hot(targets, C).to(logits)).",
    # --- nms ---
    "suppress_at_threshold": "A box whose IoU equals `overlap` was suppressed: suppress only when "
                             "IoU > overlap (strictly); equal survives.",
    "keep_count": "Returned (keep, count) like the blog's NMS: return only the kept indices, "
                  "a Tensor[K] of int64.",
    "top_k_ignored": "Only the top_k highest-scoring boxes are candidates: cut the score-sorted "
                     "order to top_k before suppressing.",
    "sorted_positions": "The indices point into the score-sorted order: map them back to the "
                        "original boxes (order[keep]).",
    "ascending": "The right boxes, in the wrong order: return them highest score first.",
    "bool_mask": "Returned a mask: return the int64 indices of the kept boxes, highest score first.",
}

# (pattern in an error's type + message, hint): the first match explains the error.
ERROR_PATTERNS = [
    (r"NotImplementedError", "not_implemented"),
    (r"view size is not compatible|use \.reshape\(\.\.\.\) instead", "view_not_contiguous"),
    (r"CUDA|cuda|NVIDIA driver", "cuda_trap"),
    (r"No module named '?ssd_course|attempted relative import", "self_contained"),
    (r"Operation not permitted", "sandbox_denied"),
]


def for_error(error: dict):
    """The hint name for an exception the student's code raised, or None."""
    text = f"{error.get('type', '')}: {error.get('message', '')}"
    for pattern, name in ERROR_PATTERNS:
        if re.search(pattern, text):
            return name
    return None
