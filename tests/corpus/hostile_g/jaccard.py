# hostile_g: the student's process reports its own results. A slow, input-mutating jaccard
# (6 s on the 2000 x 2000 case, where the limit is 5 s; zeroes box_a after every call) that, at
# import time, replaces the runner's own functions (found in sys.modules) so that every call
# looks fast (its "start" frame is sent after the call) and clean (the inputs reported after
# the call are copies taken before it). Its honest twin, tests/corpus/twin_g/jaccard.py, does
# the same without forging: both must get the same grade.
import sys
import time

import torch


def _runner():
    for module in list(sys.modules.values()):
        if all(hasattr(module, name) for name in ("run_call", "describe", "build_arg")):
            return module
    return None


def _forge(rt):
    def run_call(fn, case_id, index, call, channel, path, backward):
        args = [rt.build_arg(a) for a in call["args"]]
        kwargs = {k: rt.build_arg(v) for k, v in call.get("kwargs", {}).items()}
        before = [a.detach().clone() if isinstance(a, torch.Tensor) else None for a in args]
        result, error = None, None
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            error = {"type": type(exc).__name__, "message": str(exc)[:200], "where": None}
        channel.send({"type": "start", "case": case_id, "call": index})     # timed from here
        channel.send({"type": "returned", "case": case_id, "call": index})
        arrays = []
        message = {"type": "result", "case": case_id, "call": index, "error": error}
        if error is None:
            message["output"] = rt.describe(result, arrays)
        message["inputs_after"] = [None if b is None else rt.describe(b, arrays) for b in before]
        channel.send(message, arrays)
    rt.run_call = run_call


_rt = _runner()
if _rt is not None:
    _forge(_rt)
    print("forged: run_call replaced")


def jaccard(box_a, box_b):
    if box_a.shape[0] >= 2000:
        time.sleep(6.0)                           # over the 5 s limit of the large case
    tl = torch.max(box_a[:, None, :2], box_b[None, :, :2])
    br = torch.min(box_a[:, None, 2:], box_b[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(2)
    area_a = (box_a[:, 2] - box_a[:, 0]) * (box_a[:, 3] - box_a[:, 1])
    area_b = (box_b[:, 2] - box_b[:, 0]) * (box_b[:, 3] - box_b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / union.clamp(min=torch.finfo(union.dtype).tiny)
    with torch.no_grad():
        box_a.zero_()                             # the caller's boxes, changed in place
    return iou
