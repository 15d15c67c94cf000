"""Theano's ``theano.updates``: ``OrderedUpdates``, the ``{shared variable: new value}`` mapping
``scan`` returns and ``theano.function(updates=...)`` accepts.

Python's dicts keep insertion order, so Theano's warnings about building one from an unordered
``dict`` are gone; everything else is Theano's: keys must be shared variables, ``update`` refuses
a second, different value for a key (``KeyError('Collision', key)``), and ``a + b`` is the union.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from thx.tensor.sharedvar import SharedVariable

__all__ = ["OrderedUpdates"]


class OrderedUpdates(OrderedDict):
    """Mapping from SharedVariable keys to their new values; ``+`` is the union.

    Examples
    --------
    >>> import thx
    >>> w = thx.shared(1.0, name='w')
    >>> u = OrderedUpdates([(w, w * 2)])
    >>> list(u)
    [w]
    >>> u[w * 2] = 0
    Traceback (most recent call last):
    ...
    TypeError: ('OrderedUpdates keys must inherit from SharedVariable', Elemwise{mul,no_inplace}.0)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in self:
            if not isinstance(key, SharedVariable):
                raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, SharedVariable):
            raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)
        super().__setitem__(key, value)

    def update(self, other: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Add ``other``'s pairs; a key already present with another value raises
        ``KeyError('Collision', key)``."""
        if other is None:
            return
        for key, val in OrderedDict(other).items():
            if key in self:
                if self[key] is val or self[key] == val:
                    continue
                raise KeyError("Collision", key)
            self[key] = val

    def __add__(self, other: Any) -> OrderedUpdates:
        rval = OrderedUpdates()
        rval.update(self)
        rval.update(other)
        return rval

    def __radd__(self, other: Any) -> OrderedUpdates:
        rval = OrderedUpdates()
        rval.update(other)
        rval.update(self)
        return rval
