"""Symbolic differentiation's core: grad, Lop, Rop, the gradient errors and gradient-shaping ops.

``grad`` follows Theano's algorithm: map every variable between the cost
and ``wrt`` to the nodes that use it (in the order a depth-first walk from
the cost meets them, so sums of gradient terms come out in Theano's order),
keep the part connected to ``wrt``, then pull gradients back through each
node's ``L_op``.  Every walk uses an explicit stack: graphs tens of
thousands of nodes deep work at Python's default recursion limit.

This module imports no tensor module (it sits below ``thx/tensor/``).
``jacobian``/``hessian`` (built with scan) live in ``thx/scan/jacobian.py``
and load on first access; ``verify_grad``/``numeric_grad``/``check_against_jax``
(which compile) live in ``thx/check.py`` and ``thx/__init__.py`` publishes
them here under Theano's names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thx.config import apply_policy, check_policy, config
from thx.graph.basic import Apply, Constant, Variable, as_variable, gc_paused, io_toposort
from thx.graph.op import Op
from thx.graph.type import DisconnectedType, NullType

__all__ = ["grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad", "numeric_grad",
           "DisconnectedInputError", "NullTypeGradError", "GradientError", "grad_undefined",
           "grad_not_implemented", "disconnected_grad", "zero_grad", "consider_constant",
           "grad_clip", "grad_scale", "undefined_grad", "subgraph_grad"]


class DisconnectedInputError(ValueError):
    """``grad`` was asked for the gradient w.r.t. a variable the cost does not depend on."""


class NullTypeGradError(TypeError):
    """A gradient that is mathematically undefined (or not implemented) was requested."""


class GradientError(Exception):
    """``verify_grad`` found the symbolic and numeric gradients different."""

    def __init__(self, arg: int, err_pos: int, shape: tuple, val1: float, val2: float,
                 abs_err: float, rel_err: float, abs_tol: float, rel_tol: float) -> None:
        super().__init__()
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.val1, self.val2 = val1, val2
        self.abs_err, self.rel_err = abs_err, rel_err
        self.abs_tol, self.rel_tol = abs_tol, rel_tol

    def __str__(self) -> str:
        return (f"GradientError: numeric gradient and analytic gradient exceed tolerance:\n"
                f"        At position {self.err_pos} of argument {self.arg} with shape {self.shape},\n"
                f"            val1 = {self.val1:f}      ,  val2 = {self.val2:f}\n"
                f"            abs. error = {self.abs_err:f},  abs. tolerance = {self.abs_tol:f}\n"
                f"            rel. error = {self.rel_err:f},  rel. tolerance = {self.rel_tol:f}")


# Plain dtype names: the gradient core knows no tensor module.  Seeds and zeros are built by the
# variables' own methods (``x.ones_like()``), literals by ``as_variable`` (thx/graph/basic.py).
FLOAT_DTYPES = ("float16", "float32", "float64")
DISCRETE_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _float_ones_like(x: Variable) -> Variable:
    """The seed: ``fill(x, 1.0)`` of a float dtype (Theano's ``_float_ones_like``)."""
    dtype = x.dtype if x.dtype in FLOAT_DTYPES else config.floatX
    return x.ones_like(dtype=dtype)


def _float_zeros_like(x: Variable) -> Variable:
    dtype = x.dtype if x.dtype in FLOAT_DTYPES else config.floatX
    return x.zeros_like(dtype=dtype)


def _is_disconnected(v: Any) -> bool:
    return isinstance(getattr(v, "type", None), DisconnectedType)


def _is_null(v: Any) -> bool:
    return isinstance(getattr(v, "type", None), NullType)


def _format_as(like: Any, results: Sequence[Any]) -> Any:
    """Results in the form the argument came in: a list, a tuple, or a single value."""
    if isinstance(like, list):
        return list(results)
    if isinstance(like, tuple):
        return tuple(results)
    return results[0]


def _pattern(node: Apply) -> list[list[bool]]:
    return node.op.connection_pattern(node)


# ------------------------------------------------------------------------ grad

def grad(cost: Variable | None, wrt: Variable | Sequence[Variable],
         consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", add_names: bool = True,
         known_grads: dict | None = None, return_disconnected: str = "zero",
         null_gradients: str = "raise") -> Any:
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar Variable or None
        None only together with ``known_grads``.
    wrt : Variable or list of Variable
        A list in gives a list out, in the same order.
    consider_constant : list of Variable, optional
        Gradients do not flow through these variables.
    disconnected_inputs : {'raise', 'warn', 'ignore'}
        What to do when the cost does not depend on an element of ``wrt``.
    known_grads : dict, optional
        ``{variable: gradient}`` to start from (used by ``Lop``).
    return_disconnected : {'zero', 'None', 'Disconnected'}
        What to return for a disconnected ``wrt``.
    null_gradients : {'raise', 'return'}
        Whether an undefined gradient raises NullTypeGradError.

    Returns
    -------
    Variable or list of Variable

    Raises
    ------
    TypeError
        If ``cost`` is not a scalar.
    DisconnectedInputError
        If ``cost`` does not depend on an element of ``wrt`` (by default).

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx import pp
    >>> x = T.dscalar('x')
    >>> pp(T.grad(x ** 2, x))
    '((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * (x ** (TensorConstant{2} - TensorConstant{1})))'
    """
    if cost is None and not known_grads:
        raise AssertionError("grad: cost is None and known_grads is empty: nothing to differentiate")
    if cost is not None:
        if not isinstance(cost, Variable):
            raise TypeError(f"In grad(), cost must be a symbolic Variable, got {type(cost).__name__}")
        if getattr(cost.type, "ndim", 0) != 0:
            raise TypeError(f"cost must be a scalar: got a variable of type {cost.type} "
                            f"({cost.type.ndim} dimensions). Sum or index it first, or use "
                            f"thx.gradient.jacobian.")
    check_policy("disconnected_inputs", disconnected_inputs)
    if return_disconnected not in ("zero", "None", "Disconnected"):
        raise ValueError(f"Invalid value for keyword 'return_disconnected': {return_disconnected!r}; "
                         f"valid values are 'zero', 'None' and 'Disconnected'.")
    like = wrt
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    for k, w in enumerate(wrt_list):
        if not isinstance(w, Variable):
            raise TypeError(f"Expected Variable in the wrt argument (element {k}), got "
                            f"{type(w).__name__}: {w!r}")
    consider = set(consider_constant or [])

    # Seeds
    grad_dict: dict[Variable, Variable] = {}
    outputs: list[Variable] = []
    if known_grads:
        for var, g in known_grads.items():
            if not isinstance(var, Variable):
                raise TypeError(f"known_grads keys must be Variables, got {var!r}")
            g = _known_grad(var, g)
            grad_dict[var] = g
            outputs.append(var)
    if cost is not None:
        if cost in grad_dict:
            pass
        else:
            grad_dict[cost] = _float_ones_like(cost)
            outputs.insert(0, cost)

    seeds = set(grad_dict)
    with gc_paused():
        var_to_app = _clients_towards(outputs, consider)
        _keep_connected_to(var_to_app, wrt_list)
        _pull_gradients(grad_dict, var_to_app, wrt_list)

    rval: list[Any] = []
    for w in wrt_list:
        g = grad_dict.get(w)
        if g is None or _is_disconnected(g):
            msg = ("grad method was asked to compute the gradient with respect to a variable that "
                   "is not part of the computational graph of the cost, or is used only by a "
                   f"non-differentiable operator: {w}")
            apply_policy(disconnected_inputs, DisconnectedInputError, msg, stacklevel=2)
            if return_disconnected == "zero":
                g = _float_zeros_like(w)
            elif return_disconnected == "None":
                g = None
            else:
                g = DisconnectedType()()
        elif _is_null(g):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad encountered a NaN/undefined gradient for {w}: "
                                        f"{g.type.why_null}")
        elif getattr(w, "dtype", None) in DISCRETE_DTYPES and w not in seeds:
            # an integer variable inside the graph gets zeros; a seed (the cost itself, or a
            # known_grads key) keeps the gradient given for it (Theano's test_dxdx and
            # test_known_grads_integers)
            g = _float_zeros_like(w)
        if add_names and g is not None and getattr(g, "name", None) is None and w.name:
            if cost is not None and cost.name:
                g.name = f"(d{cost.name}/d{w.name})"
        if cost is not None and isinstance(g, Variable) and not (_is_null(g) or _is_disconnected(g)):
            # config.check_gradients='jax' finds gradients by this tag (and re-derives them with
            # the same consider_constant)
            g.tag.grad_of = (cost, w, tuple(consider_constant or ()))
        rval.append(g)
    return _format_as(like, rval)


def _known_grad(var: Variable, g: Any) -> Variable:
    """Check a ``known_grads`` value as Theano does; broadcast one of fewer dimensions to ``var``."""
    if not isinstance(g, Variable):
        if not hasattr(g, "dtype") and not isinstance(g, (int, float)):
            raise TypeError(f"known_grads: the gradient given for {var} must be a Variable, got {g!r}")
        g = as_variable(g)
    if _is_disconnected(g) or _is_null(g):
        return g
    if getattr(g, "dtype", None) not in FLOAT_DTYPES:
        raise TypeError(f"Gradients must always be NullType, DisconnectedType, or continuous, but grad "
                        f"was given a known_grad of type {g.type} for {var}")
    ndim = getattr(var, "ndim", None)
    if ndim is not None and g.ndim != ndim:
        if g.ndim > ndim:
            raise ValueError(f"known_grads: the gradient given for {var} has {g.ndim} dimensions, "
                             f"the variable has {ndim}")
        g = var.zeros_like(dtype=g.dtype) + g  # broadcast as NumPy would
    return g


def _clients_towards(outputs: Sequence[Variable], consider: set) -> dict[Variable, dict[Apply, list[int]]]:
    """``var -> {node: [input positions]}`` for every differentiable edge above ``outputs``.

    The dict orders follow a depth-first walk from the outputs, inputs left to
    right, exactly like Theano's recursive ``account_for``.
    """
    var_to_app: dict[Variable, dict[Apply, list[int]]] = {}
    visited: set[Variable] = set()
    for out in outputs:
        if out in visited:
            continue
        visited.add(out)
        stack: list[tuple[Apply, int, int]] = []
        if out.owner is not None and not isinstance(out, Constant) and out not in consider:
            stack.append((out.owner, out.owner.outputs.index(out), 0))
        while stack:
            app, var_idx, i = stack.pop()
            pattern = _pattern(app)
            while i < len(app.inputs):
                ipt = app.inputs[i]
                i += 1
                if not pattern[i - 1][var_idx]:
                    continue
                positions = var_to_app.setdefault(ipt, {}).setdefault(app, [])
                if i - 1 not in positions:
                    positions.append(i - 1)
                if ipt in visited:
                    continue
                visited.add(ipt)
                if isinstance(ipt, Constant) or ipt.owner is None or ipt in consider:
                    continue
                stack.append((app, var_idx, i))  # come back to the next input afterwards
                stack.append((ipt.owner, ipt.owner.outputs.index(ipt), 0))
                break
    return var_to_app


def _keep_connected_to(var_to_app: dict, wrt: Sequence[Variable]) -> None:
    """Drop the variables that no element of ``wrt`` reaches."""
    visited: set[Variable] = set()
    stack = [w for w in wrt]
    while stack:
        var = stack.pop()
        if var in visited or var not in var_to_app:
            continue
        visited.add(var)
        for node, idxs in var_to_app[var].items():
            pattern = _pattern(node)
            for idx in idxs:
                for k, out in enumerate(node.outputs):
                    if pattern[idx][k] and out not in visited:
                        stack.append(out)
    for var in list(var_to_app):
        if var not in visited:
            del var_to_app[var]


def _pull_gradients(grad_dict: dict, var_to_app: dict, wrt: Sequence[Variable]) -> None:
    """Fill ``grad_dict`` for ``wrt`` (memoised, explicit stack instead of recursion)."""
    term_cache: dict[Apply, list[Variable]] = {}

    def ready(var: Variable) -> list[Variable]:
        """Outputs of client nodes whose gradient is still missing."""
        missing = []
        for node in var_to_app.get(var, {}):
            if node in term_cache:
                continue
            for o in node.outputs:
                if o not in grad_dict and o in var_to_app:
                    missing.append(o)
        return missing

    for target in wrt:
        if target in grad_dict:
            continue
        stack = [target]
        while stack:
            var = stack[-1]
            if var in grad_dict:
                stack.pop()
                continue
            missing = ready(var)
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            grad_dict[var] = _sum_terms(var, var_to_app, grad_dict, term_cache)


def _sum_terms(var, var_to_app, grad_dict, term_cache) -> Variable:
    terms = []
    for node, idxs in var_to_app.get(var, {}).items():
        input_grads = term_cache.get(node)
        if input_grads is None:
            input_grads = term_cache[node] = _node_input_grads(node, grad_dict)
        for idx in idxs:
            term = input_grads[idx]
            if _is_null(term):
                return term
            if not _is_disconnected(term):
                terms.append(term)
    if not terms:
        return DisconnectedType()()
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _node_input_grads(node: Apply, grad_dict: dict) -> list[Variable]:
    """Call ``node.op.L_op`` with the gradients of the node's outputs."""
    out_grads = []
    for o in node.outputs:
        g = grad_dict.get(o)
        out_grads.append(DisconnectedType()() if g is None else g)
    connected_out = [not _is_disconnected(g) for g in out_grads]
    pattern = _pattern(node)
    in_connected = [any(p and c for p, c in zip(row, connected_out)) for row in pattern]
    if not any(in_connected):
        return [DisconnectedType()() for _ in node.inputs]
    if any(_is_null(g) for g in out_grads):
        bad = next(g for g in out_grads if _is_null(g))
        return [bad if c else DisconnectedType()() for c in in_connected]
    if len(node.outputs) > 1:
        out_grads = [(_float_zeros_like(o) if _is_disconnected(g) else g) for o, g in zip(node.outputs, out_grads)]
    input_grads = node.op.L_op(node.inputs, node.outputs, out_grads)
    if not isinstance(input_grads, (list, tuple)) or len(input_grads) != len(node.inputs):
        raise ValueError(f"{node.op}.grad returned {len(input_grads) if isinstance(input_grads, (list, tuple)) else input_grads!r} "
                         f"gradients for {len(node.inputs)} inputs")
    result = []
    for inp, g, c in zip(node.inputs, input_grads, in_connected):
        if not c or g is None:
            result.append(DisconnectedType()())
            continue
        if not isinstance(g, Variable):
            g = as_variable(g)
        if not _is_disconnected(g) and not _is_null(g) and getattr(g, "ndim", None) != getattr(inp, "ndim", None):
            raise ValueError(f"{node.op}.grad returned a gradient of {g.ndim} dimensions for an input "
                             f"of {inp.ndim} dimensions ({inp})")
        result.append(g)
    return result


# ------------------------------------------------------------------------ Lop / Rop

def Lop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable],
        eval_points: Variable | Sequence[Variable], consider_constant: Sequence[Variable] | None = None,
        disconnected_inputs: str = "raise") -> Any:
    """Vector-Jacobian product: ``eval_points`` (shaped like ``f``) times d f / d wrt.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> W, v, x = T.dmatrix('W'), T.dvector('v'), T.dvector('x')
    >>> f = thx.function([v, x], T.Lop(T.dot(x, W), W, v))
    >>> f([2., 2.], [0., 1.])
    array([[0., 0.],
           [2., 2.]])
    """
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    evs = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(fs) != len(evs):
        raise ValueError(f"Lop: f has {len(fs)} elements but eval_points has {len(evs)}")
    known = {}
    for k, (fi, ev) in enumerate(zip(fs, evs)):
        ev = as_variable(ev)
        if ev.ndim != fi.ndim:
            raise ValueError(f"Lop: element {k} of f and of eval_points have mismatched "
                             f"dimensionality: {fi.ndim} versus {ev.ndim}")
        known[fi] = ev
    like = wrt
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    ret = grad(None, wrt_list, consider_constant=consider_constant, known_grads=known,
               disconnected_inputs=disconnected_inputs, return_disconnected="zero")
    return _format_as(like, ret)


def Rop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable],
        eval_points: Variable | Sequence[Variable], disconnected_outputs: str = "raise",
        return_disconnected: str = "zero") -> Any:
    """Jacobian-vector product: d f / d wrt times ``eval_points`` (shaped like ``wrt``).

    As in Theano, each root input of the graph that is not in ``wrt`` gets
    a zero evaluation point (so the tutorial's ``Rop(dot(x, W), W, V)``
    keeps ``W`` and ``x`` as used inputs); constants get none.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> W, V, x = T.dmatrix('W'), T.dmatrix('V'), T.dvector('x')
    >>> f = thx.function([W, V, x], T.Rop(T.dot(x, W), W, V))
    >>> f([[1., 1.], [1., 1.]], [[2., 2.], [2., 2.]], [0., 1.])
    array([2., 2.])
    """
    like = f
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    evs = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(wrt_list) != len(evs):
        raise ValueError(f"Rop: `wrt` has {len(wrt_list)} elements but `eval_points` has {len(evs)}")
    ev_of: dict[Variable, Variable | None] = {}
    for k, (w, ev) in enumerate(zip(wrt_list, evs)):
        ev = as_variable(ev)
        if w.type.ndim != ev.type.ndim:
            raise ValueError(f"Element {k} of wrt/eval_point have mismatched dimensionality: "
                             f"{w.type.ndim} versus {ev.type.ndim}")
        if ev.dtype != w.dtype:
            ev = ev.astype(w.dtype)
        ev_of[w] = ev
    results: dict[Variable, Variable | None] = {}
    for node in io_toposort(list(ev_of), fs):
        local = []
        for inp in node.inputs:
            if inp in ev_of:
                local.append(ev_of[inp])
            elif inp in results:
                local.append(results[inp])
            elif inp.owner is None and not isinstance(inp, Constant):
                z = inp.zeros_like() if hasattr(inp, "ndim") else None
                if z is not None:
                    z.tag.zero_eval_point = True
                results[inp] = z
                local.append(z)
            else:
                local.append(None)
        if all(e is None for e in local):
            outs = [None] * len(node.outputs)
        else:
            outs = node.op.R_op(node.inputs, local)
            if len(outs) != len(node.outputs):
                raise ValueError(f"{node.op}.R_op returned {len(outs)} results for "
                                 f"{len(node.outputs)} outputs")
        for o, r in zip(node.outputs, outs):
            if r is not None and not isinstance(r, Variable):
                r = as_variable(r)
            results[o] = r
    rval = []
    for out in fs:
        if out in ev_of:
            rval.append(ev_of[out])
            continue
        r = results.get(out)
        if r is None:
            msg = ("Rop method was asked to compute the gradient with respect to a variable that "
                   "is not part of the computational graph of variables in wrt, or is used only by a "
                   f"non-differentiable operator: {out}")
            check_policy("disconnected_outputs", disconnected_outputs)
            apply_policy(disconnected_outputs, DisconnectedInputError, msg, stacklevel=2)
            if return_disconnected == "zero":
                r = out.zeros_like()
            elif return_disconnected == "None":
                r = None
            else:
                r = DisconnectedType()()
        rval.append(r)
    return _format_as(like, rval)


# ------------------------------------------------------------------------ gradient-shaping ops

class _ViewOp(Op):
    """Identity in the forward pass; subclasses change the gradient."""

    __props__ = ()

    def make_node(self, x):
        x = as_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def pprint(self, node, ins):
        return ins[0]


class ConsiderConstant(_ViewOp):
    """Identity whose gradient is zero (Theano 1.0's ``consider_constant``: connected, zeros)."""

    __props__ = ()

    def L_op(self, inputs, outputs, grads):
        return [_float_zeros_like(inputs[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else eval_points[0].zeros_like()]


class DisconnectedGrad(_ViewOp):
    """Identity through which no gradient flows (``disconnected_grad(x)``)."""

    __props__ = ()

    def L_op(self, inputs, outputs, grads):
        return [DisconnectedType()()]

    def connection_pattern(self, node):
        return [[False]]


class ZeroGrad(_ViewOp):
    """Identity whose gradient is zero."""

    __props__ = ()

    def L_op(self, inputs, outputs, grads):
        return [_float_zeros_like(inputs[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else eval_points[0].zeros_like()]


class UndefinedGrad(_ViewOp):
    """Identity whose gradient is undefined (NullType)."""

    __props__ = ()

    def L_op(self, inputs, outputs, grads):
        return [NullType("undefined_grad was applied")()]


class GradClip(_ViewOp):
    """Identity whose gradient is clipped to ``[clip_lower_bound, clip_upper_bound]``."""

    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound: float, clip_upper_bound: float) -> None:
        if clip_upper_bound < clip_lower_bound:
            raise ValueError("grad_clip: the upper bound is below the lower bound")
        self.clip_lower_bound = clip_lower_bound
        self.clip_upper_bound = clip_upper_bound

    def L_op(self, inputs, outputs, grads):
        return [grads[0].clip(self.clip_lower_bound, self.clip_upper_bound)]


class GradScale(_ViewOp):
    """Identity whose gradient is multiplied by ``multiplier``."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier: float) -> None:
        self.multiplier = multiplier

    def L_op(self, inputs, outputs, grads):
        return [grads[0] * self.multiplier]


_consider_constant = ConsiderConstant()
_disconnected_grad_op = DisconnectedGrad()
_zero_grad_op = ZeroGrad()
_undefined_grad_op = UndefinedGrad()


def consider_constant(x: Variable) -> Variable:
    """``x``, treated as a constant: its gradient is zero (Theano 1.0; ``grad(consider_constant(x).sum(), x)`` is zeros)."""
    return _consider_constant(x)


def disconnected_grad(x: Variable) -> Variable:
    """``x``, through which no gradient flows (asking for it raises DisconnectedInputError)."""
    return _disconnected_grad_op(x)


def zero_grad(x: Variable) -> Variable:
    """``x``, whose gradient is zero."""
    return _zero_grad_op(x)


def undefined_grad(x: Variable) -> Variable:
    """``x``, whose gradient is undefined (requesting it raises NullTypeGradError)."""
    return _undefined_grad_op(x)


def grad_clip(x: Variable, lower_bound: float, upper_bound: float) -> Variable:
    """``x``, with its gradient clipped to ``[lower_bound, upper_bound]``."""
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x: Variable, multiplier: float) -> Variable:
    """``x``, with its gradient scaled by ``multiplier``."""
    return GradScale(multiplier)(x)


def grad_undefined(op: Op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A NullType variable saying that input ``x_pos`` of ``op`` has no defined gradient."""
    return NullType(f"This variable is Null because the grad method for input {x_pos} ({x}) of the "
                    f"{op} op is mathematically undefined. {comment}")()


def grad_not_implemented(op: Op, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A NullType variable saying that input ``x_pos`` of ``op`` has no implemented gradient."""
    return NullType(f"This variable is Null because the grad method for input {x_pos} ({x}) of the "
                    f"{op} op is not implemented. {comment}")()


def __getattr__(name: str) -> Any:
    """``jacobian`` and ``hessian`` (Theano's ``theano.gradient`` names), loaded on first use."""
    if name in ("jacobian", "hessian"):
        # the one upward import of the gradient core: jacobian/hessian loop with scan (layer above)
        from thx.scan import jacobian as _jacobian_module
        return getattr(_jacobian_module, name)
    raise AttributeError(f"module 'thx.gradient' has no attribute {name!r}")
