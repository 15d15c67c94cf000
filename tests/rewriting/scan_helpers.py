"""Shared by the scan rewrite tests: float64 JAX references and the Scan ops of a function."""

import jax
import pytest

from thx.scan.masked import MaskedScan
from thx.scan.op import Scan


@pytest.fixture(autouse=True)
def x64():
    """Run the hand-written JAX references in float64, as thx does (use: import it)."""
    with jax.enable_x64(True):
        yield


def scans(f) -> list:
    """The Scan (and MaskedScan) ops of compiled function ``f``, in topological order."""
    return [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, (Scan, MaskedScan))]
