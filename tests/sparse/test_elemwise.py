"""thx/sparse/elemwise.py: functions of the stored values, structured addition, comparisons.

Values are checked against NumPy applied to ``a.data`` (the output must keep ``a``'s format and
stored positions), gradients against ``jax.grad`` of the same math on the stored values
(structured: the gradient must be zero off ``a``'s positions), on random csr and csc matrices
with an explicitly stored zero, and on an empty matrix.  One compiled function per format
computes every row of the table (compiling is the slow part), and each row is its own test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import thx
import thx.sparse as S
import thx.tensor as T
from tests.oracle import jax_grads
from thx.sparse.elemwise import STRUCTURED_OPS, StructuredElemwise

FORMATS = ("csr", "csc")
SHAPE = (4, 5)
P, SCALAR = 2.5, 0.3  # structured_pow's exponent; the bound / addend of minimum, maximum, add


@dataclass
class Row:
    """One function of the stored values: its NumPy and JAX math, on which values."""

    name: str
    np_fn: Callable
    jax_fn: Callable
    domain: str = "any"  # "any": values in (-3, 3); "pos": in (0.1, 0.9), for log, sqrt, arcsin ...
    param: float | None = None  # the scalar operand, if the function takes one


ROWS = [
    Row("structured_sigmoid", lambda d: 1 / (1 + np.exp(-d)), lambda d: 1 / (1 + jnp.exp(-d))),
    Row("structured_exp", np.exp, jnp.exp),
    Row("structured_log", np.log, jnp.log, "pos"),
    Row("structured_pow", np.power, jnp.power, "pos", P),
    Row("structured_minimum", np.minimum, jnp.minimum, param=SCALAR),
    Row("structured_maximum", np.maximum, jnp.maximum, param=SCALAR),
    Row("structured_add", np.add, jnp.add, param=SCALAR),
    Row("sin", np.sin, jnp.sin),
    Row("arcsin", np.arcsin, jnp.arcsin, "pos"),
    Row("tan", np.tan, jnp.tan),
    Row("arctan", np.arctan, jnp.arctan),
    Row("sinh", np.sinh, jnp.sinh),
    Row("arcsinh", np.arcsinh, jnp.arcsinh),
    Row("tanh", np.tanh, jnp.tanh),
    Row("arctanh", np.arctanh, jnp.arctanh, "pos"),
    Row("rad2deg", np.rad2deg, jnp.rad2deg),
    Row("deg2rad", np.deg2rad, jnp.deg2rad),
    Row("rint", np.rint, jnp.round),
    Row("ceil", np.ceil, jnp.ceil),
    Row("floor", np.floor, jnp.floor),
    Row("trunc", np.trunc, jnp.trunc),
    Row("sgn", np.sign, jnp.sign),
    Row("log1p", np.log1p, jnp.log1p, "pos"),
    Row("expm1", np.expm1, jnp.expm1),
    Row("sqr", np.square, jnp.square),
    Row("sqrt", np.sqrt, jnp.sqrt, "pos"),
    # Theano's abs'(0) is sgn(0) = 0 where jax.grad(jnp.abs)(0.) is 1: the oracle uses Theano's
    Row("abs_", np.abs, lambda d: d * jnp.sign(d)),
]


def test_the_table_covers_every_structured_function():
    assert sorted(r.name for r in ROWS) == sorted(STRUCTURED_OPS)


def matrix(fmt: str, domain: str, seed: int, explicit_zero: bool = True):
    """A random 4x5 csr/csc matrix with values in the domain, one stored value set to 0."""
    rng = np.random.RandomState(seed)
    lo, hi = (-3.0, 3.0) if domain == "any" else (0.1, 0.9)
    m = sp.random(*SHAPE, density=0.45, format=fmt, random_state=rng,
                  data_rvs=lambda n: rng.uniform(lo, hi, n))
    if explicit_zero:
        m.data[1] = 0.0
    assert m.nnz >= 4
    return m


def positions(m) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of ``m``'s stored entries, in storage order."""
    major = np.repeat(np.arange(len(m.indptr) - 1), np.diff(m.indptr))
    return (major, m.indices) if m.format == "csr" else (m.indices, major)


def stored_values(g, m) -> np.ndarray:
    """``g`` (sparse) at ``m``'s stored positions, in ``m``'s storage order."""
    return np.asarray(g.toarray()[positions(m)])


def compile_table(fmt: str):
    """One function: every row's output and its gradients (wrt x and the scalar operand)."""
    xs = {"any": S.matrix(fmt, "x_any", "float64"), "pos": S.matrix(fmt, "x_pos", "float64")}
    W, p, s = T.dmatrix("W"), T.dscalar("p"), T.dscalar("s")
    outputs, slots = [], {}
    for row in ROWS:
        x = xs[row.domain]
        params = [] if row.param is None else [p if row.name == "structured_pow" else s]
        y = getattr(S, row.name)(x, *params)
        cost = T.sum(S.dense_from_sparse(y) * W)
        grads = thx.grad(cost, [x] + params)
        slots[row.name] = (len(outputs), len(grads))
        outputs += [y] + grads
    f = thx.function([xs["any"], xs["pos"], W, p, s], outputs, on_unused_input="ignore")
    return f, slots


@pytest.fixture(scope="module", params=FORMATS)
def table(request):
    """Per format: the compiled table, and its results on (a random matrix, an empty one)."""
    fmt = request.param
    f, slots = compile_table(fmt)
    W = np.random.RandomState(7).uniform(0.5, 1.5, SHAPE)
    cases = []
    # (the explicit zero only where every row is defined and differentiable at 0: log(0), and
    # pow's d/dp = log(x) * x ** p, Theano's formula, are not)
    for m_any, m_pos in ((matrix(fmt, "any", 1), matrix(fmt, "pos", 2, explicit_zero=False)),
                         (sp.csr_matrix(SHAPE).asformat(fmt), sp.csr_matrix(SHAPE).asformat(fmt))):
        with np.errstate(all="ignore"):
            results = f(m_any, m_pos, W, P, SCALAR)
        cases.append(({"any": m_any, "pos": m_pos}, results))
    return fmt, slots, W, cases


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_value_keeps_the_structure(table, row):
    fmt, slots, _, cases = table
    k, _ = slots[row.name]
    for mats, results in cases:
        a, out = mats[row.domain], results[k]
        assert out.format == fmt and out.dtype == np.float64
        np.testing.assert_array_equal(out.indptr, a.indptr)
        np.testing.assert_array_equal(out.indices, a.indices)
        args = (a.data,) if row.param is None else (a.data, row.param)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(out.data, row.np_fn(*args), rtol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_structured_gradient_against_jax(table, row):
    fmt, slots, W, cases = table
    k, n = slots[row.name]
    for mats, results in cases:
        a = mats[row.domain]
        gx, gparams = results[k + 1], results[k + 2:k + 1 + n]
        assert gx.format == fmt
        rows, cols = positions(a)
        off = np.ones(SHAPE, bool)
        off[rows, cols] = False
        assert not gx.toarray()[off].any(), "a structured gradient is zero off the stored positions"
        values = [a.data] + ([] if row.param is None else [np.float64(row.param)])
        w = W[rows, cols]  # the cost's weights at the stored positions, in storage order
        expected = jax_grads(row.jax_fn, values, w, list(range(len(values))))
        np.testing.assert_allclose(stored_values(gx, a), expected[0], rtol=1e-10, atol=1e-12)
        for g, e in zip(gparams, expected[1:]):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_printing_and_dtypes():
    x = S.csr_matrix("x")
    assert str(S.sin(x).owner.op) == "sin"
    assert str(S.structured_exp(x).owner.op) == "structured_exp"
    assert str(abs(x).owner.op) == "abs_"
    assert str(S.structured_add(x, 1.0).owner.op) == "structured_add"
    assert str(S.structured_add(x, T.dvector()).owner.op) == "StructuredAddSV"
    assert S.sin(S.csc_matrix("y", dtype="float32")).type == S.SparseType("csc", "float32")
    assert S.sin(S.csr_matrix("i", dtype="int64")).dtype == "float64"  # as T.sin types it
    assert S.sqr(S.csr_matrix("i", dtype="int32")).dtype == "int32"
    assert S.structured_pow(S.csr_fmatrix(), 2).dtype == "float32"  # a literal 2 is int8
    assert StructuredElemwise("sin") == S.sin(x).owner.op


def test_integer_matrix_values():
    x = S.csr_matrix("i", dtype="int32")
    f = thx.function([x], [S.sin(x), S.sqr(x), S.sgn(x)])
    a = sp.csr_matrix(np.array([[0, 3], [-2, 0]], dtype="int32"))
    s, q, g = f(a)
    np.testing.assert_allclose(s.data, np.sin(a.data.astype("float64")))
    assert q.dtype == np.int32 and list(q.data) == [9, 4]
    assert list(g.data) == [1, -1]


def test_errors():
    x = S.csr_matrix("x")
    with pytest.raises(TypeError, match="sin: x must be a sparse matrix, got TensorType"):
        S.sin(T.dmatrix())
    with pytest.raises(TypeError, match="structured_pow: operand 1 must be a scalar"):
        S.structured_pow(x, T.dvector())
    with pytest.raises(TypeError, match="structured_pow takes a sparse matrix and 1 scalar"):
        S.structured_pow(x)
    with pytest.raises(TypeError, match="structured_add: s must be a scalar or a vector"):
        S.structured_add(x, T.dmatrix())
    with pytest.raises(ValueError, match="unknown function 'cos'"):
        StructuredElemwise("cos")


# ---------------------------------------------------------------- structured_add with a vector

@pytest.mark.parametrize("fmt", FORMATS)
def test_structured_add_s_v(fmt):
    x, v, W = S.matrix(fmt, "x", "float64"), T.dvector("v"), T.dmatrix("W")
    y = S.structured_add(x, v)
    gx, gv = thx.grad(T.sum(S.dense_from_sparse(y) * W), [x, v])
    f = thx.function([x, v, W], [y, gx, gv])
    a = matrix(fmt, "any", 3)
    vv, WW = np.arange(1.0, 6.0), np.random.RandomState(0).uniform(0.5, 1.5, SHAPE)
    out, g1, g2 = f(a, vv, WW)
    rows, cols = positions(a)
    assert out.format == fmt
    np.testing.assert_array_equal(out.indices, a.indices)
    np.testing.assert_allclose(out.data, a.data + vv[cols])  # the explicit zero gets its vv too
    jx, jv = jax_grads(lambda d, s: d + s[cols], [a.data, vv], WW[rows, cols], [0, 1])
    np.testing.assert_allclose(stored_values(g1, a), jx)
    np.testing.assert_allclose(g2, jv)
    with pytest.raises(ValueError, match="the vector has 4 entries, the matrix 5 columns"):
        f(a, np.ones(4), WW)


# ---------------------------------------------------------------- comparisons

CMPS = [("eq", np.equal, "Equal"), ("neq", np.not_equal, "NotEqual"), ("lt", np.less, "LessThan"),
        ("gt", np.greater, "GreaterThan"), ("le", np.less_equal, "LessEqual"),
        ("ge", np.greater_equal, "GreaterEqual")]


def pair(fmt: str):
    a = matrix(fmt, "any", 4)
    b = a.copy()
    b.data[::2] += 1.0  # some entries equal, some greater, positions where only one stores
    b = b + sp.random(*SHAPE, density=0.2, format=fmt, random_state=5)
    return a, b.asformat(fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name,np_cmp,stem", CMPS, ids=[c[0] for c in CMPS])
def test_comparisons(fmt, name, np_cmp, stem):
    x, y, D = S.matrix(fmt, "x", "float64"), S.matrix(fmt, "y", "float64"), T.dmatrix("D")
    cmp = getattr(S, name)
    ss, sd, ds = cmp(x, y), cmp(x, D), cmp(D, x)
    assert (str(ss.owner.op), str(sd.owner.op)) == (stem + "SS", stem + "SD")
    assert ss.type == S.SparseType(fmt, "uint8")
    assert sd.type == T.TensorType("uint8", (False, False))
    f = thx.function([x, y, D], [ss, sd, ds, cmp(x, 0.5)])
    a, b = pair(fmt)
    d = b.toarray()
    r_ss, r_sd, r_ds, r_scalar = f(a, b, d)
    assert r_ss.format == fmt and r_ss.dtype == np.uint8
    np.testing.assert_array_equal(r_ss.toarray(), np_cmp(a.toarray(), d).astype("uint8"))
    np.testing.assert_array_equal(r_sd, np_cmp(a.toarray(), d).astype("uint8"))
    np.testing.assert_array_equal(r_ds, np_cmp(d, a.toarray()).astype("uint8"))
    np.testing.assert_array_equal(r_scalar, np_cmp(a.toarray(), 0.5).astype("uint8"))


def test_comparison_operators_and_zero_gradient():
    x, D = S.csr_matrix("x"), T.dmatrix("D")
    a, b = pair("csr")
    d = b.toarray()
    # (``D < x``, a dense left operand, raises in thx.tensor as it did in Theano: use S.lt(D, x))
    outs = [x < D, x <= D, x > D, x >= D, x < x * 2.0]
    got = thx.function([x, D], outs)(a, d)
    A = a.toarray()
    for r, e in zip(got, [A < d, A <= d, A > d, A >= d, A < A * 2]):
        np.testing.assert_array_equal(r.toarray() if sp.issparse(r) else r, e.astype("uint8"))
    cost = T.sum(S.lt(x, D) * D)
    gx, gd = thx.grad(cost, [x, D])
    rx, rd = thx.function([x, D], [gx, gd])(a, d)
    assert rx.format == "csr" and not rx.toarray().any()  # a comparison has a zero gradient
    np.testing.assert_array_equal(rd, (A < d).astype("float64"))


def test_comparison_errors():
    with pytest.raises(TypeError, match="sparse.lt needs at least one sparse operand"):
        S.lt(T.dmatrix(), T.dmatrix())
    with pytest.raises(NotImplementedError, match="EqualSS: comparing a csr and a csc matrix"):
        S.eq(S.csr_matrix(), S.csc_matrix())
    with pytest.raises(TypeError, match="cannot compare a sparse matrix with a 3-d tensor"):
        S.gt(S.csr_matrix(), T.dtensor3())
    x, y = S.csr_matrix("x"), S.csr_matrix("y")
    f = thx.function([x, y], S.le(x, y))
    with pytest.raises(ValueError, match=r"LessEqualSS: shapes \(2, 2\) and \(2, 3\) differ"):
        f(sp.csr_matrix((2, 2)), sp.csr_matrix((2, 3)))
    v = T.dvector("v")
    g = thx.function([x, v], S.ge(x, v))  # a dense vector broadcasts over the rows
    assert g(sp.csr_matrix(np.eye(2)), np.array([1.0, 0.5])).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match=r"shape \(3,\) does not broadcast to .* \(2, 2\)"):
        g(sp.csr_matrix(np.eye(2)), np.ones(3))


# ---------------------------------------------------------------- verify_grad_sparse

class DoubledGrad(StructuredElemwise):
    """A deliberately wrong op: sin's gradient times 2 (verify_grad_sparse must catch it)."""

    def L_op(self, inputs, outputs, grads):
        g = super().L_op(inputs, outputs, grads)
        return [g[0] * 2.0] + g[1:]


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_grad_sparse(fmt):
    a = matrix(fmt, "pos", 6, explicit_zero=False)
    rng = np.random.RandomState(0)
    S.verify_grad_sparse(S.structured_log, [a], structured=True, rng=rng)
    S.verify_grad_sparse(lambda x, s: S.structured_pow(x, s), [a, np.float64(1.7)],
                         structured=True, rng=rng)
    # a regular gradient: every entry varies
    S.verify_grad_sparse(lambda x, y: S.add(x, y), [a, matrix(fmt, "any", 7)], rng=rng)
    with pytest.raises(S.verify_grad_sparse.E_grad):
        S.verify_grad_sparse(DoubledGrad("sin"), [a], structured=True, rng=rng)
    with pytest.raises(S.verify_grad_sparse.E_grad):
        # structured_exp stores exp(0) = 1 where a perturbed zero becomes stored: it has no
        # regular gradient, and the unstructured check must say so
        S.verify_grad_sparse(S.structured_exp, [a], structured=False, rng=rng)
