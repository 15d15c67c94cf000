"""theano.printing.Print inside jitted, recurrent-scan and debug-mode functions."""

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.compile.nanguardmode import NanGuardMode
from thx.compile.profiling import ProfileStats
from thx.printing import Print


@pytest.mark.parametrize("mode", [None, "profile", NanGuardMode()])
def test_print_inside_a_recurrent_scan(capsys, mode):
    h0 = T.dscalar("h0")
    hs, _ = thx.scan(lambda h: Print("h")(h) * 2 + 1, outputs_info=h0, n_steps=3)  # lax.scan, not a map
    kw = {"profile": ProfileStats(atexit_print=False)} if mode == "profile" else {"mode": mode}
    f = thx.function([h0], hs, **kw)
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(f(1.0), [3.0, 7.0, 15.0])  # h -> 2h + 1 from 1
    assert capsys.readouterr().out == "h __str__ = 1.0\nh __str__ = 3.0\nh __str__ = 7.0\n"
