"""The course's autograder: one harness for student self-checks and for grading.

    ssd-course check [EXERCISE ...]      public cases of your copy (also check("jaccard"))
    ssd-course grade SUBMISSION          public + hidden cases, report and results.json
    pytest autograder/ --submission DIR  the same grading, one pytest test per case

Modules, in the order a grading runs through them:

    cases/       the cases: inputs, points, what to compare (hidden/ holds the hidden ones)
    box.py       the box the student's code runs in and what each isolation mode guarantees
    sandbox.py   drives the box from the trusted side: one call at a time, timed here
    runner.py    inside the box: the zygote, which drops privileges and forks one child per exercise
    child.py     inside the box: the exercise child, confined by seccomp.py, calls the function
    values.py    case inputs and returned values as plain data (both sides)
    wire.py      bounded frames and text escaping (both sides); messages.py the trusted schema
    reference.py expected values, computed in the grader's own process
    verdict.py   every comparison and the diagnosis of known mistakes (hints.py)
    report.py    the check table, the grader's report, Gradescope's results.json
    api.py       check() and grade(); cli.py the two commands; bench.py grade_line()

nbgrader_cell.py and nbgrader_preprocessors.py connect the same grading to an
nbgrader course (``ssd-course nbgrader``).
"""
