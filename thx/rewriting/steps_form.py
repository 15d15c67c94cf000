"""A loop length as a normal form, so that two scans proven to run the same number of steps merge.

``n_steps`` is an integer expression over array lengths: ``X.shape[0]``,
``minimum(X.shape[0], Y.shape[0])`` (several sequences), ``max(X.shape[0] - 1, 0)``
(a sequence read with taps ``[0, 1]``), the length of a slice ``X[1:]``.  Two
such expressions can differ as graphs and be equal as numbers.  Here each
becomes a *max of mins of linear forms* over atoms (``dim(X, 0)``, or any
other integer value): sums distribute over min and max, negation swaps them,
a slice's length is Python's rule written with min and max, and a term that
can never decide a min or max is dropped (lengths are >= 0).  Equal forms mean
equal values; unequal forms mean "not proven" (the rewrite then leaves the
scans alone).
"""

from __future__ import annotations

from itertools import product
from typing import Any

from thx.graph.basic import Constant, Variable
from thx.tensor.intform import linear_form

Lin = tuple[frozenset, int]  # ({(atom, coefficient)}, constant)
Form = frozenset  # of frozensets of Lin: max over the outer set of the min over each inner set


def steps_form(v: Variable) -> Form:
    """The normal form of integer scalar ``v``.

    Examples
    --------
    >>> import thx.tensor as T
    >>> X = T.dmatrix('X')
    >>> n = X.shape[0]
    >>> steps_form(T.minimum(n, n)) == steps_form(n)
    True
    >>> steps_form(X[1:].shape[0]) == steps_form(T.maximum(n - 1, 0))
    True
    >>> steps_form(X[2:].shape[0]) == steps_form(n)
    False
    """
    return _form(v, 0)


def _lin(terms: dict, c: int) -> Form:
    return frozenset([frozenset([(frozenset(terms.items()), c)])])


def _const(c: int) -> Form:
    return _lin({}, c)


def _form(v: Variable, depth: int) -> Form:
    terms, c = linear_form(v)
    out = _const(c)
    for atom, k in terms.items():
        a = _atom_form(atom, depth)
        out = _add(out, a if k == 1 else _scale(a, k))
    return _simplify(out)


def _atom_form(v: Variable, depth: int) -> Form:
    node = v.owner
    if depth < 30 and node is not None:
        name = getattr(getattr(node.op, "scalar_op", None), "name", None)
        if name in ("minimum", "maximum") and len(node.inputs) == 2 and v.ndim == 0:
            a, b = (_form(i, depth + 1) for i in node.inputs)
            return _simplify(_min(a, b) if name == "minimum" else a | b)
        entry = _vector_entry(v)
        if entry is not None:
            return _form(entry, depth + 1)
        dim = _dim_of(v)
        if dim is not None:
            return _length(*dim, depth)
    return _lin({("atom", v): 1}, 0)


def _vector_entry(v: Variable) -> Variable | None:
    """``a`` if ``v`` is ``MakeVector(..., a, ...)[k]`` (an inferred shape), seen through Rebroadcast."""
    from thx.tensor.shape import MakeVector, Rebroadcast
    from thx.tensor.subtensor import Subtensor
    node = v.owner
    if node is None or type(node.op) is not Subtensor or len(node.op.idx_list) != 1:
        return None
    k = node.op.idx_list[0]
    src = node.inputs[0]
    while src.owner is not None and type(src.owner.op) is Rebroadcast:
        src = src.owner.inputs[0]
    if not isinstance(k, int) or isinstance(k, bool) or src.owner is None or type(src.owner.op) is not MakeVector:
        return None
    ins = src.owner.inputs
    return ins[k] if -len(ins) <= k < len(ins) else None


def _dim_of(v: Variable) -> tuple[Variable, int] | None:
    """``(x, k)`` if ``v`` is ``x.shape[k]`` (``Subtensor{k}(Shape(x))``)."""
    from thx.tensor.shape import Shape
    from thx.tensor.subtensor import Subtensor
    node = v.owner
    if node is None or type(node.op) is not Subtensor or len(node.op.idx_list) != 1:
        return None
    k = node.op.idx_list[0]
    if k == "?":
        k = _int(node.inputs[1]) if len(node.inputs) == 2 else None
    src = node.inputs[0].owner
    if not isinstance(k, int) or isinstance(k, bool) or src is None or type(src.op) is not Shape:
        return None
    x = src.inputs[0]
    return (x, k % x.ndim) if -x.ndim <= k < x.ndim else None


def _int(v: Variable) -> int | None:
    return int(v.data) if isinstance(v, Constant) and v.ndim == 0 and str(v.dtype)[:3] in ("int", "uin") else None


def _length(x: Variable, k: int, depth: int) -> Form:
    """``x.shape[k]``: through slices on axis ``k`` (Python's length rule) and elementwise ops."""
    from thx.tensor.elemwise import Elemwise
    from thx.tensor.subtensor import Subtensor
    node = x.owner
    if node is not None and type(node.op) is Subtensor and k == 0:
        bounds = _slice_bounds(node)
        if bounds is not None:
            return _slice_length(_length(node.inputs[0], 0, depth + 1), *bounds)
    if node is not None and isinstance(node.op, Elemwise) and not x.broadcastable[k]:
        for i in node.inputs:  # the run-time check makes every unbroadcast input this long
            if i.ndim == x.ndim and not i.broadcastable[k]:
                return _length(i, k, depth + 1)
    return _lin({("dim", x, k): 1}, 0)


def _slice_bounds(node) -> tuple[int | None, int | None] | None:
    """Constant ``(start, stop)`` of a ``x[start:stop]`` on axis 0 with step 1, else None."""
    e = node.op.idx_list[0]
    if not isinstance(e, tuple):
        return None
    rest = iter(node.inputs[1:])
    vals = []
    for p in e[1:]:
        if p == "?":
            p = _int(next(rest))
            if p is None:
                return None
        vals.append(p)
    start, stop, step = vals
    return (start, stop) if step in (None, 1) else None


def _slice_length(n: Form, start: int | None, stop: int | None) -> Form:
    """``len(range(n)[start:stop])`` = ``max(stop' - start', 0)`` with Python's clamping."""
    def clamp(i: int | None, default: Form) -> Form:
        if i is None:
            return default
        if i >= 0:
            return _min(_const(i), n)
        return _add(n, _const(i)) | _const(0)
    return _simplify(_add(clamp(stop, n), _neg(clamp(start, _const(0)))) | _const(0))


def _min(a: Form, b: Form) -> Form:  # min(max_i A_i, max_j B_j) = max_ij min(A_i, B_j)
    return frozenset(x | y for x in a for y in b)


def _add(a: Form, b: Form) -> Form:  # min(a1, a2) + min(b1, b2) = min of the pairwise sums
    return frozenset(frozenset(_lin_add(p, q) for p in x for q in y) for x in a for y in b)


def _neg(a: Form) -> Form:  # -max_i min_k a_ik = max over one k per i of min_i (-a_ik)
    return frozenset(frozenset(_lin_scale(p, -1) for p in choice) for choice in product(*a))


def _scale(a: Form, k: int) -> Form:
    if k < 0:
        a, k = _neg(a), -k
    return frozenset(frozenset(_lin_scale(p, k) for p in x) for x in a)


def _lin_add(p: Lin, q: Lin) -> Lin:
    terms = dict(p[0])
    for atom, c in q[0]:
        terms[atom] = terms.get(atom, 0) + c
    return frozenset((a, c) for a, c in terms.items() if c), p[1] + q[1]


def _lin_scale(p: Lin, k: int) -> Lin:
    return frozenset((a, c * k) for a, c in p[0]), p[1] * k


def _at_least(p: Lin, q: Lin) -> bool:
    """``p >= q`` for every value of the atoms (array lengths are >= 0, other atoms unknown)."""
    terms, c = _lin_add(p, _lin_scale(q, -1))
    return c >= 0 and all(k > 0 and a[0] == "dim" for a, k in terms)


def _simplify(f: Form) -> Form:
    # ``_at_least`` is a partial order (p >= q >= p means p == q), so no ties to break:
    # in a min, a term never below another term does not decide it
    mins = [frozenset(p for p in x if not any(q != p and _at_least(p, q) for q in x)) for x in f]
    # in the max, a min never above another min does not decide it
    return frozenset(x for x in mins
                     if not any(y != x and all(any(_at_least(b, a) for a in x) for b in y) for y in mins))


def same_steps(a: Any, b: Any) -> bool:
    """True when the integer scalars ``a`` and ``b`` are proven equal (``a is b``, or equal
    :func:`steps_form`)."""
    if a is b:
        return True
    return not (_narrowed(a) or _narrowed(b)) and steps_form(a) == steps_form(b)


def _narrowed(v: Variable) -> bool:
    """``v`` casts an integer to a narrower one on the way (the linear forms see through
    casts; a wrap-around at 2**31 would then go unseen)."""
    import numpy as np
    from thx.tensor.shape import Shape
    stack, seen = [v], set()
    while stack:  # the integer arithmetic only: a length's array (Shape's input) is not walked
        a = stack.pop()
        node = a.owner
        if a in seen or node is None or type(node.op) is Shape:
            continue
        seen.add(a)
        if getattr(getattr(node.op, "scalar_op", None), "name", None) == "Cast":
            src, dst = np.dtype(node.inputs[0].dtype), np.dtype(a.dtype)
            if src.kind in "iu" and dst.kind in "iu" and np.iinfo(dst).max < np.iinfo(src).max:
                return True
        stack.extend(node.inputs)
    return False
