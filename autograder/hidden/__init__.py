"""Grader-only material, never shipped to students (``ssd-course release`` leaves it out).

    <module>.py    one exercise: its hidden cases (run by ``ssd-course grade``) and, in its
                   ``VARIANTS`` table, the code of its known mistakes (to recognise them),
                   its accepted alternatives and its torchvision reference
    variants.py    what those tables share: ``Variants`` (checked against the exercise's
                   public module when built), ``OneOf``, the IoU the variants compute

The student copy carries, for the public cases only, the outputs these produce
(``autograder/cases/public_expected.*``, written by the release), never the code.
"""
