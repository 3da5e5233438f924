"""One pytest test per grading case (see conftest.py): `pytest autograder/ --submission DIR`."""
import pytest


def test_case(graded, case_id):
    outcome = graded.outcome(case_id)
    if not outcome.passed:
        pytest.fail(outcome.message(), pytrace=False)
