"""Theano 1.0 names of theano.tensor that real programs use (issue 12), each against an oracle."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.tensor.shared_randomstreams import RandomStreams


# ------------------------------------------------------------------ constructors, types, dtype lists

def test_plural_constructors_follow_theano():
    # Theano 1.0's _multi: several names -> list; one argument is iterated (so 'abc' is three
    # names); a single one-letter name gives the variable itself; an int n gives n variables.
    a, b, c = T.vectors("abc")
    assert [v.name for v in (a, b, c)] == ["a", "b", "c"] and a.type == T.TensorType("float64", (False,))
    x, y = T.dvectors("x", "y")
    assert (x.name, y.name, x.dtype) == ("x", "y", "float64")
    s = T.dscalars("s")
    assert isinstance(s, T.TensorVariable) and s.name == "s" and s.ndim == 0
    ms = T.imatrices(3)
    assert len(ms) == 3 and all(m.dtype == "int32" and m.ndim == 2 and m.name is None for m in ms)
    p, q = T.tensor3s("pq")
    assert p.ndim == 3 and q.name == "q"
    assert T.ftensor4s("u", "v")[1].type == T.TensorType("float32", (False,) * 4)
    assert T.matrices("A", "B")[0].name == "A"


def test_tensor_alias_and_dtype_lists():
    assert T.Tensor is T.TensorType
    assert T.Tensor("int32", (False,))("v").dtype == "int32"
    # Theano 1.0's lists (theano.tensor.basic), compared with NumPy's dtype kinds
    assert T.float_dtypes == ["float16", "float32", "float64"]
    assert T.discrete_dtypes == ["bool"] + T.int_dtypes + T.uint_dtypes
    assert T.integer_dtypes == T.int_dtypes + T.uint_dtypes
    assert T.all_dtypes == T.discrete_dtypes + T.continuous_dtypes
    assert T.continuous_dtypes == T.float_dtypes + T.complex_dtypes
    for d in T.all_dtypes:
        kind = np.dtype(d).kind
        assert (d in T.discrete_dtypes) == (kind in "biu")
        assert (d in T.float_dtypes) == (kind == "f")
        assert (d in T.complex_dtypes) == (kind == "c")


def test_verify_grad_is_theano_s():
    # the oracle is verify_grad's own finite differences: right for tanh, wrong for a
    # gradient scaled by 2 (grad_scale leaves the value alone)
    rng = np.random.RandomState(0)
    T.verify_grad(lambda a: T.tanh(a) * 2, [rng.randn(3)], rng=rng)
    with pytest.raises(thx.gradient.GradientError):
        T.verify_grad(lambda a: thx.gradient.grad_scale(T.tanh(a), 2.0), [rng.randn(3)], rng=rng)


# ------------------------------------------------------------------ methods

def test_fill_and_take_methods_match_numpy():
    m = T.dmatrix("m")
    mv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(m.fill(7.0).eval({m: mv}), np.full_like(mv, 7.0))
    idx = np.array([3, 0, 0])
    np.testing.assert_array_equal(m.take(idx, axis=1).eval({m: mv}), np.take(mv, idx, axis=1))
    np.testing.assert_array_equal(m.take(idx).eval({m: mv}), np.take(mv, idx))
    np.testing.assert_array_equal(T.take(m, [5, -7], axis=0, mode="wrap").eval({m: mv}),
                                  np.take(mv, [5, -7], axis=0, mode="wrap"))
    np.testing.assert_array_equal(T.take(m, [9, -2], axis=1, mode="clip").eval({m: mv}),
                                  np.take(mv, [9, -2], axis=1, mode="clip"))
    with pytest.raises(ValueError, match="mode"):
        T.take(m, [0], mode="bogus")


# ------------------------------------------------------------------ reshape, multi-axis argmax

def test_reshape_symbolic_shape_without_ndim():
    x = T.dmatrix("x")
    n = T.lscalar("n")
    xv = np.arange(6.0).reshape(2, 3)
    cases = [(T.stack([n, -1]), 2, lambda: xv.reshape(3, -1)),
             (x.shape[::-1], 2, lambda: xv.reshape(3, 2)),
             (T.join(0, x.shape, [1]), 3, lambda: xv.reshape(2, 3, 1)),
             (x.shape[:1] * 6 // 2 // 2, 1, None)]
    for shp, ndim, ref in cases:
        r = T.reshape(x, shp)
        assert r.ndim == ndim
        if ref is not None:
            np.testing.assert_array_equal(thx.function([x, n], r, on_unused_input="ignore")(xv, 3),
                                          ref())
    with pytest.raises(ValueError, match="ndim"):
        T.reshape(x, T.lvector("s"))
    assert T.reshape(x, T.lvector("s"), ndim=3).ndim == 3


@pytest.mark.parametrize("axes", [(0, 1), (1, 2), (0, 2), [2, 0], (0, 1, 2), (-1, -2)])
def test_argmax_argmin_max_over_several_axes(axes):
    x = T.dtensor3("x")
    v = np.random.RandomState(1).randn(2, 3, 4)
    red = sorted(a % 3 for a in axes)
    keep = [d for d in range(3) if d not in red]
    # oracle: NumPy on the reduced axes moved last and flattened (Theano's definition)
    moved = np.transpose(v, keep + red).reshape([v.shape[d] for d in keep] + [-1])
    np.testing.assert_array_equal(T.argmax(x, axis=axes).eval({x: v}), np.argmax(moved, axis=-1))
    np.testing.assert_array_equal(x.argmin(axis=axes).eval({x: v}), np.argmin(moved, axis=-1))
    np.testing.assert_array_equal(T.max(x, axis=axes).eval({x: v}), np.max(v, axis=tuple(red)))
    np.testing.assert_array_equal(T.min(x, axis=axes, keepdims=True).eval({x: v}),
                                  np.min(v, axis=tuple(red), keepdims=True))
    assert T.argmax(x, axis=axes, keepdims=True).eval({x: v}).shape == np.min(
        v, axis=tuple(red), keepdims=True).shape


# ------------------------------------------------------------------ random streams

def test_permutation_is_a_permutation_per_row():
    srng = RandomStreams(seed=5)
    one = thx.function([], srng.permutation(n=6))
    p = one()
    assert p.shape == (6,) and sorted(p.tolist()) == list(range(6))
    many = thx.function([], srng.permutation(size=(3, 2), n=5))()
    assert many.shape == (3, 2, 5) and many.dtype == np.int64
    np.testing.assert_array_equal(np.sort(many, axis=-1), np.broadcast_to(np.arange(5), (3, 2, 5)))
    draws = np.array([one() for _ in range(40)])
    assert len({tuple(d) for d in draws}) > 20  # fresh permutations on each call
    # uniform over positions: each value lands in each position ~1/6 of the time
    assert np.all(np.abs((draws == 0).mean(axis=0) - 1 / 6) < 0.25)


def test_shuffle_row_elements_keeps_rows_and_exposes_permutation():
    srng = RandomStreams(seed=7)
    m = T.dmatrix("m")
    out = srng.shuffle_row_elements(m)
    f = thx.function([m], [out, out.permutation])
    mv = np.arange(20.0).reshape(4, 5)
    s, perm = f(mv)
    np.testing.assert_array_equal(s, np.take_along_axis(mv, perm, axis=1))  # NumPy oracle
    np.testing.assert_array_equal(np.sort(s, axis=1), mv)
    v = T.dvector("v")
    sv = thx.function([v], srng.shuffle_row_elements(v))(np.arange(8.0))
    np.testing.assert_array_equal(np.sort(sv), np.arange(8.0))


def test_choice_replace_and_p():
    srng = RandomStreams(seed=11)
    pop = np.array([10, 20, 30, 40, 50])
    without = thx.function([], srng.choice(size=(5,), a=pop, replace=False))()
    assert sorted(without.tolist()) == pop.tolist()  # no repeats: a permutation of a
    weighted = thx.function([], srng.choice(size=(4000,), a=3, replace=True, p=[0.2, 0.0, 0.8]))()
    freq = np.bincount(weighted, minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.2, 0.0, 0.8], atol=0.03)
    assert thx.function([], srng.choice(size=(2, 3), a=4))().shape == (2, 3)
