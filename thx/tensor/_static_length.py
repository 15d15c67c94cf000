"""The length of a symbolic vector when the graph alone decides it (``reshape`` without ``ndim``)."""

from __future__ import annotations

from thx.graph.basic import Constant, Variable


def static_length(v: Variable) -> int | None:
    """The length of the vector ``v`` if it is known when the graph is built, else None.

    Follows constants, ``MakeVector`` (``T.stack`` of scalars), ``Shape``
    (``x.shape`` has ``x.ndim`` entries), slices with constant bounds of such
    vectors (``x.shape[::-1]``, ``x.shape[:2]``), joins, elementwise ops and
    casts of them.

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx.tensor._static_length import static_length
    >>> x = T.dtensor3('x')
    >>> static_length(x.shape[::-1]), static_length(T.lvector('n'))
    (3, None)
    """
    from thx.tensor.basic import Join, MakeVector, Shape
    from thx.tensor.elemwise import Elemwise
    from thx.tensor.subtensor import Subtensor
    if getattr(v, "ndim", None) != 1:
        return None
    if v.broadcastable[0]:
        return 1
    if isinstance(v, Constant):
        return len(v.data)
    node = v.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, MakeVector):
        return len(node.inputs)
    if isinstance(op, Shape):
        return node.inputs[0].ndim
    if isinstance(op, Join):
        parts = [static_length(p) for p in node.inputs]
        return None if None in parts else sum(parts)  # type: ignore[arg-type]
    if isinstance(op, Elemwise):
        for i in node.inputs:
            n = static_length(i)
            if n is not None:
                return n
        return None
    if isinstance(op, Subtensor) and len(op.idx_list) == 1 and isinstance(op.idx_list[0], tuple):
        bounds = op.idx_list[0][1:]
        n = static_length(node.inputs[0])
        if n is None or "?" in bounds:
            return None
        return len(range(n)[slice(*bounds)])
    return None
