"""The theano alias resolves renamed modules whatever is imported first (each case in a fresh process)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("from theano import gof", "gof.__name__", "thx.graph"),
    ("import theano", "theano.gof.__name__", "thx.graph"),
    ("import theano", "theano.gof.graph.__name__", "thx.graph.basic"),
    ("from theano.gof import graph", "graph.__name__", "thx.graph.basic"),
    ("from theano.tensor import raw_random", "raw_random.__name__", "thx.tensor.shared_randomstreams"),
    ("import theano.tensor as T", "T.raw_random.__name__", "thx.tensor.shared_randomstreams"),
    ("import theano", "theano.compile.sharedvalue.__name__", "thx.compile.sharedvalue"),
    ("from theano.tensor import xlogx", "xlogx.xlogx.__module__", "thx.tensor.xlogx"),
    ("import theano.scalar as scal", "scal.float64.dtype", "float64"),
    ("from theano.gradient import subgraph_grad", "subgraph_grad.__name__", "subgraph_grad"),
    ("import theano", "theano.compile.mode.get_default_mode.__name__", "get_default_mode"),
    ("from theano.compile.ops import as_op", "as_op.__module__", "thx.compile.ops"),
    ("import theano", "theano.gof.Op is theano.Op", "True"),
]


@pytest.mark.parametrize("stmt,expr,expected", CASES)
def test_alias_resolves_in_a_fresh_process(stmt, expr, expected):
    code = f"import thx; thx.install_theano_alias(); {stmt}; print({expr})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
