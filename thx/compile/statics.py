"""``function(..., static_argnames=...)``: the positions of the scalar inputs a function specialises on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
