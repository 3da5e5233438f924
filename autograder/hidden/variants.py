"""What the exercises' other implementations share, for the grader's parent process only.

Each ``autograder/hidden/<module>.py`` ends with its table, a ``Variants``:

    mistakes      the known wrong versions, so that a failing output that equals one of
                  them is explained with the hint of the same name (declared, with that
                  hint, in ``autograder/cases/<module>.py``)
    alternatives  accepted answers that differ from solutions/ (all valid NMS tie orders,
                  a focal loss whose weight is not detached) and the torchvision-based
                  references, named by the cases' ``reference`` and ``grad_options``

Every function takes the arguments of the exercise it stands for. This code is
solution code in all but name: it never ships to students and never enters the
sandbox.
"""
import importlib
from dataclasses import dataclass

import torch

from autograder import cases
from ssd_course import registry


class OneOf(list):
    """Several outputs, each of them a correct answer."""


def iou(a, b, plus=0.0, clamp=True, minus_inter=True, eps=None, guard=True):
    """IoU of xyxy boxes as the solution computes it, or as a known jaccard mistake does
    (``plus``: the +1 pixel convention; no ``clamp``; a union that does not ``minus_inter``;
    ``eps`` added to the union; no ``guard`` of 0/0, giving NaN). Half-precision and integer
    boxes are computed in float32, as the solution does. NMS's variants use it too, so that
    their suppression decisions are the solution's."""
    if a.dtype not in (torch.float32, torch.float64):
        a, b = a.float(), b.float()
    tl = torch.max(a[:, None, :2], b[None, :, :2])
    br = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = br - tl + plus
    inter = (wh.clamp(min=0) if clamp else wh).prod(dim=2)
    area_a = (a[:, 2] - a[:, 0] + plus) * (a[:, 3] - a[:, 1] + plus)
    area_b = (b[:, 2] - b[:, 0] + plus) * (b[:, 3] - b[:, 1] + plus)
    union = area_a[:, None] + area_b[None, :] - (inter if minus_inter else 0)
    if eps is not None:
        return inter / (union + eps)
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny) if guard else inter / union


@dataclass
class Variants:
    """One exercise's other implementations, checked against its public module when built.

    Args:
        exercise: module name.
        hidden_cases: the hidden module's CASES (the public ones are read from the public module).
        mistakes: {name: function} for mistakes recognised by equality with their output.
        alternatives: {name: function} for accepted answers and references.

    Raises:
        ValueError: a mistake not declared in the public module, a declared mistake that
            nothing could recognise, an alternative named like a mistake, or a case whose
            reference or grad_options is neither ``solutions`` nor an alternative.
    """
    exercise: str
    hidden_cases: list
    mistakes: dict
    alternatives: dict

    def __post_init__(self):
        module = cases.exercise_module(self.exercise)
        where = f"autograder/hidden/{self.exercise}.py"
        declared = module.MISTAKES
        undeclared = sorted(set(self.mistakes) - set(declared))
        if undeclared:
            raise ValueError(f"{where} implements mistakes {undeclared} that "
                             f"{module.__name__}.MISTAKES does not declare (no hint)")
        by_pattern = {name for _, name in module.ERROR_PATTERNS}
        unrecognised = sorted(n for n, m in declared.items()
                              if m.detect is None and n not in by_pattern and n not in self.mistakes)
        if unrecognised:
            raise ValueError(f"{module.__name__} declares mistakes {unrecognised} that neither a "
                             f"detector, an error pattern nor code in {where} recognises")
        clash = sorted(set(self.alternatives) & set(declared))
        if clash:
            raise ValueError(f"{where}: alternatives {clash} are named like mistakes")
        for case in [*module.CASES, *self.hidden_cases]:
            for name in (case.reference, *case.grad_options):
                if name != "solutions" and name not in self.alternatives:
                    raise ValueError(f"case {case.id}: reference {name!r} is neither 'solutions' "
                                     f"nor an alternative in {where}")

    def get(self, name: str):
        """The function called `name` (an alternative or a mistake); KeyError when there is none."""
        return self.alternatives[name] if name in self.alternatives else self.mistakes[name]


def of(exercise: str) -> Variants:
    """The table of `exercise` (module or function name)."""
    return importlib.import_module(f"autograder.hidden.{registry.get(exercise).module}").VARIANTS


def get(exercise: str, name: str):
    """The function called `name` for `exercise`; KeyError when there is none."""
    return of(exercise).get(name)
