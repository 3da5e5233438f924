"""`pytest autograder/ --submission DIR`: the grading as pytest tests, one per case.

The grading itself runs once per session, exactly as ``ssd-course grade`` does
(sandboxed children, verdicts in this process); each test then asserts its
case's verdict and shows the same message and hint. Hidden cases are included
where this copy has them (the instructor's repository), unless --public-only.
"""
import pytest

from autograder import api, cases


def pytest_addoption(parser):
    group = parser.getgroup("ssd-course autograder")
    group.addoption("--submission", default=None, metavar="DIR",
                    help="course copy to grade (default: the current folder's copy)")
    group.addoption("--exercise", action="append", default=None, metavar="NAME",
                    help="grade only this exercise (repeatable)")
    group.addoption("--public-only", action="store_true", help="public cases only, as `check`")
    group.addoption("--isolation", default="auto", choices=("auto", "bubblewrap", "process"))


def _hidden(config) -> bool:
    return cases.hidden_available() and not config.getoption("--public-only")


def pytest_generate_tests(metafunc):
    if "case_id" in metafunc.fixturenames:
        selected = cases.collect(metafunc.config.getoption("--exercise"), hidden=_hidden(metafunc.config))
        metafunc.parametrize("case_id", [c.id for c in selected],
                             ids=[c.title + (" [hidden]" if c.hidden else "") for c in selected])


@pytest.fixture(scope="session")
def graded(pytestconfig):
    """The GradeResult of the whole submission (graded once per session)."""
    result = api.grade(pytestconfig.getoption("--submission"), pytestconfig.getoption("--exercise"),
                       hidden=_hidden(pytestconfig), isolation=pytestconfig.getoption("--isolation"))
    pytestconfig._ssd_course_result = result  # for the summary line
    return result


def pytest_terminal_summary(terminalreporter, config):
    result = getattr(config, "_ssd_course_result", None)
    if result is not None:
        # Said plainly, so that a student's public-only run does not read as their grade.
        cases_run = "public and hidden cases" if result.hidden else \
            "public cases only: not a grade, the hidden cases run at grading"
        terminalreporter.write_line(f"ssd-course: {result.score}/{result.max_score} points on "
                                    f"{cases_run} ({result.isolation.kind} isolation)")
