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


def with_statics(key: Any, positions: tuple[int, ...]) -> Any:
    """The compile-cache key of a graph compiled with ``static_argnames`` at ``positions``."""
    return (key, positions) if key is not None and positions else key


def static_value(dtype: np.dtype, v: Any) -> Any:
    """A static argument as a NumPy scalar of its input's dtype: hashable (``jax.jit`` keys its
    cache on it), and host-side arithmetic on it follows the graph's dtypes.

    Examples
    --------
    >>> static_value(np.dtype('int8'), 127)
    np.int8(127)
    """
    return dtype.type(np.asarray(v).item())


def traces_of(jitted: Any) -> int:
    """How often the jitted function was traced (= compiled by XLA); 0 if it does not count."""
    counter = getattr(jitted, "trace_counter", None)
    return counter.count if counter is not None else 0
