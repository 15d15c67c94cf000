"""``theano.misc.pkl_utils``: models saved as a zip of a pickle and ``.npy`` members."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.misc.pkl_utils import (PersistentNdarrayID, StripPickler, dump, load)

R = np.random.RandomState(6)


def test_a_trained_model_round_trips_with_named_members():
    W = thx.shared(R.randn(3, 2), name="W")
    b = thx.shared(np.zeros(2), name="b")
    x = T.dmatrix("x")
    cost = T.sum(T.tanh(T.dot(x, W) + b) ** 2)
    step = thx.function([x], cost, updates=[(p, p - 0.1 * g) for p, g in zip([W, b], thx.grad(cost, [W, b]))])
    data = R.randn(5, 3)
    for _ in range(3):
        step(data)  # the values now live on the device, updated
    buf = io.BytesIO()
    dump({"params": [W, b], "epoch": 3, "mean": np.arange(4.)}, buf)
    members = np.load(io.BytesIO(buf.getvalue()))
    assert sorted(members.keys()) == ["W", "array_0", "b", "pkl"]
    np.testing.assert_array_equal(members["W"], W.get_value())
    np.testing.assert_array_equal(members["b"], b.get_value())
    saved = load(io.BytesIO(buf.getvalue()))
    W2, b2 = saved["params"]
    assert saved["epoch"] == 3 and W2.name == "W"
    np.testing.assert_array_equal(W2.get_value(), W.get_value())
    f = thx.function([x], T.dot(x, W2) + b2)  # the loaded variables work in a new function
    np.testing.assert_allclose(f(data), data @ W.get_value() + b.get_value())


def test_names_duplicates_and_errors():
    a1, a2 = thx.shared(np.ones(2), name="a"), thx.shared(np.zeros(2), name="a")
    buf = io.BytesIO()
    dump([a1, a2, thx.shared(np.ones(1))], buf)
    assert sorted(zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()) == ["a", "a_2", "array_0", "pkl"]

    from functools import partial

    from thx.misc.pkl_utils import PersistentSharedVariableID
    with pytest.raises(ValueError, match="multiple shared variables with the name `a`"):
        dump([a1, a2], io.BytesIO(), persistent_id=partial(PersistentSharedVariableID, allow_duplicates=False))
    with pytest.raises(ValueError, match="unnamed shared variable"):
        dump([thx.shared(1.0)], io.BytesIO(), persistent_id=partial(PersistentSharedVariableID, allow_unnamed=False))
    with pytest.raises(ValueError, match="name `pkl`"):
        dump(thx.shared(np.ones(1), name="pkl"), io.BytesIO())
    plain = io.BytesIO()
    dump([a1, np.arange(3)], plain, persistent_id=PersistentNdarrayID)
    assert sorted(zipfile.ZipFile(io.BytesIO(plain.getvalue())).namelist()) == ["array_0", "array_1", "pkl"]


def test_strip_pickler_drops_debugging_tags():
    x = T.dvector("x")
    x.tag.test_value = np.ones(3)
    y = x * 2
    buf = io.BytesIO()
    StripPickler(buf, protocol=-1).dump(y)
    y2 = pickle.loads(buf.getvalue())
    x2 = y2.owner.inputs[0]
    assert not hasattr(x2.tag, "test_value")
    assert hasattr(x.tag, "test_value")  # the pickled graph itself keeps its tags
    np.testing.assert_array_equal(thx.function([x2], y2)(np.arange(3.)), [0., 2., 4.])
