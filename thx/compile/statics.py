"""Static arguments of a compiled function: ``static_argnames``, their values, the trace count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def static_positions(inputs: Sequence[Any], names: Sequence[Any] | None) -> tuple[int, ...]:
    """The positions of the inputs named (or given as variables) in ``static_argnames``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx.compile import In
    >>> x, k = T.dvector('x'), T.lscalar('k')
    >>> static_positions([In(x), In(k)], ['k'])
    (1,)
    """
    out = []
    for want in names or ():
        k = next((k for k, i in enumerate(inputs) if want is i.variable or (isinstance(want, str)
                                                                           and want == i.name)), None)
        if k is None:
            raise ValueError(f"static_argnames: {want!r} is not an input of this function (inputs: "
                             f"{[i.name or str(i.variable) for i in inputs]})")
        if getattr(inputs[k].variable.type, "ndim", None) != 0:
            raise TypeError(f"static_argnames: input {want!r} has type {inputs[k].variable.type}; "
                            f"only scalars can be static (their value is part of the compiled code)")
        out.append(k)
    return tuple(sorted(set(out)))


def with_statics(key: Any, inputs: Sequence[Any], names: Sequence[Any] | None) -> tuple[Any, tuple]:
    """``(compile-cache key, positions)`` of a graph compiled with ``static_argnames=names``."""
    positions = static_positions(inputs, names)
    return ((key, positions) if key is not None and positions else key), positions


def static_value(dtype: Any, v: Any, positions: Sequence[int] | None = None) -> Any:
    """A static argument as a NumPy scalar of its input's dtype: hashable (``jax.jit`` keys its
    cache on it), and host-side arithmetic on it follows the graph's dtypes.  With ``positions``:
    ``dtype`` maps positions to dtypes and ``v`` is the argument list, converted there.

    Examples
    --------
    >>> static_value(np.dtype('int8'), 127)
    np.int8(127)
    """
    if positions is not None:
        for k in positions:
            v[k] = static_value(dtype[k], v[k])
        return v
    return dtype.type(np.asarray(v).item())


def traces_of(jitted: Any) -> int:
    """How often the jitted function was traced (= compiled by XLA); 0 if it does not count."""
    counter = getattr(jitted, "trace_counter", None)
    return counter.count if counter is not None else 0


class StaticArgs:
    """Converts a function's static arguments (explicit and shared) to NumPy scalars."""

    def __init__(self, maker: Any, statics: Sequence[int], fgraph: Any = None,
                 first_shared: int | None = None) -> None:
        """``fgraph``/``first_shared``: another graph of the function (the bucketed one, whose
        shared variables come after the true lengths) and the position of its first shared input."""
        fgraph = maker.fgraph if fgraph is None else fgraph
        first_shared = len(maker.inputs) if first_shared is None else first_shared
        self.dtypes = {k: np.dtype(fgraph.inputs[k].dtype) for k in statics}
        self.shared_positions = [k for k in statics if k >= first_shared]

    def one(self, k: int, v: Any) -> Any:
        return static_value(self.dtypes[k], v)

    def shared(self, vals: list) -> list:
        return static_value(self.dtypes, vals, self.shared_positions)
