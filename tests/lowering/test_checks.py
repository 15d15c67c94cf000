"""Run-time checks (thx/lowering/checks.py) and the index check, against NumPy.

Every out-of-range case is checked against the IndexError NumPy raises on the
same indexing; every in-range case against NumPy's value.
"""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.config import config
from thx.ifelse import ifelse
from thx.lowering import checks
from thx.lowering.linker import x64
from thx.scan import until

V = np.arange(3.0) * 10 + 1
M = np.arange(6.0).reshape(2, 3)


def numpy_error(fn) -> str:
    """The message of the IndexError NumPy raises (the test fails if it raises none)."""
    with pytest.raises(IndexError) as e:
        fn()
    return str(e.value)


def raises_like_numpy(thx_call, numpy_call) -> None:
    msg = numpy_error(numpy_call)
    with pytest.raises(IndexError, match=re.escape(msg)):
        thx_call()


# ------------------------------------------------------------------ the runtime_check API

def test_concrete_check_raises_at_once():
    with pytest.raises(KeyError, match="bad 3"):
        checks.runtime_check(np.bool_(True), KeyError, "bad {}", 3)
    checks.runtime_check(False, KeyError, "never")  # a passing concrete check does nothing


def test_traced_check_returns_a_status_raised_on_the_host():
    def f(i):
        checks.runtime_check(i > 2, OverflowError, "i is {}", i)
        checks.runtime_check(i > 1, ZeroDivisionError, "second {}", i)
        return (i * 2,)
    g = jax.jit(checks.checked(f))
    with x64(True):
        assert len(g(0)) == 3
        assert checks.split_status(g(0), 1)[0] == 0
        with pytest.raises(ZeroDivisionError, match="second 2"):
            checks.split_status(g(2), 1)
        with pytest.raises(OverflowError, match="i is 5"):  # the first failing check wins
            checks.split_status(g(5), 1)


def test_no_checks_no_status():
    g = jax.jit(checks.checked(lambda x: (x + 1,)))
    assert len(g(1.0)) == 1
    x = T.dvector("x")
    f = thx.function([x], x * 2)
    with x64(True):
        assert len(f.jax_fn(V)) == 1


def test_check_outside_a_collector_is_not_reported():
    out = jax.jit(lambda i: checks.runtime_check(i > 0, ValueError, "x") or i)(3)
    assert int(out) == 3


# ------------------------------------------------------------------ reading

@pytest.mark.parametrize("k", [0, 2, -1, -3])
def test_read_in_range_matches_numpy(k):
    v, i = T.dvector("v"), T.lscalar("i")
    assert thx.function([v, i], v[i])(V, k) == V[k]


@pytest.mark.parametrize("k", [3, 7, -4, -100])
def test_read_scalar_index_out_of_range(k):
    v, i = T.dvector("v"), T.lscalar("i")
    f = thx.function([v, i], v[i])
    raises_like_numpy(lambda: f(V, k), lambda: V[k])


def test_read_second_axis():
    x, i = T.dmatrix("x"), T.lscalar("i")
    f = thx.function([x, i], x[1, i])
    assert f(M, -1) == M[1, -1]
    raises_like_numpy(lambda: f(M, 3), lambda: M[1, 3])


def test_read_constant_index_out_of_range():
    v = T.dvector("v")
    f = thx.function([v], v[7])
    raises_like_numpy(lambda: f(V), lambda: V[7])


@pytest.mark.parametrize("idx", [[0, 1], [1, -2, 0], []])
def test_advanced_read_in_range(idx):
    x, l = T.dmatrix("x"), T.lvector("l")
    np.testing.assert_array_equal(thx.function([x, l], x[l])(M, idx), M[np.array(idx, dtype=int)])


@pytest.mark.parametrize("idx", [[0, 4], [-3, 0], [2, 5, -7]])
def test_advanced_read_out_of_range(idx):
    x, l = T.dmatrix("x"), T.lvector("l")
    f = thx.function([x, l], x[l])
    # NumPy names the first bad index; thx the most negative bad one if any, else the largest
    a = np.array(idx)
    bad = a.min() if a.min() < -2 else a.max()
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis 0 with size 2"):
        f(M, idx)
    numpy_error(lambda: M[a])


def test_advanced_read_of_a_column_index():
    x, l = T.dmatrix("x"), T.lvector("l")
    f = thx.function([x, l], x[:, l])
    np.testing.assert_array_equal(f(M, [2, 0]), M[:, [2, 0]])
    raises_like_numpy(lambda: f(M, [3]), lambda: M[:, [3]])


# ------------------------------------------------------------------ writing

@pytest.mark.parametrize("setting", [True, False])
def test_set_inc_scalar_index(setting):
    v, i, y = T.dvector("v"), T.lscalar("i"), T.dscalar("y")
    op = T.set_subtensor if setting else T.inc_subtensor
    f = thx.function([v, i, y], op(v[i], y))

    def ref(k):
        out = V.copy()
        if setting:
            out[k] = 5.0
        else:
            out[k] += 5.0
        return out
    for k in (0, -1, 2):
        np.testing.assert_array_equal(f(V, k, 5.0), ref(k))
    for k in (3, -4):
        raises_like_numpy(lambda: f(V, k, 5.0), lambda: ref(k))


@pytest.mark.parametrize("setting", [True, False])
def test_set_inc_advanced_index(setting):
    v, l = T.dvector("v"), T.lvector("l")
    op = T.set_subtensor if setting else T.inc_subtensor
    f = thx.function([v, l], op(v[l], 1.0))

    def ref(idx):
        out = V.copy()
        if setting:
            out[idx] = 1.0
        else:
            np.add.at(out, idx, 1.0)
        return out
    np.testing.assert_array_equal(f(V, [0, 2, 0]), ref([0, 2, 0]))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        f(V, [0, 3])
    numpy_error(lambda: ref([0, 3]))


def test_gradient_of_an_index_checks_too():
    v, i = T.dvector("v"), T.lscalar("i")
    f = thx.function([v, i], T.grad(v[i] ** 2, v))
    np.testing.assert_array_equal(f(V, 1), [0, 2 * V[1], 0])
    with pytest.raises(IndexError, match="index 9 is out of bounds"):
        f(V, 9)


# ------------------------------------------------------------------ inside scan and ifelse

def test_in_a_map_scan():
    v, l = T.dvector("v"), T.lvector("l")
    out, _ = thx.scan(lambda k, vv: vv[k] * 2, sequences=[l], non_sequences=[v])
    f = thx.function([v, l], out)
    np.testing.assert_array_equal(f(V, [0, 2, -1]), V[[0, 2, -1]] * 2)
    raises_like_numpy(lambda: f(V, [0, 5, 1]), lambda: V[5])


def test_in_a_recurrent_scan():
    v, l = T.dvector("v"), T.lvector("l")
    out, _ = thx.scan(lambda k, acc, vv: acc + vv[k], sequences=[l],
                      outputs_info=[T.constant(0.0, dtype="float64")], non_sequences=[v])
    f = thx.function([v, l], out)
    np.testing.assert_array_equal(f(V, [0, 2, 1]), np.cumsum(V[[0, 2, 1]]))
    raises_like_numpy(lambda: f(V, [0, 1, -9]), lambda: V[-9])


def test_in_a_scan_writing_with_inc_subtensor():
    v, l = T.dvector("v"), T.lvector("l")
    out, _ = thx.scan(lambda k, acc: T.inc_subtensor(acc[k], 1.0), sequences=[l], outputs_info=[v])
    f = thx.function([v, l], out[-1])
    ref = V.copy()
    np.add.at(ref, [0, 2, 2], 1.0)
    np.testing.assert_array_equal(f(V, [0, 2, 2]), ref)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        f(V, [0, 3])


def test_in_an_until_scan_and_the_segment_after_it():
    v, i = T.dvector("v"), T.lscalar("i")
    out, _ = thx.scan(lambda acc, vv, k: (acc + vv[k], until(acc > 25)),
                      outputs_info=[T.constant(0.0, dtype="float64")], non_sequences=[v, i],
                      n_steps=10)
    f = thx.function([v, i], out)
    np.testing.assert_array_equal(f(V, 2), [21.0, 42.0, 63.0])  # (until sees the old acc)
    raises_like_numpy(lambda: f(V, 3), lambda: V[3])
    j = T.lscalar("j")
    after = j + T.cast(out[-1] > 100, "int64")  # an index computed after the loop: next segment
    g = thx.function([v, i, j], v[after])
    assert g(V, 2, -3) == V[-3]
    with pytest.raises(IndexError, match="index -4 is out of bounds"):
        g(V, 2, -4)


def test_in_ifelse_only_the_taken_branch_checks():
    v, i, c = T.dvector("v"), T.lscalar("i"), T.lscalar("c")
    f = thx.function([v, i, c], ifelse(c, v[i], v[0] * 2))
    assert f(V, 2, 1) == V[2]
    assert f(V, 9, 0) == V[0] * 2  # lazy, as Theano: the untaken branch's index is not checked
    raises_like_numpy(lambda: f(V, 9, 1), lambda: V[9])


# ------------------------------------------------------------------ a failed call changes nothing

def test_failed_call_keeps_shared_values_and_in_containers():
    s = thx.shared(V.copy(), name="s")
    acc = T.dscalar("acc")
    i = T.lscalar("i")
    f = thx.function([i, thx.In(acc, value=0.0, update=acc + s[i])], s[i],
                     updates=[(s, s + 1)])
    f(1)
    np.testing.assert_array_equal(s.get_value(), V + 1)
    before_c = float(f._containers[1])
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        f(5)
    np.testing.assert_array_equal(s.get_value(), V + 1)
    assert float(f._containers[1]) == before_c == V[1]
    f(0)
    np.testing.assert_array_equal(s.get_value(), V + 2)
    assert float(f._containers[1]) == V[1] + V[0] + 1
    # the jitted function itself returns the old values as updates when a check fails, so an
    # update whose input buffer is donated keeps its value too
    with x64(True):
        outs = f.jax_fn(np.int64(5), np.float64(7.0), s.get_value())
    np.testing.assert_array_equal(outs[1], V + 2)
    assert float(outs[2]) == 7.0


# ------------------------------------------------------------------ the flag

def test_flag_off_skips_the_check_and_is_part_of_the_cache_key():
    def build():
        v, i = T.dvector("v"), T.lscalar("i")
        return thx.function([v, i], v[i])
    on = build()
    with config.change_flags(check_index=False):
        off = build()
        assert off.jax_fn is not on.jax_fn
        assert off(V, 1) == V[1]
        off(V, 7)  # no check: XLA clamps, no error
    again = build()
    assert again.jax_fn is on.jax_fn
    with pytest.raises(IndexError):
        again(V, 7)


def test_flag_off_in_scan_steps():
    v, l = T.dvector("v"), T.lvector("l")
    out, _ = thx.scan(lambda k, vv: vv[k], sequences=[l], non_sequences=[v])
    with config.change_flags(check_index=False):
        f = thx.function([v, l], out)
    g = thx.function([v, l], out)
    f(V, [0, 7])
    with pytest.raises(IndexError):
        g(V, [0, 7])


def test_keep_on_failure_returns_the_argument_when_a_check_fails():
    def run(w, i):
        checks.runtime_check(i > 0, IndexError, "bad {}", i)
        return (w + 1,)
    g = jax.jit(checks.checked(run, keep_on_failure=[(0, 0)]))
    with x64(True):
        w = np.arange(3.0)
        np.testing.assert_array_equal(g(w, 0)[0], w + 1)
        out = g(w, 4)
        np.testing.assert_array_equal(out[0], w)  # a donated buffer would keep its old value
        with pytest.raises(IndexError, match="bad 4"):
            checks.split_status(out, 1)


def test_two_index_vectors_and_a_matrix_of_indices():
    x, l, m = T.dmatrix("x"), T.lvector("l"), T.lvector("m")
    f = thx.function([x, l, m], x[l, m])
    np.testing.assert_array_equal(f(M, [0, 1], [2, -3]), M[[0, 1], [2, -3]])
    raises_like_numpy(lambda: f(M, [0, 1], [2, 3]), lambda: M[[0, 1], [2, 3]])
    k = T.lmatrix("k")
    g = thx.function([x, k], x[k])
    np.testing.assert_array_equal(g(M, [[0, 1], [1, 1]]), M[np.array([[0, 1], [1, 1]])])
    raises_like_numpy(lambda: g(M, [[0, 1], [2, 1]]), lambda: M[np.array([[0, 1], [2, 1]])])


def test_take_raise_mode_checks_and_wrap_mode_does_not_need_to():
    v, l = T.dvector("v"), T.lvector("l")
    f = thx.function([v, l], T.take(v, l))
    raises_like_numpy(lambda: f(V, [1, 3]), lambda: np.take(V, [1, 3]))
    g = thx.function([v, l], T.take(v, l, mode="wrap"))
    np.testing.assert_array_equal(g(V, [1, 3, -5]), np.take(V, [1, 3, -5], mode="wrap"))


def test_the_flag_from_thx_flags(tmp_path):
    with config.change_flags(check_index=True):  # restored afterwards
        config.load({"THX_FLAGS": "check_index=False", "THXRC": str(tmp_path / "none")})
        assert config.check_index is False
        assert config.source("check_index") == "THX_FLAGS"
