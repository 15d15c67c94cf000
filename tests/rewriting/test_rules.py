"""Every rewrite rule: the graph it produces (pp / op types) and that it computes the same values.

Each case runs twice: with only its rule enabled (``Mode(optimizer=None).including(rule)``:
the output shows exactly what the rule does) and in FAST_RUN.  The rewritten graph, run by its
ops' NumPy ``perform`` (``tests.oracle.numpy_eval``, no JAX), is checked against the case's plain
NumPy formula ``ref`` and against the unrewritten graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import thx.tensor as T
from thx.compile.mode import Mode
from thx.gradient import consider_constant
from thx.printing import pp
from thx.rewriting import all_rewrites
from thx.tensor.basic import Rebroadcast
from thx.tensor.elemwise import DimShuffle, Elemwise, cast_scalar_op, elemwise_op

from tests.oracle import check_rewrite

x, y = T.dvector("x"), T.dvector("y")
v2 = T.dvector("v")
m = T.dmatrix("m")
s = T.dscalar("s")
i = T.ivector("i")
r = T.drow("r")
c = T.dcol("c")
lab = T.lvector("lab")
b22 = T.TensorType("float64", (True, True))("b")
sq = T.dmatrix("sq")  # a symmetric positive-definite 3 x 3 matrix (linear-algebra rules)

RNG = np.random.RandomState(0)
VALUES: dict[Any, np.ndarray] = {
    x: RNG.uniform(0.5, 2.0, 3), y: RNG.uniform(-2.0, 2.0, 3), v2: RNG.uniform(-1, 1, 2),
    m: RNG.uniform(-2, 2, (2, 3)), s: np.asarray(0.7), i: np.asarray([3, -2, 5], dtype="int32"),
    r: RNG.uniform(-1, 1, (1, 3)), c: RNG.uniform(-1, 1, (2, 1)), lab: np.asarray([2, 0]),
    b22: np.asarray([[1.5]]),
    sq: np.asarray([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]),
}

# The same values under NumPy names, for the plain NumPy reference of each case.
X, Y, V, M, S, I, R, C, LAB, B, SQ = (VALUES[k] for k in (x, y, v2, m, s, i, r, c, lab, b22, sq))


def fill(a, b):
    return np.broadcast_to(b, np.broadcast(a, b).shape)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Case:
    rule: str
    build: Callable[[], Any]                 # -> output variable
    expect: str | Callable[[Any], bool]      # pp of the output with only `rule` on, or a check of the fgraph
    ref: Callable[[], Any] | None = None     # the same math in plain NumPy, on the arrays in VALUES

    def inputs(self, out) -> list:
        from thx.graph.basic import graph_inputs
        from thx.graph.basic import Constant
        return [v for v in graph_inputs([out]) if not isinstance(v, Constant)]


def ops(fg) -> list[str]:
    return [type(n.op).__name__ if not isinstance(n.op, Elemwise) else n.op.scalar_op.name
            for n in fg.toposort()]


CASES = [
    # ---------------------------------------------------------------- canonicalize
    Case("local_useless_fill", lambda: T.fill(x, y), "y", ref=lambda: fill(X, Y)),
    Case("local_useless_fill", lambda: T.fill(m, s), "fill(m, s)",
         ref=lambda: fill(M, S)),  # s must be broadcast: kept
    Case("local_fill_sink", lambda: T.fill(x, s) * y, "(s * y)", ref=lambda: fill(X, S) * Y),
    Case("local_fill_sink", lambda: T.fill(m, s) * x, "fill(m, (s * x))", ref=lambda: fill(M, S) * X),
    Case("local_useless_alloc", lambda: T.alloc(x, x.shape[0]), "x", ref=lambda: X),
    Case("local_useless_identity", lambda: T.identity(x) + 1, "(x + TensorConstant{1})", ref=lambda: X + 1),
    Case("local_remove_grad_ops", lambda: consider_constant(x) * 2, "(x * TensorConstant{2})",
         ref=lambda: X * 2),
    Case("local_useless_switch", lambda: T.switch(1, x, y), "x", ref=lambda: X),
    Case("local_useless_switch", lambda: T.switch(T.lt(y, 0), x, x), "x", ref=lambda: X),
    Case("local_mul_switch_sink", lambda: T.switch(T.lt(y, 0), 0, x) * y,
         "switch(lt(y, TensorConstant{0}), TensorConstant{0}, (x * y))",
         ref=lambda: np.where(Y < 0, 0, X) * Y),
    Case("local_div_switch_sink", lambda: T.switch(T.lt(y, 0), x, 0) / y,
         "switch(lt(y, TensorConstant{0}), (x / y), TensorConstant{0})",
         ref=lambda: np.where(Y < 0, X, 0) / Y),
    Case("local_useless_cast", lambda: elemwise_op(cast_scalar_op("float64"))(x), "x", ref=lambda: X),
    Case("local_cast_cast", lambda: T.cast(T.cast(i, "int64"), "float64"), "Cast{float64}(i)",
         ref=lambda: I.astype("float64")),
    Case("local_cast_cast", lambda: T.cast(T.cast(x, "float32"), "float64"),  # lossy: kept
         "Cast{float64}(Cast{float32}(x))", ref=lambda: X.astype("float32").astype("float64")),
    Case("local_useless_dimshuffle", lambda: DimShuffle((False,), [0])(x), "x", ref=lambda: X),
    Case("local_dimshuffle_merge", lambda: x.dimshuffle("x", 0).dimshuffle(1, 0),
         lambda fg: [n.op.new_order for n in fg.toposort()] == [(0, "x")], ref=lambda: X[None, :].T),
    Case("local_dimshuffle_lift", lambda: (x + y).dimshuffle("x", 0),
         lambda fg: sorted(ops(fg)) == ["DimShuffle", "DimShuffle", "add"], ref=lambda: (X + Y)[None, :]),
    Case("local_pow_zero", lambda: x ** 0, "fill(x, TensorConstant{1.0})", ref=lambda: X ** 0),
    Case("local_pow_one", lambda: x ** 1, "x", ref=lambda: X),
    Case("local_mul_canonizer", lambda: (2 * (x * 3)) / (x * y), "(TensorConstant{6.0} / y)",
         ref=lambda: (2 * (X * 3)) / (X * Y)),
    Case("local_mul_canonizer", lambda: -(x * -y), "(x * y)", ref=lambda: -(X * -Y)),
    Case("local_mul_canonizer", lambda: 2 * (-(x / 4)), "(TensorConstant{-0.5} * x)",
         ref=lambda: 2 * (-(X / 4))),
    Case("local_mul_canonizer", lambda: (x * 2) / y / 3, "((TensorConstant{0.6666666666666666} * x) / y)",
         ref=lambda: (X * 2) / Y / 3),
    Case("local_mul_canonizer", lambda: x / (y / x), "((x * x) / y)", ref=lambda: X / (Y / X)),
    Case("local_mul_canonizer", lambda: (x * y) / y, "x", ref=lambda: (X * Y) / Y),
    Case("local_mul_canonizer", lambda: (i * 2) * 3, "(TensorConstant{6} * i)", ref=lambda: (I * 2) * 3),
    Case("local_add_canonizer", lambda: (x + 1) - (2 - y), "((x + y) - TensorConstant{1.0})",
         ref=lambda: (X + 1) - (2 - Y)),
    Case("local_add_canonizer", lambda: x - (y - (x + 3)), "((TensorConstant{3} + x + x) - y)",
         ref=lambda: X - (Y - (X + 3))),
    Case("local_add_canonizer", lambda: -(x - y), "(y - x)", ref=lambda: -(X - Y)),
    Case("local_add_canonizer", lambda: (x - y) + y, "x", ref=lambda: (X - Y) + Y),
    Case("local_add_canonizer", lambda: (x - x) + 0, "fill(x, TensorConstant{0.0})", ref=lambda: (X - X) + 0),
    Case("local_add_canonizer", lambda: (m + x) - m, "fill(m, x)", ref=lambda: (M + X) - M),
    Case("local_shape_of_broadcastable", lambda: b22.shape, "TensorConstant{[1 1]}",
         ref=lambda: np.array(B.shape)),
    Case("local_shape_infer", lambda: (m + m).shape, "Shape(m)", ref=lambda: np.array(M.shape)),
    Case("local_shape_infer", lambda: (m + r).shape, "Shape(m)", ref=lambda: np.array((M + R).shape)),
    Case("local_shape_infer", lambda: (r + c).shape,
         lambda fg: ops(fg) == ["Shape", "Subtensor", "Shape", "Subtensor", "MakeVector"],
         ref=lambda: np.array((R + C).shape)),
    Case("local_shape_infer", lambda: T.dot(m.T, m).shape,
         lambda fg: "Dot" not in ops(fg) and ops(fg).count("Shape") >= 1,
         ref=lambda: np.array((M.T @ M).shape)),
    Case("local_make_vector_of_shape", lambda: T.stack([m.shape[0], m.shape[1]]), "Shape(m)",
         ref=lambda: np.array(M.shape)),
    Case("local_shape_i_of_broadcastable", lambda: r.shape[0] + 0, "(TensorConstant{1} + TensorConstant{0})",
         ref=lambda: R.shape[0] + 0),
    Case("local_subtensor_make_vector", lambda: T.stack([s, s * 2, s + 1])[1], "(s * TensorConstant{2})",
         ref=lambda: S * 2),
    Case("local_subtensor_make_vector", lambda: T.stack([s, s * 2, s + 1])[1:],
         "[(s * TensorConstant{2}), (s + TensorConstant{1})]", ref=lambda: np.array([S * 2, S + 1])),
    Case("local_useless_subtensor", lambda: m[0:], "m", ref=lambda: M),
    Case("local_useless_rebroadcast", lambda: Rebroadcast((0, False))(x), "x", ref=lambda: X),
    Case("local_useless_rebroadcast", lambda: Rebroadcast((1, False))(Rebroadcast((0, False))(r)),
         lambda fg: sum(isinstance(n.op, Rebroadcast) for n in fg.toposort()) == 1, ref=lambda: R),
    Case("local_useless_reshape", lambda: m.reshape(m.shape, ndim=2), "m", ref=lambda: M),
    Case("local_useless_reshape", lambda: m.reshape((m.shape[0], -1)), "m", ref=lambda: M),
    Case("local_useless_reshape", lambda: x.reshape((3,)), "x", ref=lambda: X),
    Case("local_reshape_chain", lambda: m.reshape((6,)).reshape((3, 2)), "Reshape{2}(m, TensorConstant{[3 2]})",
         ref=lambda: M.reshape(3, 2)),
    Case("local_useless_flatten", lambda: T.flatten(x, 1), "x", ref=lambda: X),
    # ---------------------------------------------------------------- stabilize
    Case("local_log_sigmoid", lambda: T.log(T.nnet.sigmoid(x)), "(-softplus((-x)))",
         ref=lambda: np.log(sigmoid(X))),
    Case("local_log1m_sigmoid", lambda: T.log(1 - T.nnet.sigmoid(x)), "(-softplus(x))",
         ref=lambda: np.log(1 - sigmoid(X))),
    Case("local_1msigmoid", lambda: 1 - T.nnet.sigmoid(x), "sigmoid((-x))", ref=lambda: 1 - sigmoid(X)),
    Case("local_1msigmoid", lambda: 1 - T.nnet.sigmoid(-x), "sigmoid(x)", ref=lambda: 1 - sigmoid(-X)),
    Case("local_log1p_neg_sigmoid", lambda: T.log1p(-T.nnet.sigmoid(x)), "(-softplus(x))",
         ref=lambda: np.log1p(-sigmoid(X))),
    Case("local_log1p_exp", lambda: T.log1p(T.exp(y)), "softplus(y)", ref=lambda: np.log1p(np.exp(Y))),
    Case("local_log_exp", lambda: T.log(T.exp(y)), "y", ref=lambda: Y),
    Case("local_expm1", lambda: T.exp(y) - 1, "expm1(y)", ref=lambda: np.exp(Y) - 1),
    Case("local_expm1_add", lambda: T.exp(y) + (-1), "expm1(y)", ref=lambda: np.exp(Y) - 1),
    Case("local_inv_1_plus_exp", lambda: 1 / (1 + T.exp(-y)), "sigmoid(y)", ref=lambda: 1 / (1 + np.exp(-Y))),
    Case("local_inv_1_plus_exp", lambda: 1 / (1 + T.exp(y)), "sigmoid((-y))",
         ref=lambda: 1 / (1 + np.exp(Y))),
    Case("local_exp_over_1_plus_exp", lambda: (lambda e: e / (1 + e))(T.exp(y)), "sigmoid(y)",
         ref=lambda: np.exp(Y) / (1 + np.exp(Y))),
    Case("local_sigmoid_grad", lambda: (lambda e: (lambda d: (x * e) / (d * d))(1 + e))(T.exp(y)),
         "(x * sigmoid(y) * sigmoid((-y)))", ref=lambda: X * np.exp(Y) / (1 + np.exp(Y)) ** 2),
    Case("local_log_softmax", lambda: T.log(T.nnet.softmax(m)), "logsoftmax(m)",
         ref=lambda: np.log(softmax(M))),
    Case("local_log1p", lambda: T.log(1 + x), "log1p(x)", ref=lambda: np.log(1 + X)),
    Case("local_log1p", lambda: T.log(x + y + 1), "log1p((x + y))", ref=lambda: np.log(X + Y + 1)),
    Case("local_log1p", lambda: T.log(1 - y / 3), "log1p((-(y / TensorConstant{3})))",
         ref=lambda: np.log(1 - Y / 3)),
    Case("local_log_sum_exp", lambda: T.log(T.sum(T.exp(m), axis=1)),
         lambda fg: "Max" in ops(fg) and "log" in ops(fg), ref=lambda: np.log(np.sum(np.exp(M), axis=1))),
    Case("local_log_sum_exp", lambda: T.log(T.sum(T.exp(m), axis=1, keepdims=True)),
         lambda fg: "Max" in ops(fg), ref=lambda: np.log(np.sum(np.exp(M), axis=1, keepdims=True))),
    Case("local_log_sum_exp", lambda: T.log(T.sum(T.exp(x))), lambda fg: "Max" in ops(fg),
         ref=lambda: np.log(np.sum(np.exp(X)))),
    # already shifted by the user (z - z.max(axis, keepdims=True)): one Max, the user's, stays
    Case("local_log_sum_exp", lambda: T.log(T.sum(T.exp(m - m.max(axis=1, keepdims=True)), axis=1)),
         "log(sum(exp((m - max(m, axis=[1]))), axis=[1]))",
         ref=lambda: np.log(np.sum(np.exp(M - M.max(axis=1, keepdims=True)), axis=1))),
    # shifted over other axes than the sum's: still rewritten
    Case("local_log_sum_exp", lambda: T.log(T.sum(T.exp(m - m.max(axis=0, keepdims=True)), axis=1)),
         lambda fg: ops(fg).count("Max") == 2,
         ref=lambda: np.log(np.sum(np.exp(M - M.max(axis=0, keepdims=True)), axis=1))),
    Case("local_log_subtensor_softmax", lambda: T.log(T.nnet.softmax(m)[T.arange(2), lab]),
         lambda fg: "LogSoftmax" in ops(fg) and "Softmax" not in ops(fg),
         ref=lambda: np.log(softmax(M)[np.arange(2), LAB])),
    Case("local_softmax_from_exp", lambda: (lambda e: e / e.sum(axis=1, keepdims=True))(T.exp(m)),
         "softmax(m)", ref=lambda: softmax(M)),
    # the op takes a vector as a one-row matrix (Theano 1.0), so the vector is its row 0
    Case("local_softmax_from_exp", lambda: (lambda e: e / e.sum())(T.exp(x)), "DimShuffle{1}(softmax(x))",
         ref=lambda: softmax(X)),
    # ---------------------------------------------------------------- specialize
    Case("local_mul_to_sqr", lambda: x * x, "sqr(x)", ref=lambda: X * X),
    Case("local_pow_two", lambda: x ** 2, "sqr(x)", ref=lambda: X ** 2),
    Case("local_pow_half", lambda: x ** 0.5, "sqrt(x)", ref=lambda: np.sqrt(X)),
    Case("local_pow_minus_one", lambda: x ** -1, "(TensorConstant{1.0} / x)", ref=lambda: 1 / X),
    Case("local_add_neg_to_sub", lambda: x + (-y), "(x - y)", ref=lambda: X - Y),
    Case("local_neg_neg", lambda: -(-x), "x", ref=lambda: X),
    Case("local_mul_specialize", lambda: -1 * x, "(-x)", ref=lambda: -X),
    Case("local_mul_specialize", lambda: x * 1 * y, "(x * y)", ref=lambda: X * Y),
    Case("local_mul_specialize", lambda: T.mul(0, m, x), "fill(m, TensorConstant{0.0})",
         ref=lambda: 0 * M * X),
    Case("local_mul_specialize", lambda: T.mul(0, c, r), "fill(r, fill(c, TensorConstant{0.0}))",
         ref=lambda: 0 * C * R),
    Case("local_mul_neg", lambda: T.mul(-x, -y, -x), "(-(x * y * x))", ref=lambda: -(X * Y * X)),
    Case("local_mul_neg", lambda: T.mul(-x, -y, -s), "(x * y * (-s))",
         ref=lambda: X * Y * -S),  # -s is broadcast: a DimShuffle
    Case("local_mul_neg", lambda: T.mul(-x, -y), "(x * y)", ref=lambda: X * Y),
    Case("local_add_specialize", lambda: x + 0, "x", ref=lambda: X),
    Case("local_sum_of_fill", lambda: T.sum(T.fill(m, 3.0)), "(TensorConstant{3.0} * Cast{float32}(prod(Shape(m))))",
         ref=lambda: np.sum(fill(M, 3.0))),
    Case("local_sum_of_fill", lambda: T.sum(T.alloc(s, 2, 3)),
         "(s * Cast{float64}((Cast{int64}(TensorConstant{2}) * Cast{int64}(TensorConstant{3}))))",
         ref=lambda: S * 6),
    Case("local_sum_mul_by_scalar", lambda: T.sum(s * m, axis=1), "(s * sum(m, axis=[1]))",
         ref=lambda: S * np.sum(M, axis=1)),
    Case("local_sum_neg", lambda: T.sum(-x), "(-sum(x))", ref=lambda: -np.sum(X)),
    Case("local_dot_scalar", lambda: T.dot(s * v2, m), "(s * (v \\dot m))", ref=lambda: (S * V) @ M),
    Case("local_dot_scalar", lambda: T.dot(m, x * 2), "(TensorConstant{2} * (m \\dot x))",
         ref=lambda: M @ (X * 2)),
    # ---------------------------------------------------------------- scan push-outs (more: test_scan_pushout.py)
    Case("local_scan_pushout_nonseqs", lambda: _scan(lambda h, m: h * T.exp(m).sum(), outputs_info=s,
                                                     non_sequences=m, n_steps=3),
         lambda fg: _loops(fg) == [(1, 1, 0)],  # exp(m).sum() is computed once: the step is one mul
         ref=lambda: S * np.exp(M).sum() ** np.arange(1, 4)),
    Case("local_scan_pushout_seqs", lambda: _scan(lambda row, h: T.tanh(h + T.dot(row, x)), sequences=m,
                                                  outputs_info=s),
         lambda fg: _loops(fg) == [(2, 1, 0)],  # dot(row, x) is one product before the loop: add, tanh
         ref=lambda: _np_loop(M, S, lambda row, h: np.tanh(h + row @ X))),
    Case("local_scan_pushout_outputs",
         lambda: _scan(lambda row, h, acc: [T.tanh(h + row), acc + T.outer(row, T.tanh(h + row))], sequences=m,
                       outputs_info=[x, T.zeros((3, 3))])[1][-1],
         lambda fg: [n_rec for _, n_rec, _ in _loops(fg)] == [1],  # the accumulator left the loop
         ref=lambda: sum(np.outer(M[t], _np_loop(M, X, lambda row, h: np.tanh(h + row))[t]) for t in range(2))),
]


def _scan(fn, **kw):
    import thx
    return thx.scan(fn, **kw)[0]


def _loops(fg) -> list[tuple[int, int, int]]:
    """``(nodes in the step, states, per-step outputs)`` of each Scan in ``fg``."""
    from thx.scan.op import Scan
    return [(len(n.op.fgraph.apply_nodes), n.op.n_rec, n.op.n_nit) for n in fg.toposort() if isinstance(n.op, Scan)]


def _np_loop(seq, h, step):
    out = []
    for row in seq:
        h = step(row, h)
        out.append(h)
    return np.stack(out)


# ---------------------------------------------------------------- scan (whole-node rewrites)

def _scans(fg) -> list:
    from thx.scan.op import Scan
    return [n.op for n in fg.apply_nodes if isinstance(n.op, Scan)]


def _cumsum_and_cumprod():
    """Two recurrent states over ``x`` (one scan): ``s + cumsum(x)`` and ``s * cumprod(x)``."""
    import thx
    (a, b), _ = thx.scan(lambda x_t, a, b: [a + x_t, b * x_t], sequences=x, outputs_info=[s, s])
    return a, b


def _two_scans():
    """The same two states as two scans over the same steps."""
    import thx
    n = x.shape[0]
    a, _ = thx.scan(lambda x_t, a: a + x_t, sequences=x, outputs_info=s, n_steps=n)
    b, _ = thx.scan(lambda x_t, b: b * x_t, sequences=x, outputs_info=s, n_steps=n)
    return a + b


def _twice_cumsum():
    """One scan carrying ``s + cumsum(x)`` twice (two states, same start, same step)."""
    import thx
    (a, b), _ = thx.scan(lambda x_t, a, b: [a + x_t, b + x_t], sequences=x, outputs_info=[s, s])
    return a + b


CASES += [
    Case("local_scan_prune", lambda: _cumsum_and_cumprod()[0],
         lambda fg: [op.n_rec for op in _scans(fg)] == [1], ref=lambda: S + np.cumsum(X)),
    Case("local_scan_merge", _two_scans, lambda fg: [op.n_rec for op in _scans(fg)] == [2],
         ref=lambda: S + np.cumsum(X) + S * np.cumprod(X)),
    Case("local_scan_dedupe_states", lambda: _twice_cumsum(),
         lambda fg: [op.n_rec for op in _scans(fg)] == [1], ref=lambda: 2 * (S + np.cumsum(X))),
    Case("local_scan_save_mem", lambda: _cumsum_and_cumprod()[1][-1],
         lambda fg: [op.store_steps for op in _scans(fg)] in ([(1, 1)], [(1,)]), ref=lambda: S * np.prod(X)),
]


def _linalg():
    from thx.sandbox.linalg import psd
    from thx.tensor import nlinalg, slinalg
    return psd, nlinalg, slinalg


def _solves(fg) -> list[str]:
    return sorted(n.op.A_structure for n in fg.toposort() if type(n.op).__name__ == "Solve")


def _inline_ofg():
    from thx.op_from_graph import OpFromGraph
    a, b = T.dvector(), T.dvector()
    return OpFromGraph([a, b], [a * b + a], inline=True)(x, y)


CASES += [
    Case("local_inv_as_solve", lambda: T.dot(_linalg()[1].matrix_inverse(sq), x),
         lambda fg: ops(fg) == ["Solve"], ref=lambda: np.linalg.solve(SQ, X)),
    Case("local_psd_solve_with_chol", lambda: _linalg()[2].solve(_linalg()[0](sq), x),
         lambda fg: _solves(fg) == ["lower_triangular", "upper_triangular"] and "Cholesky" in ops(fg),
         ref=lambda: np.linalg.solve(SQ, X)),
    Case("local_no_transpose_symmetric", lambda: T.dot(_linalg()[0](sq).T, x),
         lambda fg: "DimShuffle" not in ops(fg), ref=lambda: SQ.T @ X),
    Case("local_solve_of_cholesky", lambda: _linalg()[2].solve(_linalg()[2].cholesky(sq), x),
         lambda fg: _solves(fg) == ["lower_triangular"], ref=lambda: np.linalg.solve(np.linalg.cholesky(SQ), X)),
    Case("local_det_chol", lambda: (lambda p: _linalg()[1].det(p) + T.sum(_linalg()[2].cholesky(p)))(
         _linalg()[0](sq)), lambda fg: "Det" not in ops(fg),
         ref=lambda: np.linalg.det(SQ) + np.linalg.cholesky(SQ).sum()),
    Case("local_remove_hint", lambda: _linalg()[0](sq) * 2, lambda fg: "Hint" not in ops(fg),
         ref=lambda: SQ * 2),
    Case("local_inline_op_from_graph", _inline_ofg, lambda fg: "OpFromGraph" not in ops(fg),
         ref=lambda: X * Y + X),
]



def _run(case: Case, mode):
    out = case.build()
    ins = case.inputs(out)
    # the rewritten graph against the plain NumPy formula, and against the unrewritten graph
    vals = [VALUES[v] for v in ins]
    assert case.ref is not None, "every case carries its plain NumPy reference"
    check_rewrite(ins, [out], vals, mode=mode, reference=lambda *_: case.ref())
    return check_rewrite(ins, [out], vals, mode=mode)


@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c.rule}" for k, c in enumerate(CASES)])
def test_rule_alone(case):
    fg = _run(case, Mode(optimizer=None).including(case.rule))
    if callable(case.expect):
        assert case.expect(fg), pp(fg.outputs[0])
    else:
        assert pp(fg.outputs[0]) == case.expect
    if not (isinstance(case.expect, str) and "kept" in case.expect):
        applied = fg.applied.get(case.rule, 0)
        negative = isinstance(case.expect, str) and case.expect == pp(case.build())
        assert applied > 0 or negative, fg.applied


@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c.rule}" for k, c in enumerate(CASES)])
def test_rule_in_fast_run_keeps_values(case):
    _run(case, "FAST_RUN")


def test_every_rule_has_a_case():
    covered = {c.rule for c in CASES}
    missing = [rw.name for rw in all_rewrites() if rw.name not in covered]
    assert not missing


def test_rules_are_named_and_tagged_like_theano():
    for rw in all_rewrites():
        assert rw.name.startswith("local_")
        assert rw.name in rw.tags and "fast_run" in rw.tags
        assert set(rw.phases) <= rw.tags
        # FAST_COMPILE runs canonicalize, without shape inference (as Theano's FAST_COMPILE)
        assert ("fast_compile" in rw.tags) == ("canonicalize" in rw.phases and "shape" not in rw.tags)


def test_every_rule_has_a_before_after_comment():
    import inspect

    import thx.rewriting.canonicalize as C
    import thx.rewriting.shape as Sh
    import thx.rewriting.specialize as Sp
    import thx.rewriting.stabilize as St
    import sys
    mods = [C, Sh, St, Sp]  # pattern rules are declared here; function rules in their fn's module
    mods += [m for m in dict.fromkeys(sys.modules[rw.fn.__module__] for rw in all_rewrites()) if m not in mods]
    src = "\n".join(inspect.getsource(mod) for mod in mods)
    for rw in all_rewrites():
        line = next(ln for ln in src.splitlines() if rw.name in ln and ("def " in ln or "pattern(" in ln))
        k = src.splitlines().index(line)
        nearby = "\n".join(src.splitlines()[k:k + 3])
        assert "->" in nearby and "#" in nearby, rw.name


