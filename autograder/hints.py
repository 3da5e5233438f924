"""What a student reads when a case fails for a reason that no exercise owns.

A hint is chosen when the student's output equals what a known mistake gives on
the same inputs, when the output has a telling shape or type, or when the error
message matches a pattern. The hints of one exercise's mistakes and its own
error patterns live with its cases (``autograder/cases/<module>.py``, see
``cases.Mistake``); this module holds the generic ones: a wrong kind of result,
a dtype slip, a sandbox refusal. Hints say what to change; they never quote a
hidden case's expected values.
"""
import re

HINTS = {
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
}

# (pattern in an error's type + message, hint name): the first match explains the error.
# A stub is a stub whatever its message says, so NotImplementedError comes before an
# exercise's own patterns (its module's ERROR_PATTERNS); the rest of these come after them.
STUB_PATTERN = (r"NotImplementedError", "not_implemented")
ERROR_PATTERNS = [
    (r"No module named '?ssd_course|attempted relative import", "self_contained"),
    (r"Operation not permitted", "sandbox_denied"),
]


def for_error(error: dict, patterns=()):
    """The hint name for an exception the student's code raised, or None.

    `patterns`: the exercise's own (pattern, mistake name) pairs, tried after the stub's.
    """
    text = f"{error.get('type', '')}: {error.get('message', '')}"
    for pattern, name in (STUB_PATTERN, *patterns, *ERROR_PATTERNS):
        if re.search(pattern, text):
            return name
    return None
