"""Shared fixtures: a small synthetic dataset made once per test session."""
import warnings

import pytest

from ssd_course import impl
from ssd_course.synthetic import SyntheticSpec, make_synthetic

# fastai's import warns on stderr about torch.jit.script; not ours to fix.
warnings.filterwarnings("ignore", category=FutureWarning)

SMALL = SyntheticSpec(n_train=48, n_valid=16, seed=7)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """A 48 + 16 image synthetic dataset (PASCAL_2007 layout), shared by the session's tests."""
    return make_synthetic(tmp_path_factory.mktemp("synthetic"), SMALL, workers=1, verbose=False)


@pytest.fixture(scope="module")
def solutions_in_use():
    """The pipeline runs the reference solutions for one test module; the choice is restored after.

    Modules that test the pipeline (not the exercises) use it with
    ``pytestmark = pytest.mark.usefixtures("solutions_in_use")``.
    """
    before = impl.current()
    impl.use("solutions")
    yield
    impl.use(before)


@pytest.fixture(scope="module")
def anchors():
    """(anchors Tensor[189, 4] cxcywh in [0, 1], grid_sizes Tensor[189, 1]) of the multi-grid head."""
    from ssd_course.model import HEADS
    return HEADS["multi"].make()


@pytest.fixture(scope="session")
def warm_box():
    """One warm box (autograder/warm.py) for tests that grade many submissions and are not about
    how a box starts; None where a warm box cannot be had (not root, or no bubblewrap): those
    tests then grade in a fresh box each time. tests/test_warm_box.py shows both grade alike."""
    import shutil

    from autograder import box, sandbox, warm

    if not warm.usable() or shutil.which("bwrap") is None:
        yield None
        return
    started = warm.WarmBox(box.choose_isolation("bubblewrap"), sandbox.Limits()).start()
    yield started
    started.close()
