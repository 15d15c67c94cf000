"""``theano.updates.OrderedUpdates``: scan's updates, union, collisions, and use in function."""

from __future__ import annotations

import numpy as np
import pytest

import thx
import thx.tensor as T
from thx.updates import OrderedUpdates


def test_scan_returns_ordered_updates_a_function_applies():
    from thx.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=1)
    _, upd = thx.scan(lambda: srng.uniform((2,)), n_steps=3)
    assert isinstance(upd, OrderedUpdates) and len(upd) == 1
    count = thx.shared(0.0, name="count")
    more = OrderedUpdates([(count, count + 1)])
    both = upd + more
    assert list(both) == list(upd) + [count]
    f = thx.function([], [], updates=both)
    f()
    f()
    assert count.get_value() == 2.0


def test_union_collision_and_key_type():
    a, b = thx.shared(1.0, name="a"), thx.shared(2.0, name="b")
    ua = OrderedUpdates([(a, a * 2)])
    same = OrderedUpdates(ua)
    assert list((ua + same).items()) == list(ua.items())  # the same pair twice is one
    with pytest.raises(KeyError, match="Collision"):
        ua + OrderedUpdates([(a, a * 3)])
    with pytest.raises(TypeError, match="keys must inherit from SharedVariable"):
        OrderedUpdates([(T.dscalar(), 1.0)])
    with pytest.raises(TypeError, match="keys must inherit from SharedVariable"):
        ua[b * 2] = 0
    merged = [(b, b + 1)] + ua  # __radd__: the left pairs first
    assert isinstance(merged, OrderedUpdates) and list(merged) == [b, a]
    thx.function([], [], updates=merged)()
    np.testing.assert_array_equal([a.get_value(), b.get_value()], [2.0, 3.0])
