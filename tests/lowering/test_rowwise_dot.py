"""RowwiseDot: a weight gradient pushed out of a loop, computed without a GEMM's workspace.

The scan push-out rewrite turns a vector state's per-step outer products
``sum_t outer(a_t, b_t)`` into one product contracting the steps.  As one GEMM,
that product packs both operands into a workspace beside the result (Eigen's:
0.5 MB for an LSTM's 128 x 512 weight gradient over 100 steps, 3.3 MB over
1,000; none of it in XLA's memory analysis), which the rank-1 updates it
replaces did not need.  ``RowwiseDot``'s lowering (``rowwise_plan``) computes
a short product row by row with matrix-vector products, a long one in blocks
of steps, and a small one as one GEMM.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from bench.rnn_matrix import Case, data, jax_functions, thx_functions
from tests.oracle import assert_close
from thx.lowering.math import _BLOCK_BYTES, _GEMM_WORKSPACE_BYTES, _ROWS_OPERAND_BYTES, rowwise_plan
from thx.scan.op import Scan
from thx.tensor.math import Dot, RowwiseDot, rowwise_dot


@pytest.mark.parametrize("m, n, k, how", [
    (8, 16, 30, "gemm"),      # packs 5.6 KB
    (120, 400, 100, "rows"),  # y: 320 KB
    (512, 128, 100, "rows"),  # weights on the left: 512 rows
    (120, 400, 1000, "blocks"), (128, 512, 1000, "blocks"), (64, 512, 301, "blocks"),
    (256, 1024, 100, "gemm"),  # y 800 KB; blocks would hold 2 MB + 256 KB beside a 1 MB workspace
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_value_is_the_product_whatever_the_plan(m, n, k, how, dtype):
    rng = np.random.RandomState(k)
    size = np.dtype(dtype).itemsize
    A, B = T.matrix("A", dtype=dtype), T.matrix("B", dtype=dtype)
    f = theano.function([A, B], rowwise_dot(A.T, B))
    a, b = rng.randn(k, m).astype(dtype), rng.randn(k, n).astype(dtype)
    got_how, c = rowwise_plan(m, n, k, size)
    if dtype == "float64":
        assert got_how == how
    if got_how == "gemm":
        assert (m + n) * k * size <= _GEMM_WORKSPACE_BYTES or k * n * size > _ROWS_OPERAND_BYTES
    elif got_how == "rows":
        assert k * n * size <= _ROWS_OPERAND_BYTES and c == k
    else:
        assert c < k and (m + n) * c * size <= _BLOCK_BYTES
    got = f(a, b)
    assert got.dtype == dtype and got.shape == (m, n)
    tol = 1e-12 if dtype == "float64" else 2e-4
    assert_close(got, a.T.astype("float64") @ b.astype("float64"), rtol=tol, atol=tol * np.sqrt(k))


def _step_contracting_gemms(fn, args) -> list[str]:
    """The products in ``fn``'s compiled program that contract two matrices' leading axes (the
    steps) into a matrix: the GEMMs whose workspace a row-by-row product avoids."""
    with jax.enable_x64(True):
        hlo = fn.lower(*args).compile().as_text()
    found = []
    for line in hlo.splitlines():
        m = re.search(r"= f\d+\[(\d+),(\d+)\]\S* dot\(.*lhs_contracting_dims=\{0\}, rhs_contracting_dims=\{0\}",
                      line)
        if m and int(m.group(1)) > 1 and int(m.group(2)) > 1:
            found.append(line.strip())
    return found


def test_the_rows_plan_is_matrix_vector_products():
    rng = np.random.RandomState(1)
    A, B = T.dmatrix("A"), T.dmatrix("B")
    a, b = rng.randn(100, 120), rng.randn(100, 400)
    rows = theano.function([A, B], rowwise_dot(A.T, B))
    gemm = theano.function([A, B], T.dot(A.T, B))
    assert_close(rows(a, b), gemm(a, b), rtol=1e-12)
    assert _step_contracting_gemms(rows.jax_fn, (a, b)) == []
    assert len(_step_contracting_gemms(gemm.jax_fn, (a, b))) == 1  # the check can fail


def test_gradient_and_type_are_dots():
    rng = np.random.RandomState(0)
    A, B = T.dmatrix("A"), T.dmatrix("B")
    out = rowwise_dot(A.T, B)
    assert isinstance(out.owner.op, RowwiseDot) and isinstance(out.owner.op, Dot)
    assert str(out.owner.op) == "RowwiseDot" and out.broadcastable == (False, False)
    cost = T.sum(T.sin(out))
    f = theano.function([A, B], T.grad(cost, [A, B]))
    a, b = rng.randn(300, 5), rng.randn(300, 6)
    with jax.enable_x64(True):
        want = jax.grad(lambda a, b: jnp.sum(jnp.sin(a.T @ b)), argnums=(0, 1))(a, b)
    for g, w in zip(f(a, b), want):
        assert_close(g, np.asarray(w), rtol=1e-10)
    with pytest.raises(TypeError, match="two matrices"):
        rowwise_dot(T.dvector("v"), B)


def _rowwise_dots(f):
    return sum(isinstance(n.op, RowwiseDot) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
def test_pushed_out_weight_gradients_are_rowwise_products(cell):
    # before: the backward loop carries one accumulator per weight matrix, updated by an outer
    # product every step; after: no accumulator in the loop, one RowwiseDot per weight after it
    case = Case(cell, False, True, steps=300, batch=1, n_in=6, hidden=8)
    arrays = data(case, np.random.RandomState(2))
    _, grad, args = thx_functions(case, arrays)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jgrad(*jargs)
    for g, w in zip(grad(*args), jax.tree_util.tree_leaves(want)):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    n_weights = sum(w.ndim == 2 for w in arrays[2])
    assert _rowwise_dots(grad) == n_weights
    [back] = [n.op for n in grad.maker.fgraph.apply_nodes if isinstance(n.op, Scan) and "grad" in n.op.name]
    assert back.n_rec == 1 + (cell == "lstm")  # only the adjoint state(s): h (and c)


def test_a_batched_state_keeps_its_per_step_gemms():
    case = Case("tanh", True, True, steps=30, batch=4, n_in=6, hidden=8)
    _, grad, _ = thx_functions(case, data(case, np.random.RandomState(3)))
    assert _rowwise_dots(grad) == 0


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
@pytest.mark.parametrize("right", [False, True])
def test_a_short_vector_gradient_packs_nothing_and_holds_less_than_jax_grad(cell, right):
    # the weight products after the loop are matrix-vector products (no GEMM contracts the
    # steps), and XLA's buffers stay below jax.grad's
    from tests.rewriting.test_scan_memory import xla_bytes
    case = Case(cell, False, right, steps=100, batch=1, n_in=32, hidden=64)  # every plan "rows"
    arrays = data(case, np.random.RandomState(5))
    _, grad, args = thx_functions(case, arrays)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jax.tree_util.tree_leaves(jgrad(*jargs))
    for g, w in zip(grad(*args), want):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    assert _rowwise_dots(grad) == sum(w.ndim == 2 for w in arrays[2])
    assert _step_contracting_gemms(grad.jax_fn, args) == []
    assert xla_bytes(grad.jax_fn, args) <= xla_bytes(jgrad, jargs)


def test_a_long_vector_lstm_gradient_holds_less_than_jax_grad():
    # the delta rows of the backward loop are written over the four gate rows it read
    # (thx/lowering/scan_reuse.py) and the products walk the steps in blocks
    from tests.rewriting.test_scan_memory import xla_bytes
    case = Case("lstm", False, True, steps=400, batch=1, n_in=16, hidden=32)
    arrays = data(case, np.random.RandomState(4))
    _, grad, args = thx_functions(case, arrays)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
    assert xla_bytes(grad.jax_fn, args) <= 0.9 * xla_bytes(jgrad, jargs)
