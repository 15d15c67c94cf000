"""Functions whose calls pass through wrappers: the profiler, DebugMode's checks.

A compile hook that wants to see every call of a function ``f`` calls
``wrap_call(f, wrapper)``; ``f`` then becomes an ``InstrumentedFunction``
whose ``__call__`` runs ``wrapper(f, call, args, kwargs)``, where ``call``
is the plain call (or the next wrapper).  Plain functions keep
``Function.__call__``, the hot path, untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from thx.compile.function import Function

Wrapper = Callable[[Function, Callable[..., Any], tuple, dict], Any]


class InstrumentedFunction(Function):
    """A ``Function`` whose calls go through ``self._call_wrappers`` (outermost last)."""

    _call_wrappers: list[Wrapper]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call: Callable[..., Any] = partial(Function.__call__, self)
        for w in self._call_wrappers:
            call = partial(_run, w, self, call)
        return call(*args, **kwargs)


def _run(wrapper: Wrapper, f: Function, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return wrapper(f, call, args, kwargs)


def wrap_call(f: Function, wrapper: Wrapper) -> None:
    """Make every call of ``f`` go through ``wrapper(f, call, args, kwargs)``."""
    if not isinstance(f, InstrumentedFunction):
        f.__class__ = InstrumentedFunction
        f._call_wrappers = []
    f._call_wrappers.append(wrapper)


def call_values(f: Function, args: tuple, kwargs: dict) -> list[Any]:
    """The values a call of ``f`` with these arguments computes on: checked inputs, then shared values."""
    vals = f._fill(args, kwargs) if kwargs or len(args) != f._n_in else list(args)
    return [f._check(k, a) for k, a in enumerate(vals)] + [s._value for s in f._shared]
