"""The course's autograder: one harness for student self-checks and for grading.

    ssd-course check [EXERCISE ...]      public cases of your copy (also check("jaccard"))
    ssd-course grade SUBMISSION          public + hidden cases, report and results.json
    pytest autograder/ --submission DIR  the same grading, one pytest test per case

Modules, in the order a grading runs through them:

    cases/       per exercise: the public cases, the mistakes they diagnose (hints), properties
    hidden/      per exercise: the hidden cases and the mistakes' code (instructor's repository only)
    box.py       the box the student's code runs in and what each isolation mode guarantees
    sandbox.py   drives the box from the trusted side; calls.py: one call at a time, timed here
    runner.py    inside the box: the zygote, which drops privileges and forks one child per exercise
    child.py     inside the box: the exercise child, confined by seccomp.py, calls the function
    values.py    case inputs and returned values as plain data (both sides)
    wire.py      bounded frames and text escaping (both sides); messages.py the trusted schema
    reference.py expected values, computed in the grader's own process
    verdict.py   every comparison and the diagnosis (generic hints in hints.py); slips.py: a
                 wrong dtype, device or size-1 dimension taken out so the values still compare
    scoring.py   verdicts into points: edge cases gated, slips said once, the diagnosis settled
    report.py    the check table, the grader's report, Gradescope's results.json; feedback.py a
                 failing case's inputs, pictures.py its picture in a notebook (anchors, nms)
    api.py       check() and grade(); cli.py the two commands; bench.py its benchmark lines

Grading a class: grade_all.py (the command), classroom.py (its engine),
layout.py (what a hand-in holds), sheet.py (grades.csv), similarity.py,
gradescope.py (the Gradescope zip). nbgrader_cell.py and
nbgrader_preprocessors.py connect the same grading to an nbgrader course
(``ssd-course nbgrader``).
"""


def check(*exercises, **kwargs):
    """Run the public cases for `exercises` (all when none given): ``check("jaccard")`` in a notebook.

    Prints a PASS/FAIL table with hints and returns True when every case passed.
    See `autograder.api.check` for the options and ``ssd-course check --help``.
    """
    from autograder.api import check as _check  # imported when called: `import autograder` stays cheap

    return _check(*exercises, **kwargs)
