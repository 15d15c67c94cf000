"""Shared by the scan gradient tests: the JAX references run in x64 mode."""

import jax
import numpy as np
import pytest

from tests.oracle import assert_close


@pytest.fixture(autouse=True)
def x64():
    """Run the hand-written JAX references in float64, as thx does."""
    with jax.enable_x64(True):
        yield


def close(a, b, tol=1e-9):
    """The scan tests' tolerance on the one checker, ``tests.oracle.assert_close``."""
    assert_close(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)
