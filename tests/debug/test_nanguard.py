"""NanGuardMode: the first node producing NaN / Inf / a big value is named; inputs are checked."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.nanguardmode import NanGuardMode


def test_names_the_first_bad_node():
    x = T.dvector("x")
    y = T.log(x)  # NaN for x < 0, -Inf for x == 0
    f = thx.function([x], T.exp(y * 2).sum(), mode=NanGuardMode(True, True, True), name="g")
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), 5.0)
    with pytest.raises(AssertionError, match=r"NaN in output 0 of node \d+, Elemwise\{log,no_inplace\}\(x\) "
                                             r"of thx function 'g'"):
        f(np.array([1.0, -1.0]))
    with pytest.raises(AssertionError, match=r"Inf in output 0 of node \d+, Elemwise\{log"):
        f(np.array([0.0, 1.0]))


def test_inputs_and_big_values():
    x = T.dvector("x")
    f = thx.function([x], x * 1e6, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True))
    with pytest.raises(AssertionError, match=r"NaN in input 0 \(x\)"):
        f(np.array([np.nan]))
    with pytest.raises(AssertionError, match=r"big value \(abs > 1e10\) in output 0 of node"):
        f(np.array([1e5]))  # 1e11 > 1e10, as Theano's threshold
    np.testing.assert_allclose(f(np.array([1e3])), [1e9])
    quiet = thx.function([x], x * 1e6, mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                          big_is_error=False))
    np.testing.assert_allclose(quiet(np.array([1e5])), [1e11])


def test_mode_name_and_updates_survive_a_failure():
    x = T.dscalar("x")
    s = thx.shared(np.float64(1.0))
    f = thx.function([x], T.sqrt(x), updates=[(s, s + 1)], mode="NanGuardMode")
    assert isinstance(f.maker.mode, NanGuardMode)
    assert float(f(4.0)) == 2.0 and float(s.get_value()) == 2.0
    with pytest.raises(AssertionError, match="NaN"):
        f(-1.0)
    assert float(s.get_value()) == 2.0  # the failed call stored no update
    assert thx.compile.FAST_RUN.excluding("local_useless_fill") == thx.compile.FAST_RUN.excluding(
        "local_useless_fill")
    assert isinstance(NanGuardMode().excluding("x"), NanGuardMode)


def test_integer_graphs_and_scan_outputs():
    i = T.lvector("i")
    assert thx.function([i], i * 2, mode=NanGuardMode())(np.array([3])).tolist() == [6]
    h0 = T.dscalar("h0")
    hs, _ = thx.scan(lambda h: T.log(h), outputs_info=h0, n_steps=3)  # log(log(0.5)) is NaN
    f = thx.function([h0], hs, mode=NanGuardMode())
    with pytest.raises(AssertionError, match=r"NaN in output 0 of node \d+, .*[Ss]can"):
        f(0.5)


def test_the_mode_flag_and_nanguard_flags():
    x = T.dvector("x")
    with thx.config.change_flags(mode="NanGuardMode", NanGuardMode__nan_is_error=False):
        f = thx.function([x], T.log(x))
    assert isinstance(f.maker.mode, NanGuardMode) and not f.maker.mode.nan_is_error
    assert np.isnan(f(np.array([-1.0]))[0])  # NaN is allowed now; -Inf still is not
    with pytest.raises(AssertionError, match="Inf in output 0"):
        f(np.array([0.0]))
