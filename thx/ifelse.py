"""``thx.ifelse``: a lazy if-then-else over whole tensors (Theano's ``theano.ifelse``).

``switch(cond, a, b)`` is elementwise and computes both ``a`` and ``b``;
``ifelse(cond, a, b)`` takes a scalar condition and computes only the
branch it returns.  The graph keeps Theano's form (one ``IfElse`` node whose
inputs are the condition, the ``then`` values and the ``else`` values); the
lowering moves the work that only one branch needs into that branch of a
``jax.lax.cond`` (``thx/lowering/ifelse.py``), so XLA runs it only when the
branch is taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.config import config
from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType

__all__ = ["ifelse", "IfElse"]


def _T():
    import thx.tensor as T
    return T


class IfElse(Op):
    """Return the ``then`` values if the condition is non-zero, else the ``else`` values.

    Inputs are ``[condition] + then_values + else_values`` (``n_outs`` of
    each); the outputs have the types of the ``then`` values.  Build it with
    :func:`ifelse`.

    Parameters
    ----------
    n_outs : int
        Number of values on each branch.
    as_view, gpu : bool
        Accepted for compatibility (XLA decides aliasing and placement).
    name : str, optional
        Printed as ``if{name}``; not part of the op's identity (as in Theano).
    """

    __props__ = ("n_outs", "as_view", "gpu")

    def __init__(self, n_outs: int, as_view: bool = False, gpu: bool = False,
                 name: str | None = None) -> None:
        self.n_outs = int(n_outs)
        self.as_view = bool(as_view)
        self.gpu = bool(gpu)
        self.name = name

    def __str__(self) -> str:
        args = [a for a in (self.name, "inplace" if self.as_view else None,
                            "gpu" if self.gpu else None) if a]
        return f"if{{{','.join(args)}}}"

    __repr__ = __str__

    def make_node(self, c: Any, *args: Any) -> Apply:
        T = _T()
        if len(args) != 2 * self.n_outs:
            raise TypeError(f"{self}: expected a condition and {2 * self.n_outs} values "
                            f"({self.n_outs} per branch), got {len(args)} values")
        c = T.as_tensor_variable(c)
        if c.ndim > 0:
            raise TypeError(f"The condition given to ifelse has to be a scalar (0 stands for "
                            f"False, anything else for True); got {c} of type {c.type}")
        args = [a if isinstance(a, Variable) else T.as_tensor_variable(a) for a in args]
        ts, fs = args[: self.n_outs], args[self.n_outs:]
        for k, (t, f) in enumerate(zip(ts, fs)):
            if t.type != f.type:
                raise TypeError(f"IfElse requires same types for true and false return values: "
                                f"value {k} is {t} of type {t.type} on the then branch and {f} of "
                                f"type {f.type} on the else branch")
        return Apply(self, [c] + args, [t.type() for t in ts])

    def branches(self, node: Apply) -> tuple[list[Variable], list[Variable]]:
        """``(then_values, else_values)`` of ``node`` (pydotprint's ``cond_highlight`` clusters them)."""
        n = self.n_outs
        return list(node.inputs[1: 1 + n]), list(node.inputs[1 + n:])

    def perform(self, node: Apply, inputs: Sequence[Any], output_storage: list) -> None:
        n = self.n_outs
        chosen = inputs[1: 1 + n] if inputs[0] != 0 else inputs[1 + n:]
        for store, v, out in zip(output_storage, chosen, node.outputs):
            store[0] = np.array(v, dtype=out.dtype)

    def L_op(self, inputs, outputs, output_grads):
        # The gradient of each branch value is an ifelse of the output gradient and zeros; the
        # condition gets zeros (assume cond + epsilon takes the same branch, as Theano does).
        T = _T()
        n = self.n_outs
        cond, ts, fs = inputs[0], inputs[1: 1 + n], inputs[1 + n:]
        gs = [_like(g, t) for g, t in zip(output_grads, ts)]
        cond_grad = T.cast(T.zeros_like(cond), config.floatX)
        suffix = (lambda s: f"{self.name}_grad_{s}") if self.name else (lambda s: None)
        if_true = IfElse(n, self.as_view, self.gpu, suffix("t"))(
            cond, *gs, *[T.zeros_like(t) for t in ts], return_list=True)
        if_false = IfElse(n, self.as_view, self.gpu, suffix("f"))(
            cond, *[T.zeros_like(f) for f in fs], *gs, return_list=True)
        return [cond_grad] + list(if_true) + list(if_false)

    def R_op(self, inputs, eval_points):
        T = _T()
        n = self.n_outs
        out = []
        for k in range(n):
            et, ef = eval_points[1 + k], eval_points[1 + n + k]
            if et is None and ef is None:
                out.append(None)
                continue
            et = T.zeros_like(inputs[1 + k]) if et is None else et
            ef = T.zeros_like(inputs[1 + n + k]) if ef is None else ef
            out.append(ifelse(inputs[0], _like(et, inputs[1 + k]), _like(ef, inputs[1 + k])))
        return out

    def infer_shape(self, fgraph, node, input_shapes):
        # One ifelse over all the shape entries, then regroup them per output (as Theano does).
        n = self.n_outs
        ts, fs = input_shapes[1: 1 + n], input_shapes[1 + n:]
        flat_t = [s for shp in ts for s in shp]
        flat_f = [s for shp in fs for s in shp]
        if not flat_t:
            return [() for _ in range(n)]
        name = "_".join(["shape"] + ([self.name] if self.name else []))
        picked = IfElse(len(flat_t), name=name)(node.inputs[0], *flat_t, *flat_f, return_list=True)
        out, k = [], 0
        for o in node.outputs:
            out.append(tuple(picked[k: k + o.ndim]))
            k += o.ndim
        return out

    def __call__(self, *inputs: Any, return_list: bool = False):
        outs = self.make_node(*inputs).outputs
        return list(outs) if return_list or len(outs) != 1 else outs[0]


def _like(v: Variable, model: Variable) -> Variable:
    """``v`` converted to ``model``'s type (a gradient may be less specific or of another dtype)."""
    T = _T()
    if isinstance(v.type, DisconnectedType):
        return T.zeros_like(model)
    if v.type == model.type:
        return v
    if v.dtype != model.dtype:
        v = T.cast(v, model.dtype)
    conv = model.type.convert_variable(v)
    return conv if conv is not None else v


def _join_types(t: Variable, f: Variable) -> tuple[Variable, Variable]:
    """Give both branch values one type; broadcastable patterns may differ (the result is the
    less specific one), dtypes and ranks may not."""
    T = _T()
    if t.type == f.type:
        return t, f
    if getattr(t.type, "dtype", None) == getattr(f.type, "dtype", None) and t.ndim == f.ndim:
        bcast = tuple(a and b for a, b in zip(t.broadcastable, f.broadcastable))
        return T.patternbroadcast(t, bcast), T.patternbroadcast(f, bcast)
    raise TypeError(f"The two branches should have identical types, but they are {t.type} and "
                    f"{f.type} respectively ({t} and {f}). This error could be raised if for "
                    f"example you provided a one element list on the `then` branch but a tensor "
                    f"on the `else` branch. Cast one branch (T.cast) to make them agree.")


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """``then_branch`` if ``condition`` is non-zero, else ``else_branch``; only one is computed.

    Parameters
    ----------
    condition : scalar tensor-like
        0 (or False) selects ``else_branch``, anything else ``then_branch``.
    then_branch, else_branch : tensor-like or list/tuple of them
        The same number of values on both sides, of matching dtypes and ranks.
    name : str, optional
        Printed in the op's name (``if{name}``).

    Returns
    -------
    Variable, or a list/tuple of them when ``then_branch`` is a list/tuple.

    Raises
    ------
    TypeError
        A non-scalar condition, or branch values of different dtypes or ranks.
    ValueError
        Branches with different numbers of values.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> from thx.ifelse import ifelse
    >>> a, b = T.dscalars('a', 'b')
    >>> f = thx.function([a, b], ifelse(T.lt(a, b), a * 10, b * 10))
    >>> f(1, 2), f(3, 2)
    (array(10.), array(20.))
    >>> lo, hi = ifelse(T.lt(a, b), [a, b], [b, a])
    >>> thx.function([a, b], [lo, hi])(5, 2)
    [array(2.), array(5.)]
    """
    T = _T()
    rval_type = type(then_branch) if type(then_branch) in (list, tuple) else None
    ts = list(then_branch) if isinstance(then_branch, (list, tuple)) else [then_branch]
    fs = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(ts) != len(fs):
        raise ValueError(f"The number of values on the `then` branch should have the same number "
                         f"of variables as the `else` branch : (variables on `then` {len(ts)}, "
                         f"variables on `else` {len(fs)})")
    pairs = [_join_types(t if isinstance(t, Variable) else T.as_tensor_variable(t),
                         f if isinstance(f, Variable) else T.as_tensor_variable(f))
             for t, f in zip(ts, fs)]
    op = IfElse(n_outs=len(ts), name=name)
    rval = op(condition, *[t for t, _ in pairs], *[f for _, f in pairs], return_list=True)
    if rval_type is None:
        return rval[0]
    return rval_type(rval)
