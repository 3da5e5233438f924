"""Grader-only material, never shipped to students (``ssd-course release`` leaves it out).

    <module>.py    the hidden cases of each exercise (run by ``ssd-course grade``)
    variants.py    code of the known mistakes (to recognise them), the accepted
                   alternatives and the torchvision references

The student copy carries, for the public cases only, the outputs these produce
(``autograder/cases/public_expected.*``, written by the release), never the code.
"""
