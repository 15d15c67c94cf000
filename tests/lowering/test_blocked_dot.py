"""BlockedDot: a weight gradient pushed out of a loop is summed over blocks of steps.

The scan push-out rewrite turns a vector state's per-step outer products
``sum_t outer(a_t, b_t)`` into one product contracting the steps.  As one GEMM,
that product packed both operands whole into a workspace beside the result
(Eigen's; 6 MB for an LSTM's two weight gradients over 1,000 steps, none of
it in XLA's memory analysis); ``BlockedDot`` walks the steps in blocks whose
packed operands stay within ``_BLOCK_BYTES``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from bench.rnn_matrix import Case, data, jax_functions, thx_functions
from tests.oracle import assert_close
from thx.lowering.math import _BLOCK_BYTES, block_rows
from thx.scan.op import Scan
from thx.tensor.math import BlockedDot, Dot, blocked_dot


@pytest.mark.parametrize("m, n, k", [(120, 400, 7), (120, 400, 200), (120, 400, 1000), (128, 512, 1000),
                                     (64, 512, 301)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_value_is_the_product_for_any_number_of_blocks(m, n, k, dtype):
    # 7 and 200 steps: one product (blocks would hold more than the GEMM packs); 1000 steps of
    # float64: 15 blocks of 63 and one of 55, or 20 of 50; 301 steps: 5 of 51 and one of 46
    rng = np.random.RandomState(k)
    size = np.dtype(dtype).itemsize
    A, B = T.matrix("A", dtype=dtype), T.matrix("B", dtype=dtype)
    f = theano.function([A, B], blocked_dot(A.T, B))
    a, b = rng.randn(k, m).astype(dtype), rng.randn(k, n).astype(dtype)
    c = block_rows(m, n, k, size)
    assert c == k or (m + n) * c * size <= _BLOCK_BYTES
    assert (c < k) == (k > 200 and (dtype == "float64" or k == 1000))
    got = f(a, b)
    assert got.dtype == dtype and got.shape == (m, n)
    tol = 1e-12 if dtype == "float64" else 2e-4
    assert_close(got, a.T.astype("float64") @ b.astype("float64"), rtol=tol, atol=tol * np.sqrt(k))


def test_gradient_and_type_are_dots():
    rng = np.random.RandomState(0)
    A, B = T.dmatrix("A"), T.dmatrix("B")
    out = blocked_dot(A.T, B)
    assert isinstance(out.owner.op, BlockedDot) and isinstance(out.owner.op, Dot)
    assert str(out.owner.op) == "BlockedDot" and out.broadcastable == (False, False)
    cost = T.sum(T.sin(out))
    f = theano.function([A, B], T.grad(cost, [A, B]))
    a, b = rng.randn(300, 5), rng.randn(300, 6)
    with jax.enable_x64(True):
        want = jax.grad(lambda a, b: jnp.sum(jnp.sin(a.T @ b)), argnums=(0, 1))(a, b)
    for g, w in zip(f(a, b), want):
        assert_close(g, np.asarray(w), rtol=1e-10)
    with pytest.raises(TypeError, match="two matrices"):
        blocked_dot(T.dvector("v"), B)


def _outer_blocked_dots(f):
    return sum(isinstance(n.op, BlockedDot) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("cell", ["tanh", "lstm", "gru"])
def test_pushed_out_weight_gradients_are_blocked_products(cell):
    # before: the backward loop carries one accumulator per weight matrix, updated by an outer
    # product every step; after: no accumulator in the loop, one BlockedDot per weight after it
    case = Case(cell, False, True, steps=300, batch=1, n_in=6, hidden=8)
    arrays = data(case, np.random.RandomState(2))
    _, grad, args = thx_functions(case, arrays)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jgrad(*jargs)
    for g, w in zip(grad(*args), jax.tree_util.tree_leaves(want)):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    n_weights = sum(w.ndim == 2 for w in arrays[2])
    assert _outer_blocked_dots(grad) == n_weights
    [back] = [n.op for n in grad.maker.fgraph.apply_nodes if isinstance(n.op, Scan) and "grad" in n.op.name]
    assert back.n_rec == 1 + (cell == "lstm")  # only the adjoint state(s): h (and c)


def test_a_batched_state_keeps_its_per_step_gemms():
    case = Case("tanh", True, True, steps=30, batch=4, n_in=6, hidden=8)
    _, grad, _ = thx_functions(case, data(case, np.random.RandomState(3)))
    assert _outer_blocked_dots(grad) == 0


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
