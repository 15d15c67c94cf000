"""Memory of scan gradients: XLA's buffers for thx's gradient of an RNN <= ``jax.grad``'s.

Covers the three pieces that remove the buffers thx held beyond JAX's: stacked
outputs written over a sequence (``thx/lowering/scan_reuse.py``), elementwise
work left in the loop when batching it would add an array (an array read
after the loop is not freed by the loop's no longer reading it), and a batched
state's weight products accumulated in the loop (``_per_step_gemm`` in
``thx/rewriting/scan_pushout.py``).
Each side's bytes are ``Compiled.memory_analysis()`` (temp + output) of the
compiled gradient; the values are checked against ``jax.grad`` too.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from bench.rnn_matrix import Case, data, jax_functions, thx_functions
from tests.oracle import assert_close

RNG = np.random.RandomState(5)


def xla_bytes(jitted, args) -> int:
    with jax.enable_x64(True):
        m = jitted.lower(*args).compile().memory_analysis()
    return m.temp_size_in_bytes + m.output_size_in_bytes


@pytest.mark.parametrize("cell, batched, right", [
    ("tanh", False, False), ("lstm", False, True), ("gru", False, False),
    ("gru", True, False), ("lstm", True, False)])
def test_rnn_gradient_holds_no_more_xla_memory_than_jax_grad(cell, batched, right):
    case = Case(cell, batched, right, steps=30, batch=6, n_in=12, hidden=24)
    arrays = data(case, np.random.RandomState(0))
    _, grad, args = thx_functions(case, arrays)
    got = grad(*args)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jgrad(*jargs)
    for g, w in zip(got, want):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    mine, theirs = xla_bytes(grad.jax_fn, args), xla_bytes(jgrad, jargs)
    assert mine <= theirs, f"{case.name}: thx's gradient holds {mine} bytes, jax.grad's {theirs}"


@pytest.mark.parametrize("go_backwards", [False, True])
def test_per_step_output_written_over_a_sequence_of_the_same_rows(go_backwards):
    # y_t = h_t * x_t has x's rows: the loop writes y into the buffer of the computed sequence
    # 2 * X, read row by row first (a function's input is never taken: XLA would copy it)
    X, h0 = T.dmatrix("X"), T.dvector("h0")
    (H, Y), _ = theano.scan(lambda x, h: [T.tanh(h + x), T.tanh(h + x) * x], sequences=X * 2,
                            outputs_info=[h0, None], go_backwards=go_backwards)
    f = theano.function([X, h0], [H, Y, (X * 2).sum()])  # 2 * X also read after the loop: intact
    x, h = RNG.randn(6, 3), RNG.randn(3)
    xs = 2 * (x[::-1] if go_backwards else x)
    hs, ys, hh = [], [], h
    for row in xs:
        hh = np.tanh(hh + row)
        hs.append(hh)
        ys.append(hh * row)
    got = f(x, h)
    assert_close(got[0], np.array(hs), rtol=1e-12)
    assert_close(got[1], np.array(ys), rtol=1e-12)
    assert_close(got[2], 2 * x.sum(), rtol=1e-12)


def test_fresh_rows_do_not_depend_on_the_sequences_values():
    # the buffer of a stacked output with no sequence of its rows is filled from the
    # sequences times zero: an inf or NaN in them must not reach the result
    X = T.dmatrix("X")
    S, _ = theano.scan(lambda x, s: [s + T.switch(T.isinf(x), 0.0, x).sum(), T.isnan(x).sum()],
                       sequences=X, outputs_info=[T.constant(np.float64(0.0)), None])
    f = theano.function([X], S)
    x = np.array([[np.inf, 1.0], [np.nan, 2.0], [3.0, 4.0]])
    tot, nans = f(x)
    assert_close(np.asarray(nans), np.array([0, 1, 0]))
    assert np.isnan(tot[1]) and tot[0] == 1.0


def _weights_left_gradient(scale=1.0):
    W, U = T.dmatrix("W"), T.dmatrix("U")
    X, h0 = T.tensor3("X"), T.dmatrix("h0")
    H, _ = theano.scan(lambda x, h, W, U: T.tanh(T.dot(W, x) + T.dot(U, h)), sequences=X,
                       outputs_info=h0, non_sequences=[W, U])
    return theano.function([W, U, X, h0], T.grad(T.sum(H ** 2) * scale, [W, U]))


def _stacked_copies(f, vals, rows: str) -> list[str]:
    """Lines of the compiled HLO that copy or transpose a ``rows``-shaped array."""
    with jax.enable_x64(True):
        hlo = f.jax_fn.lower(*vals).compile().as_text()
    return [ln for ln in hlo.splitlines() if f"= {rows}" in ln and "bitcast(" not in ln
            and ("copy" in ln or "transpose" in ln) and "parameter(" not in ln]


@pytest.mark.parametrize("cell, right, two_taps", [
    ("tanh", False, False), ("tanh", True, True), ("lstm", True, False), ("gru", False, False)])
def test_batched_weight_gradients_accumulate_in_the_loop(cell, right, two_taps):
    # a batched state's weight gradient sum_t dot(x_t.T, delta_t) is a GEMM per step: it stays
    # in the backward loop (as jax.grad's does) instead of stacking delta and a shifted copy of
    # h for one product after the loop, which held 30-50% more memory than jax.grad
    case = Case(cell, True, right, steps=12, batch=5, n_in=6, hidden=8, two_taps=two_taps)
    arrays = data(case, np.random.RandomState(1))
    _, grad, args = thx_functions(case, arrays)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jgrad(*jargs)
    for g, w in zip(grad(*args), want):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    [back] = [n.op for n in grad.maker.fgraph.apply_nodes
              if type(n.op).__name__ == "Scan" and "grad" in n.op.name]
    n_weights = sum(w.ndim == 2 for w in arrays[2])
    dots = sum(type(n.op).__name__ == "Dot" for n in back.fgraph.apply_nodes)
    assert dots >= n_weights  # the weight products are in the loop
    assert _stacked_copies(grad, args, f"f64[{case.steps * case.batch},") == []  # no [T * B, .] rows
    assert xla_bytes(grad.jax_fn, args) <= 0.9 * xla_bytes(jgrad, jargs)


def test_pair_rows_takes_each_sequence_once_and_never_an_input():
    from thx.lowering.scan_reuse import pair_rows
    seqs = [np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2)), np.zeros((4, 3), "float32")]
    row = lambda *s, dt="float64": jax.ShapeDtypeStruct(s, np.dtype(dt))  # noqa: E731
    assert pair_rows(seqs, [row(3), row(3), row(3), row(2)]) == {0: (1,), 1: (0,), 3: (2,)}
    assert pair_rows(seqs, [row(3), row(3, dt="float32")], [False, True, True, True]) == {0: (1,), 1: (3,)}
    assert pair_rows([np.zeros((4, 2, 3))], [row(2, 3)]) == {}  # matrix rows: not worth it


def test_pair_rows_groups_vector_sequences_as_long_as_a_row():
    # an LSTM's backward step writes a 4H row (delta) and reads four H rows of gate values
    from thx.lowering.scan_reuse import pair_rows
    seqs = [np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2)), np.zeros((4, 3), "float32")]
    row = lambda *s, dt="float64": jax.ShapeDtypeStruct(s, np.dtype(dt))  # noqa: E731
    assert pair_rows(seqs, [row(5)]) == {0: (2, 1)}  # the last sequences first, 2 + 3 rows
    assert pair_rows(seqs, [row(3), row(5)]) == {0: (1,), 1: (2, 0)}  # a single match first
    assert pair_rows(seqs, [row(9)]) == {}  # no group of float64 rows adds up to 9
    assert pair_rows(seqs, [row(5)], [True, False, True, False]) == {0: (2, 0)}  # never an input


def test_a_row_written_over_a_group_of_sequences_keeps_every_value():
    # scan_over_sequences against lax.scan: the output's row is cut over two sequences' buffers
    from jax import lax
    from thx.lowering.scan_reuse import pair_rows, row_shapes, scan_over_sequences
    rng = np.random.RandomState(0)
    with jax.enable_x64(True):
        a, b, c = (jnp.asarray(rng.randn(7, n)) for n in (2, 3, 4))

        def step(carry, xs):
            x, y, z = xs
            i, s = carry
            row = jnp.concatenate([jnp.sin(x) * s, y + z[:3]])  # 5 values, reads x and y first
            return (i + 1, s + jnp.sum(z)), (row, z * 2)

        carry0 = (jnp.asarray(0), jnp.asarray(1.0))
        for reverse in (False, True):
            want_c, want_ys = lax.scan(step, carry0, (a, b, c), reverse=reverse)
            shapes = row_shapes(step, carry0, [a, b, c], 2)
            pairs = pair_rows([a, b, c], shapes)
            assert pairs == {0: (1, 0), 1: (2,)}
            got_c, got_ys = scan_over_sequences(step, carry0, [a, b, c], pairs, shapes,
                                                lambda c: c[0], 7, reverse)
            for g, w in zip(list(got_c) + list(got_ys), list(want_c) + list(want_ys)):
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-14)


@pytest.mark.parametrize("right", [False, True])
def test_elementwise_work_on_an_array_read_after_the_loop_stays_in_the_loop(right):
    # the vector tanh RNN's gradient: the backward loop reads h for tanh's derivative 1 - h ** 2,
    # and h is also read after the loop by the weight gradient's product (the pushed-out outer
    # products).  Batching 1 - h ** 2 before the loop freed nothing and stored one more
    # [steps, hidden] array: it is computed in the loop, fused with the step's other work.
    from thx.scan.op import Scan
    from thx.tensor.elemwise import Elemwise
    case = Case("tanh", False, right, steps=40, batch=1, n_in=12, hidden=24)
    arrays = data(case, np.random.RandomState(0))
    _, grad, args = thx_functions(case, arrays)
    got = grad(*args)
    with jax.enable_x64(True):
        _, jgrad, jargs = jax_functions(case, arrays)
        want = jgrad(*jargs)
    for g, w in zip(got, want):
        assert_close(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)
    nodes = grad.maker.fgraph.toposort()
    backward = [n for n in nodes if isinstance(n.op, Scan) and n.op.name == "grad_of_scan_fn"]
    assert len(backward) == 1
    # before: the step read a batched sequence 1 - h ** 2 (no sqr inside); after: sqr inside
    inner = [getattr(a.op, "scalar_op", None) for a in backward[0].op.fgraph.apply_nodes
             if isinstance(a.op, Elemwise)]
    assert "sqr" in [getattr(s, "name", None) for s in inner]
    # no outer sqr of the forward states feeds the backward loop
    outer_sqr_into_loop = [n for n in nodes if isinstance(n.op, Elemwise)
                           and getattr(n.op.scalar_op, "name", None) == "sqr"
                           and any(c[0] is backward[0] for o in n.outputs
                                   for c in grad.maker.fgraph.clients.get(o, {}))]
    assert not outer_sqr_into_loop
    # one [steps, hidden] array less than jax.grad's buffers
    mine, theirs = xla_bytes(grad.jax_fn, args), xla_bytes(jgrad, jargs)
    assert mine + case.steps * case.hidden * 8 <= theirs, (mine, theirs)
