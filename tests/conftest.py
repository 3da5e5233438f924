"""Shared fixtures: a small synthetic dataset made once per test session."""
import warnings

import pytest

from ssd_course.data import SyntheticSpec, make_synthetic

# fastai's import warns on stderr about torch.jit.script; not ours to fix.
warnings.filterwarnings("ignore", category=FutureWarning)

SMALL = SyntheticSpec(n_train=48, n_valid=16, seed=7)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """A 48 + 16 image synthetic dataset (PASCAL_2007 layout), shared by the session's tests."""
    return make_synthetic(tmp_path_factory.mktemp("synthetic"), SMALL, workers=1, verbose=False)
