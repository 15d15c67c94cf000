"""Counting the traces (= XLA compiles) of each jitted function, and the recompile warning.

``jax.jit`` traces its Python function once per distinct input signature
(shapes, dtypes, values of static arguments) and compiles each trace.
``counted`` wraps the traced function so that every trace increments a
``TraceCounter``; ``stats()`` sums them over the process.  When one function
has compiled for more than ``config.recompile_warn_threshold`` distinct
signatures, it warns once, naming the inputs whose values or shapes changed.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from thx.config import config

_TOTAL = {"traces": 0, "functions": 0}
_LOCAL = threading.local()  # .outer: the counter charged for traces of helpers (charging())


class RecompileWarning(UserWarning):
    """A compiled function keeps compiling again for new static values or input shapes."""


class TraceCounter:
    """How often one jitted function was traced, and for which signatures."""

    def __init__(self, names: Sequence[str], statics: Sequence[int]) -> None:
        self.names = list(names)
        self.statics = set(statics)
        self.count = 0
        self.signatures: list[tuple] = []
        self.warned = False
        # Whether an output of a trace was one of its inputs (JAX then returns the argument's
        # buffer as that output: jaxpr forwarding).  ``outputs_alias_inputs`` reads it.
        self.forwarded = False
        self.one_jit = False  # set by compile_graph: the function is this one jax.jit, no host code

    def outputs_alias_inputs(self) -> bool:
        """Whether an output of a call may share an argument's memory: unless the function is
        one ``jax.jit`` none of whose traces returned an input as it came (XLA gives every other
        output a buffer of its own: a non-donated parameter is never written, and a parameter
        returned as an output is copied), assume it may (``thx/compile/outputs.py``)."""
        return self.forwarded or not self.one_jit

    def record(self, args: Sequence[Any]) -> None:
        """One trace of the whole function for the inputs ``args``."""
        self.bump()
        self.note(self.signature(args))

    def signature(self, args: Sequence[Any]) -> tuple:
        """What decides a compilation: the static inputs' values, the other inputs' shapes and dtypes."""
        return tuple(_value_key(a) if k in self.statics else (tuple(np.shape(a)), str(getattr(a, "dtype", "")))
                     for k, a in enumerate(args))

    def note(self, sig: tuple) -> None:
        """One more signature compiled for; past ``config.recompile_warn_threshold`` signatures
        the function warns, once."""
        self.signatures.append(sig)
        limit = config.recompile_warn_threshold
        if not self.warned and limit and len(self.signatures) > limit:
            self.warned = True
            warnings.warn(self.message(), RecompileWarning, stacklevel=_user_stacklevel())

    def bump(self) -> None:
        """One trace of a part of the function (a segment between host barriers: its signature
        is not the function's, so no recompile warning comes from it)."""
        self.count += 1
        _TOTAL["traces"] += 1
        outer = getattr(_LOCAL, "outer", None)
        if outer is not None and outer is not self:
            outer.count += 1

    def varying(self) -> list[str]:
        """The inputs whose static value or shape differed between the traces."""
        out = []
        for k, name in enumerate(self.names):
            if len({s[k] for s in self.signatures if k < len(s)}) > 1:
                kind = "value" if k in self.statics else "shape"
                out.append(f"{name} ({kind})")
        return out

    def message(self) -> str:
        return (f"thx function compiled {len(self.signatures)} times (config.recompile_warn_threshold = "
                f"{config.recompile_warn_threshold}): each new value of a static input and each new "
                f"input shape compiles it again. Changing: {', '.join(self.varying()) or 'unknown'}. "
                f"A slice whose length is fixed (x[i * k:(i + 1) * k]) compiles once for every i; see "
                f"docs/shapes.md.")


def _user_stacklevel() -> int:
    """``warnings.warn``'s stacklevel that points at the user's call (the first frame outside thx
    and JAX), so the warning names the line calling the function."""
    import os
    import sys
    skip = tuple(os.path.dirname(m.__file__) for m in (sys.modules["thx"], sys.modules["jax"]))
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame, level = frame.f_back, level + 1
    return level


def _value_key(a: Any) -> Any:
    try:
        return np.asarray(a).item()
    except (TypeError, ValueError):
        return repr(a)


@contextmanager
def charging(counter: TraceCounter):
    """Traces of other jitted functions in this thread (an ifelse branch compiled on the host)
    also count on ``counter``, the function they run for."""
    saved = getattr(_LOCAL, "outer", None)
    _LOCAL.outer = counter if saved is None else saved
    try:
        yield
    finally:
        _LOCAL.outer = saved


def new_counter(names: Sequence[str], statics: Sequence[int]) -> TraceCounter:
    """The trace counter of one more lowered function."""
    _TOTAL["functions"] += 1
    return TraceCounter(names, statics)


def counted(run: Callable[..., Any], names: Sequence[str], statics: Sequence[int],
            counter: TraceCounter | None = None) -> tuple[Callable[..., Any], TraceCounter]:
    """``run`` counting its own traces (each call of the Python function under ``jax.jit`` is one)."""
    if counter is None:
        counter = new_counter(names, statics)

    def traced(*args):
        counter.record(args)
        outs = run(*args)
        if not counter.forwarded:
            flat = [o for v in (outs if isinstance(outs, (tuple, list)) else (outs,))
                    for o in (v if isinstance(v, (tuple, list)) else (v,))]
            counter.forwarded = any(o is a for o in flat for a in args)
        return outs

    return traced, counter


def stats() -> dict[str, int]:
    """Process-wide counts: ``traces`` (jax traces, each one XLA compile) and ``functions`` lowered.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> from thx.lowering.compiles import stats
    >>> before = stats()['traces']
    >>> x = T.dvector('x')
    >>> f = thx.function([x], x * 3.0)
    >>> _ = f([1.0]), f([2.0]), f([1.0, 2.0])
    >>> stats()['traces'] - before
    2
    """
    return dict(_TOTAL)
