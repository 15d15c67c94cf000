"""Integer index arithmetic as linear forms over graph atoms: proves a slice's length constant.

``data[i*bs:(i+1)*bs]`` has the bounds ``bs*i`` and ``bs*i + bs``: as linear
forms over the atom ``i`` their difference is the constant ``bs``, so the
slice has a static length whatever ``i`` is, and the lowering can take it with
a traced start (``lax.dynamic_slice``) instead of compiling once per ``i``.

The forms are exact over the integers.  Machine arithmetic wraps at the
dtype's limits, so a caller that relies on a form must still check the real
bounds at run time (the Subtensor lowering does, and raises IndexError).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Constant, Variable

Form = tuple[dict[Variable, int], int]  # ({atom: coefficient}, constant term)

_INT_KINDS = "iu"


def _is_int(v: Variable) -> bool:
    dtype = getattr(v, "dtype", None)
    return dtype is not None and np.dtype(dtype).kind in _INT_KINDS


def _constant_int(v: Variable) -> int | None:
    if isinstance(v, Constant):
        a = np.asarray(v.data)
        if a.size == 1 and a.dtype.kind in _INT_KINDS + "b":
            return int(a.reshape(()))
    return None


def _add(a: Form, b: Form, sign: int = 1) -> Form:
    terms = dict(a[0])
    for atom, c in b[0].items():
        terms[atom] = terms.get(atom, 0) + sign * c
        if terms[atom] == 0:
            del terms[atom]
    return terms, a[1] + sign * b[1]


def _scale(a: Form, k: int) -> Form:
    if k == 0:
        return {}, 0
    return {atom: c * k for atom, c in a[0].items()}, a[1] * k


def linear_form(v: Variable, _depth: int = 0) -> Form:
    """``v`` as ``sum(c_k * atom_k) + c0`` with integer coefficients.

    Follows integer constants, ``add``, ``sub``, ``neg``, ``mul`` by a
    constant, integer casts and scalar DimShuffles; any other value is an
    atom of its own.

    Examples
    --------
    >>> import thx.tensor as T
    >>> i = T.lscalar('i')
    >>> terms, c = linear_form((i + 1) * 2)
    >>> [(str(a), k) for a, k in terms.items()], c
    ([('i', 2)], 2)
    """
    const = _constant_int(v)
    if const is not None:
        return {}, const
    node = v.owner
    if node is None or _depth > 200 or not _is_int(v) or getattr(v, "ndim", 0) != 0:
        return {v: 1}, 0
    from thx.tensor.elemwise import DimShuffle, Elemwise
    op = node.op
    if isinstance(op, DimShuffle):  # a scalar seen through broadcast dimensions
        return linear_form(node.inputs[0], _depth + 1) if node.inputs[0].ndim == 0 else ({v: 1}, 0)
    if not isinstance(op, Elemwise):
        return {v: 1}, 0
    name = op.scalar_op.name
    ins = node.inputs
    if not all(_is_int(i) or _constant_int(i) is not None for i in ins):
        return {v: 1}, 0
    if name in ("Cast", "identity"):
        return linear_form(ins[0], _depth + 1)
    forms = [linear_form(i, _depth + 1) for i in ins]
    if name == "add":
        out: Form = ({}, 0)
        for f in forms:
            out = _add(out, f)
        return out
    if name == "sub":
        return _add(forms[0], forms[1], -1)
    if name == "neg":
        return _scale(forms[0], -1)
    if name == "mul":
        variable = [f for f in forms if f[0]]
        if len(variable) > 1:
            return {v: 1}, 0
        k = 1
        for f in forms:
            if not f[0]:
                k *= f[1]
        return _scale(variable[0], k) if variable else ({}, k)
    return {v: 1}, 0


def constant_difference(stop: Any, start: Any) -> int | None:
    """``stop - start`` if it is the same integer for every value of the graph's inputs, else None.

    ``stop`` and ``start`` are Variables, Python ints or None (None counts as 0
    for ``start`` and as unknown for ``stop``).

    Examples
    --------
    >>> import thx.tensor as T
    >>> i = T.lscalar('i')
    >>> constant_difference((i + 1) * 20, i * 20), constant_difference(i * 2, i)
    (20, None)
    """
    if stop is None:
        return None

    def form(x: Any) -> Form:
        if x is None:
            return {}, 0
        if isinstance(x, (int, np.integer)):
            return {}, int(x)
        return linear_form(x)

    terms, c = _add(form(stop), form(start), -1)
    return None if terms else c


def expr_str(v: Variable, depth: int = 4) -> str:
    """``v`` printed through its ops' ``pprint`` down to ``depth`` levels, for error messages.

    Examples
    --------
    >>> import thx.tensor as T
    >>> i = T.lscalar('i')
    >>> expr_str((i + 1) * 2)
    '((i + TensorConstant{1}) * TensorConstant{2})'
    """
    from thx.graph.basic import leaf_str
    node = v.owner
    if node is None:
        return leaf_str(v)
    printer = getattr(node.op, "pprint", None)
    if depth <= 0 or printer is None or len(node.outputs) != 1:
        return v.name or str(v)
    return printer(node, [expr_str(i, depth - 1) for i in node.inputs])
