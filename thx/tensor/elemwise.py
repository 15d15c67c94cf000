"""Elementwise ops: ONE table of scalar operations, the Elemwise op, DimShuffle.

Each row of ``SCALAR_OPS`` is a whole elementwise op: its name, arity, how
``pp`` prints it, its output dtype rule, its NumPy function (what ``perform``
runs), its JAX function and its gradient formula, written on tensors exactly as
Theano builds it (so that ``pp(T.grad(x ** 2, x))`` prints Theano's graph).
The JAX function is *named* (``"jnp.exp"``), or built by a callable from the JAX
namespaces, so this module imports no JAX; ``thx/lowering/elemwise.py`` resolves it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor.type import (TensorType, continuous_dtypes, discrete_dtypes, float_dtypes,
                             upcast, upgrade_to_float)
from thx.tensor.var import as_tensor_variable, constant

# ------------------------------------------------------------------ dtype rules


def same_out(dts: Sequence[str]) -> str:
    return upcast(*dts)


def float_out(dts: Sequence[str]) -> str:
    return upgrade_to_float(upcast(*dts))


def bool_out(dts: Sequence[str]) -> str:
    return "bool"


def real_out(dts: Sequence[str]) -> str:
    d = upcast(*dts)
    return {"complex64": "float32", "complex128": "float64"}.get(d, d)


def second_out(dts: Sequence[str]) -> str:
    return dts[1]


def switch_out(dts: Sequence[str]) -> str:
    return upcast(dts[1], dts[2])


def bitwise_out(dts: Sequence[str]) -> str:
    d = upcast(*dts)
    if d not in discrete_dtypes:
        raise TypeError(f"bitwise operations need boolean or integer inputs, got {list(dts)}")
    return d


# ------------------------------------------------------------------ the table

@dataclass(eq=False)
class ScalarOp:
    """One elementwise operation (one row of the table).

    Attributes
    ----------
    name : str
        Theano's name (``add``, ``exp`` ...); also the key of its JAX implementation.
    nin : int
        Number of inputs (-1: any number, as for add and mul).
    symbol : str or None
        Infix symbol for ``pp`` (``'+'``), or a pattern such as ``'|{0}|'``; None prints ``name(args)``.
    out_dtype : callable
        Input dtypes -> output dtype.
    numpy : callable
        The NumPy implementation (``Elemwise.perform`` runs it).
    jax : str or callable
        The JAX function: a dotted name in the namespaces ``jnp``, ``lax``, ``jsp``
        (``jax.scipy``) and ``jax`` (``"jsp.special.erf"``), or a callable taking
        those namespaces (attributes of one object) and returning the function.
        For ``nin == -1`` it is binary and folded over the inputs.
    grad : callable or None
        ``grad(inputs, output, gz) -> list`` of gradient variables, written on
        tensors; None means the output is piecewise constant (zero gradient).
    connected : tuple of bool or None
        Which inputs the output depends on differentiably (None: all).
    params : tuple
        Extra parameters that distinguish ops of one name (the dtype of a cast).
    """

    name: str
    nin: int
    symbol: str | None
    out_dtype: Callable[[Sequence[str]], str]
    numpy: Callable[..., Any]
    jax: str | Callable[[Any], Callable[..., Any]]
    grad: Callable[..., list] | None
    connected: tuple[bool, ...] | None = None
    params: tuple = field(default=())
    commutative: bool = False
    associative: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScalarOp) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, self.params))

    def __str__(self) -> str:
        if self.params:
            return f"{self.name}{{{','.join(map(str, self.params))}}}"
        return self.name

    __repr__ = __str__

    def __reduce__(self):
        # rows hold lambdas: pickle a row by its key and find it in the table again
        return _scalar_op_by_key, (self.name, self.params)


def _sigmoid_np(x):
    x = np.asarray(x)
    x = x.astype(float_out([str(x.dtype)]))  # int8 -> float32 as Theano types it (NumPy: float16)
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))).astype(x.dtype)


def _softplus_np(x):
    x = np.asarray(x)
    x = x.astype(float_out([str(x.dtype)]))  # int8 -> float32 as Theano types it (NumPy: float16)
    return np.logaddexp(0, x)


def _np_true_div(x, y):
    out = float_out([str(np.asarray(x).dtype), str(np.asarray(y).dtype)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(x, y).astype(out)


def _np_float(fn):
    def f(*a):
        out = float_out([str(np.asarray(x).dtype) for x in a])
        with np.errstate(all="ignore"):
            return np.asarray(fn(*[np.asarray(x, dtype=out) for x in a]), dtype=out)
    f.__name__ = getattr(fn, "__name__", "f")
    return f


def _np_same(fn):
    def f(*a):
        out = same_out([str(np.asarray(x).dtype) for x in a])
        with np.errstate(all="ignore"):
            return np.asarray(fn(*a), dtype=out)
    return f


def _erf_np(x):
    import math
    return np.vectorize(math.erf, otypes=[float])(x)


def _erfc_np(x):
    import math
    return np.vectorize(math.erfc, otypes=[float])(x)


# JAX functions that are not one library function; ``j`` holds the namespaces jnp, lax, jsp, jax.
def _jax_clip(j):
    return lambda x, lo, hi: j.jnp.minimum(j.jnp.maximum(x, lo), hi)


def _jax_second(j):
    return lambda a, b: j.jnp.broadcast_to(b, j.jnp.broadcast_shapes(j.jnp.shape(a), j.jnp.shape(b)))


# Gradient formulas (Theano's, on tensors).  i: inputs, o: output, g: output gradient.
def _g_mul(i, o, g):
    return [mul(g, *[y for k, y in enumerate(i) if k != j]) for j in range(len(i))]


_ROWS: list[ScalarOp] = [
    # name, nin, symbol, dtype rule, numpy, jax, grad (exp, sigmoid: from the output ``o``, the
    # value the forward pass computed, as JAX's rules do; no second node for merge to find)
    ScalarOp("add", -1, "+", same_out, _np_same(lambda *a: sum(a[1:], a[0])), "jnp.add",
             lambda i, o, g: [g for _ in i], commutative=True, associative=True),
    ScalarOp("sub", 2, "-", same_out, _np_same(np.subtract), "jnp.subtract", lambda i, o, g: [g, neg(g)]),
    ScalarOp("mul", -1, "*", same_out, _np_same(lambda *a: np.prod(np.broadcast_arrays(*a), axis=0)
                                                 if len(a) > 1 else a[0]), "jnp.multiply",
             _g_mul, commutative=True, associative=True),
    ScalarOp("true_div", 2, "/", float_out, _np_true_div, "jnp.true_divide",
             lambda i, o, g: [g / i[1], -(g * i[0]) / (i[1] * i[1])]),
    ScalarOp("int_div", 2, "//", same_out, _np_same(np.floor_divide), "jnp.floor_divide", None),
    ScalarOp("mod", 2, "%", same_out, _np_same(np.mod), "jnp.mod", lambda i, o, g: [g, -(i[0] // i[1]) * g]),
    ScalarOp("pow", 2, "**", same_out, _np_same(np.power), "jnp.power",
             lambda i, o, g: [g * i[1] * i[0] ** (i[1] - 1), g * log(i[0]) * i[0] ** i[1]]),
    ScalarOp("neg", 1, "-", same_out, _np_same(np.negative), "jnp.negative", lambda i, o, g: [-g]),
    ScalarOp("abs", 1, "|{0}|", real_out, _np_same(np.abs), "jnp.abs", lambda i, o, g: [g * sgn(i[0])]),
    ScalarOp("sgn", 1, None, same_out, _np_same(np.sign), "jnp.sign", None),
    ScalarOp("sqr", 1, None, same_out, _np_same(np.square), "jnp.square", lambda i, o, g: [g * i[0] * 2]),
    ScalarOp("sqrt", 1, None, float_out, _np_float(np.sqrt), "jnp.sqrt", lambda i, o, g: [(g * 0.5) / sqrt(i[0])]),
    ScalarOp("exp", 1, None, float_out, _np_float(np.exp), "jnp.exp", lambda i, o, g: [g * o]),
    ScalarOp("exp2", 1, None, float_out, _np_float(np.exp2), "jnp.exp2",
             lambda i, o, g: [g * exp2(i[0]) * np.log(2.0).astype(i[0].dtype if i[0].dtype in float_dtypes else "float64")]),
    ScalarOp("expm1", 1, None, float_out, _np_float(np.expm1), "jnp.expm1", lambda i, o, g: [g * exp(i[0])]),
    ScalarOp("log", 1, None, float_out, _np_float(np.log), "jnp.log", lambda i, o, g: [g / i[0]]),
    ScalarOp("log2", 1, None, float_out, _np_float(np.log2), "jnp.log2",
             lambda i, o, g: [g / (i[0] * np.asarray(np.log(2.0), dtype=o.dtype))]),
    ScalarOp("log10", 1, None, float_out, _np_float(np.log10), "jnp.log10",
             lambda i, o, g: [g / (i[0] * np.asarray(np.log(10.0), dtype=o.dtype))]),
    ScalarOp("log1p", 1, None, float_out, _np_float(np.log1p), "jnp.log1p", lambda i, o, g: [g / (1 + i[0])]),
    ScalarOp("sin", 1, None, float_out, _np_float(np.sin), "jnp.sin", lambda i, o, g: [g * cos(i[0])]),
    ScalarOp("cos", 1, None, float_out, _np_float(np.cos), "jnp.cos", lambda i, o, g: [-g * sin(i[0])]),
    ScalarOp("tan", 1, None, float_out, _np_float(np.tan), "jnp.tan", lambda i, o, g: [g / sqr(cos(i[0]))]),
    ScalarOp("arcsin", 1, None, float_out, _np_float(np.arcsin), "jnp.arcsin",
             lambda i, o, g: [g / sqrt(1 - sqr(i[0]))]),
    ScalarOp("arccos", 1, None, float_out, _np_float(np.arccos), "jnp.arccos",
             lambda i, o, g: [-g / sqrt(1 - sqr(i[0]))]),
    ScalarOp("arctan", 1, None, float_out, _np_float(np.arctan), "jnp.arctan", lambda i, o, g: [g / (1 + sqr(i[0]))]),
    ScalarOp("arctan2", 2, None, float_out, _np_float(np.arctan2), "jnp.arctan2",
             lambda i, o, g: [g * i[1] / (sqr(i[0]) + sqr(i[1])), -g * i[0] / (sqr(i[0]) + sqr(i[1]))]),
    ScalarOp("sinh", 1, None, float_out, _np_float(np.sinh), "jnp.sinh", lambda i, o, g: [g * cosh(i[0])]),
    ScalarOp("cosh", 1, None, float_out, _np_float(np.cosh), "jnp.cosh", lambda i, o, g: [g * sinh(i[0])]),
    ScalarOp("tanh", 1, None, float_out, _np_float(np.tanh), "jnp.tanh", lambda i, o, g: [g * (1 - sqr(tanh(i[0])))]),
    ScalarOp("arcsinh", 1, None, float_out, _np_float(np.arcsinh), "jnp.arcsinh",
             lambda i, o, g: [g / sqrt(sqr(i[0]) + 1)]),
    ScalarOp("arccosh", 1, None, float_out, _np_float(np.arccosh), "jnp.arccosh",
             lambda i, o, g: [g / sqrt(sqr(i[0]) - 1)]),
    ScalarOp("arctanh", 1, None, float_out, _np_float(np.arctanh), "jnp.arctanh", lambda i, o, g: [g / (1 - sqr(i[0]))]),
    ScalarOp("erf", 1, None, float_out, _np_float(_erf_np), "jsp.special.erf",
             lambda i, o, g: [g * np.asarray(2 / np.sqrt(np.pi), dtype=o.dtype) * exp(-sqr(i[0]))]),
    ScalarOp("erfc", 1, None, float_out, _np_float(_erfc_np), "jsp.special.erfc",
             lambda i, o, g: [-g * np.asarray(2 / np.sqrt(np.pi), dtype=o.dtype) * exp(-sqr(i[0]))]),
    ScalarOp("floor", 1, None, float_out, _np_float(np.floor), "jnp.floor", None),
    ScalarOp("ceil", 1, None, float_out, _np_float(np.ceil), "jnp.ceil", None),
    ScalarOp("trunc", 1, None, float_out, _np_float(np.trunc), "jnp.trunc", None),
    ScalarOp("round_half_to_even", 1, None, float_out, _np_float(np.round), "jnp.round", None),
    ScalarOp("round_half_away_from_zero", 1, None, float_out,
             _np_float(lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5)),
             lambda j: lambda x: j.jnp.sign(x) * j.jnp.floor(j.jnp.abs(x) + 0.5), None),
    ScalarOp("sigmoid", 1, None, float_out, _sigmoid_np, "jax.nn.sigmoid",
             lambda i, o, g: [g * o * (1.0 - o)]),
    ScalarOp("softplus", 1, None, float_out, _softplus_np, "jax.nn.softplus", lambda i, o, g: [g * sigmoid(i[0])]),
    ScalarOp("maximum", 2, None, same_out, _np_same(np.maximum), "jnp.maximum",
             lambda i, o, g: [eq(o, i[0]) * g, eq(o, i[1]) * g], commutative=True, associative=True),
    ScalarOp("minimum", 2, None, same_out, _np_same(np.minimum), "jnp.minimum",
             lambda i, o, g: [eq(o, i[0]) * g, eq(o, i[1]) * g], commutative=True, associative=True),
    ScalarOp("clip", 3, None, same_out, _np_same(np.clip), _jax_clip,
             lambda i, o, g: [(ge(i[0], i[1]) & le(i[0], i[2])) * g, lt(i[0], i[1]) * g,
                              gt(i[0], i[2]) * g]),
    ScalarOp("switch", 3, None, switch_out, lambda c, a, b: np.where(c, a, b).astype(
        switch_out(["bool", str(np.asarray(a).dtype), str(np.asarray(b).dtype)])), "jnp.where",
             lambda i, o, g: [None, switch(i[0], g, 0), switch(i[0], 0, g)], connected=(False, True, True)),
    ScalarOp("second", 2, None, second_out, lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape).copy(), _jax_second,
             lambda i, o, g: [None, g], connected=(False, True)),
    ScalarOp("identity", 1, None, same_out, lambda x: np.array(x), lambda j: lambda x: x, lambda i, o, g: [g]),
    ScalarOp("lt", 2, None, bool_out, np.less, "jnp.less", None),
    ScalarOp("gt", 2, None, bool_out, np.greater, "jnp.greater", None),
    ScalarOp("le", 2, None, bool_out, np.less_equal, "jnp.less_equal", None),
    ScalarOp("ge", 2, None, bool_out, np.greater_equal, "jnp.greater_equal", None),
    ScalarOp("eq", 2, None, bool_out, np.equal, "jnp.equal", None, commutative=True),
    ScalarOp("neq", 2, None, bool_out, np.not_equal, "jnp.not_equal", None, commutative=True),
    ScalarOp("isnan", 1, None, bool_out, np.isnan, "jnp.isnan", None),
    ScalarOp("isinf", 1, None, bool_out, np.isinf, "jnp.isinf", None),
    ScalarOp("and_", 2, None, bitwise_out, np.bitwise_and, "jnp.bitwise_and", None, commutative=True, associative=True),
    ScalarOp("or_", 2, None, bitwise_out, np.bitwise_or, "jnp.bitwise_or", None, commutative=True, associative=True),
    ScalarOp("xor", 2, None, bitwise_out, np.bitwise_xor, "jnp.bitwise_xor", None, commutative=True),
    ScalarOp("invert", 1, None, bitwise_out, np.invert, "jnp.invert", None),
]
SCALAR_OPS: dict[str, ScalarOp] = {r.name: r for r in _ROWS}


def _scalar_op_by_key(name: str, params: tuple) -> ScalarOp:
    """Unpickling helper: the table row ``name`` (``Cast`` rows are built from their dtype)."""
    return cast_scalar_op(params[0]) if name == "Cast" else SCALAR_OPS[name]


def cast_scalar_op(dtype: str) -> ScalarOp:
    """The scalar op converting to ``dtype`` (Theano's ``Cast{dtype}``)."""
    dtype = str(np.dtype(dtype))

    def grad(i, o, g):
        if i[0].dtype in continuous_dtypes and dtype in continuous_dtypes:
            return [cast(g, i[0].dtype)]
        return [None]

    return ScalarOp("Cast", 1, None, lambda dts: dtype, lambda x: np.asarray(x).astype(dtype),
                    lambda j: lambda x: j.jnp.asarray(x).astype(dtype), grad, params=(dtype,))


# ------------------------------------------------------------------ Elemwise


class Elemwise(Op):
    """Apply a scalar op elementwise, with Theano's broadcasting rules.

    Inputs of lower rank are first DimShuffled to the output's rank
    (new dimensions broadcastable), as Theano does.
    """

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op: ScalarOp) -> None:
        self.scalar_op = scalar_op

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op},no_inplace}}"

    def make_node(self, *inputs: Any) -> Apply:
        so = self.scalar_op
        if so.nin != -1 and len(inputs) != so.nin:
            raise TypeError(f"{so.name} takes {so.nin} inputs, got {len(inputs)}")
        ins = [as_tensor_variable(i) for i in inputs]
        ndim = max(i.ndim for i in ins)
        ins = [i if i.ndim == ndim else DimShuffle(i.broadcastable, ["x"] * (ndim - i.ndim)
                                                   + list(range(i.ndim)))(i) for i in ins]
        bcast = tuple(all(i.broadcastable[d] for i in ins) for d in range(ndim))
        try:
            dtype = so.out_dtype([i.dtype for i in ins])
        except TypeError as e:
            raise TypeError(f"{so.name}: {e}") from None
        return Apply(self, ins, [TensorType(dtype, bcast)()])

    def perform(self, node, inputs, output_storage):
        check_broadcast(node, [np.shape(i) for i in inputs])
        out = self.scalar_op.numpy(*inputs)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def connection_pattern(self, node):
        c = self.scalar_op.connected
        if c is None:
            return [[True] for _ in node.inputs]
        return [[b] for b in c]

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        out = outputs[0]
        so = self.scalar_op
        disconnected = [DisconnectedType()() for _ in inputs]
        if isinstance(gz.type, DisconnectedType):
            return disconnected
        if so.grad is None or out.dtype in discrete_dtypes:
            return [_zero_grad(i) for i in inputs]
        grads = so.grad(list(inputs), out, gz)
        result = []
        for k, (inp, g) in enumerate(zip(inputs, grads)):
            if g is None:
                connected = so.connected is None or so.connected[k]
                result.append(_zero_grad(inp) if connected else disconnected[k])
                continue
            if inp.dtype in discrete_dtypes:
                result.append(_zero_grad(inp))
                continue
            g = as_tensor_variable(g)
            result.append(_reduce_to_input(g, inp))
        return result

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points):
            return [None]
        out = self(*inputs)
        from thx.tensor.basic import ones_like
        live = [e is not None and not getattr(e.tag, "zero_eval_point", False) for e in eval_points]
        if not any(live):  # only zero eval points (Rop's roots outside wrt): the result is zero
            from thx.tensor.basic import zeros_like
            z = zeros_like(out)
            z.tag.zero_eval_point = True
            return [z]
        so = self.scalar_op
        if so.grad is None or out.dtype in discrete_dtypes:
            return [_zero_grad(out)]
        # the partial derivatives at each output element: the scalar grad formula with a seed of
        # ones, NOT reduced over broadcast axes (that sum belongs to L_op only)
        grads = so.grad(list(inputs), out, ones_like(out))
        rop = None
        for g, e, keep in zip(grads, eval_points, live):
            if not keep or g is None:
                continue
            term = as_tensor_variable(g) * e
            rop = term if rop is None else rop + term
        if rop is None:
            return [_zero_grad(out)]
        if rop.dtype != out.dtype and out.dtype in continuous_dtypes:
            rop = cast(rop, out.dtype)
        return [rop]

    def infer_shape(self, fgraph, node, input_shapes):
        out = []
        for d in range(node.outputs[0].ndim):
            dim = None
            for inp, sh in zip(node.inputs, input_shapes):
                if not inp.broadcastable[d]:
                    dim = sh[d]
                    break
            out.append(dim if dim is not None else constant(1, dtype="int64"))
        return [tuple(out)]

    def pprint(self, node, ins: list[str]) -> str:
        so = self.scalar_op
        if so.name == "second":
            return f"fill({ins[0]}, {ins[1]})"
        if so.symbol is not None and "{0}" in so.symbol:  # a pattern, e.g. |x| for abs
            return so.symbol.format(*ins)
        if so.symbol is not None:
            if len(ins) == 1:
                return f"({so.symbol}{ins[0]})"
            return "(" + f" {so.symbol} ".join(ins) + ")"
        name = so.name if so.name != "Cast" else f"Cast{{{so.params[0]}}}"
        return f"{name}({', '.join(ins)})"


def check_broadcast(node: Apply, shapes: Sequence[tuple]) -> None:
    """Theano's run-time rule: only dimensions typed broadcastable may broadcast.

    A length-1 dimension that is not broadcastable in its type must match the
    other inputs' lengths; NumPy and JAX would broadcast it silently, and its
    gradient would come back with the wrong shape.
    """
    lengths: dict[int, tuple[int, int]] = {}
    for k, (inp, shp) in enumerate(zip(node.inputs, shapes)):
        for d, (b, n) in enumerate(zip(inp.broadcastable, shp)):
            if b:
                continue
            if d in lengths and lengths[d][1] != n and 1 in (n, lengths[d][1]):
                j, m = lengths[d]  # (other mismatches fail in NumPy/JAX with their own message)
                raise ValueError(
                    f"Input dimension mis-match in {node.op}: (input[{j}].shape[{d}] = {m}, "
                    f"input[{k}].shape[{d}] = {n}). Only dimensions of a broadcastable type "
                    f"broadcast: use T.addbroadcast / patternbroadcast, or a row/col type.")
            lengths.setdefault(d, (k, n))


def _zero_grad(inp: Variable) -> Variable:
    """The gradient of a piecewise-constant function: zeros of a float type."""
    from thx.tensor.basic import zeros_like
    dtype = inp.dtype if inp.dtype in float_dtypes else "float64" if inp.dtype in discrete_dtypes \
        else upgrade_to_float(inp.dtype)
    from thx.config import config
    if inp.dtype in discrete_dtypes:
        dtype = config.floatX
    return zeros_like(inp, dtype=dtype)


def _reduce_to_input(g: Variable, inp: Variable) -> Variable:
    """Sum ``g`` over the axes where ``inp`` was broadcast, and match its dtype."""
    to_sum = [d for d, (bi, bg) in enumerate(zip(inp.broadcastable, g.broadcastable)) if bi and not bg]
    if g.ndim > inp.ndim:
        raise AssertionError("gradient has more dimensions than its input")
    if to_sum:
        from thx.tensor.math import sum as _sum
        g = _sum(g, axis=to_sum, keepdims=True)
    if g.broadcastable != inp.broadcastable and g.ndim == inp.ndim:
        from thx.tensor.basic import patternbroadcast
        g = patternbroadcast(g, inp.broadcastable)
    if g.dtype != inp.dtype and inp.dtype in continuous_dtypes:
        g = cast(g, inp.dtype)
    return g


# ------------------------------------------------------------------ DimShuffle


class DimShuffle(Op):
    """Reorder dimensions, add broadcastable ones (``'x'``), drop broadcastable ones.

    Parameters
    ----------
    input_broadcastable : tuple of bool
    new_order : sequence of int or 'x'
    """

    __props__ = ("input_broadcastable", "new_order")

    def __init__(self, input_broadcastable: Sequence[bool], new_order: Sequence[int | str]) -> None:
        self.input_broadcastable = tuple(bool(b) for b in input_broadcastable)
        self.new_order = tuple(new_order)
        nd = len(self.input_broadcastable)
        used = [d for d in self.new_order if d != "x"]
        for d in used:
            if not isinstance(d, (int, np.integer)) or not 0 <= d < nd:
                raise ValueError(f"DimShuffle: invalid dimension {d!r} for an input of {nd} dimensions "
                                 f"(pattern {self.new_order})")
        if len(set(used)) != len(used):
            raise ValueError(f"DimShuffle: a dimension appears twice in {self.new_order}")
        self.drop = [d for d in range(nd) if d not in used]
        for d in self.drop:
            if not self.input_broadcastable[d]:
                raise ValueError(f"DimShuffle: cannot drop non-broadcastable dimension {d} "
                                 f"(pattern {self.new_order} on {self.input_broadcastable})")
        self.shuffle = used
        self.augment = [i for i, d in enumerate(self.new_order) if d == "x"]

    def __str__(self) -> str:
        return f"DimShuffle{{{','.join(str(d) for d in self.new_order)}}}"

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.broadcastable != self.input_broadcastable:
            if len(x.broadcastable) != len(self.input_broadcastable) or any(
                    b and not xb for b, xb in zip(self.input_broadcastable, x.broadcastable)):
                raise TypeError(f"DimShuffle{self.new_order} expected an input with broadcastable "
                                f"pattern {self.input_broadcastable}, got {x.broadcastable}")
        bcast = tuple(True if d == "x" else x.broadcastable[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, output_storage):
        x = np.asarray(inputs[0])
        out_shape = [1 if d == "x" else x.shape[d] for d in self.new_order]
        output_storage[0][0] = np.transpose(x, self.shuffle + self.drop).reshape(out_shape)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x)]
        order: list[Any] = ["x"] * x.ndim
        for i, d in enumerate(self.new_order):
            if d != "x":
                order[d] = i
        # Output dims that were 'x' are broadcastable in gz's type but may not be
        # if gz came from elsewhere: drop them only where broadcastable.
        gz = as_tensor_variable(gz)
        drop_ok = [i for i in self.augment if not gz.broadcastable[i]]
        if drop_ok:
            from thx.tensor.math import sum as _sum
            gz = _sum(gz, axis=drop_ok, keepdims=True)
        return [DimShuffle(gz.broadcastable, order)(gz)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        (ish,) = input_shapes
        return [tuple(constant(1, dtype="int64") if d == "x" else ish[d] for d in self.new_order)]

    def pprint(self, node, ins: list[str]) -> str:
        order = [d for d in self.new_order if d != "x"]
        nd = len(self.input_broadcastable)
        if order == list(range(nd)):
            return ins[0]
        if order == list(reversed(range(nd))) and nd > 1:
            return f"{ins[0]}.T"
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}({ins[0]})"


# ------------------------------------------------------------------ user functions

_ELEMWISE_CACHE: dict[ScalarOp, Elemwise] = {}


def elemwise_op(scalar_op: ScalarOp) -> Elemwise:
    """The (shared) Elemwise op of a scalar op."""
    op = _ELEMWISE_CACHE.get(scalar_op)
    if op is None:
        op = _ELEMWISE_CACHE[scalar_op] = Elemwise(scalar_op)
    return op


def _fn(name: str, doc: str):
    op = elemwise_op(SCALAR_OPS[name])

    def f(*args):
        return op(*args)

    f.__name__ = name
    f.__doc__ = doc + "\n\nElementwise, with Theano's broadcasting rules.\n"
    f.op = op  # type: ignore[attr-defined]
    return f


add = _fn("add", "Sum of the inputs, ``a + b + ...``.")
sub = _fn("sub", "Difference ``a - b``.")
mul = _fn("mul", "Product of the inputs, ``a * b * ...``.")
true_div = _fn("true_div", "True division ``a / b`` (integers give floats).")
int_div = _fn("int_div", "Floor division ``a // b``.")
floor_div = int_div
mod = _fn("mod", "Remainder ``a % b`` (sign of the divisor, as NumPy).")
pow = _fn("pow", "Power ``a ** b``.")
neg = _fn("neg", "Negation ``-a``.")
abs_ = _fn("abs", "Absolute value.")
sgn = _fn("sgn", "Sign: -1, 0 or 1.")
sqr = _fn("sqr", "Square ``a * a``.")
sqrt = _fn("sqrt", "Square root.")
exp = _fn("exp", "Exponential.")
exp2 = _fn("exp2", "``2 ** a``.")
expm1 = _fn("expm1", "``exp(a) - 1``, accurate near 0.")
log = _fn("log", "Natural logarithm.")
log2 = _fn("log2", "Base-2 logarithm.")
log10 = _fn("log10", "Base-10 logarithm.")
log1p = _fn("log1p", "``log(1 + a)``, accurate near 0.")
sin = _fn("sin", "Sine.")
cos = _fn("cos", "Cosine.")
tan = _fn("tan", "Tangent.")
arcsin = _fn("arcsin", "Inverse sine.")
arccos = _fn("arccos", "Inverse cosine.")
arctan = _fn("arctan", "Inverse tangent.")
arctan2 = _fn("arctan2", "Two-argument inverse tangent.")
sinh = _fn("sinh", "Hyperbolic sine.")
cosh = _fn("cosh", "Hyperbolic cosine.")
tanh = _fn("tanh", "Hyperbolic tangent.")
arcsinh = _fn("arcsinh", "Inverse hyperbolic sine.")
arccosh = _fn("arccosh", "Inverse hyperbolic cosine.")
arctanh = _fn("arctanh", "Inverse hyperbolic tangent.")
erf = _fn("erf", "Error function.")
erfc = _fn("erfc", "Complementary error function.")
floor = _fn("floor", "Floor.")
ceil = _fn("ceil", "Ceiling.")
trunc = _fn("trunc", "Round towards zero.")
round_half_to_even = _fn("round_half_to_even", "Round to nearest, ties to even.")
round_half_away_from_zero = _fn("round_half_away_from_zero", "Round to nearest, ties away from zero.")
sigmoid = _fn("sigmoid", "Logistic sigmoid ``1 / (1 + exp(-a))``.")
softplus = _fn("softplus", "``log(1 + exp(a))``, computed stably.")
maximum = _fn("maximum", "Elementwise maximum.")
minimum = _fn("minimum", "Elementwise minimum.")
lt = _fn("lt", "``a < b``.")
gt = _fn("gt", "``a > b``.")
le = _fn("le", "``a <= b``.")
ge = _fn("ge", "``a >= b``.")
eq = _fn("eq", "``a == b`` (elementwise; Python's ``==`` on variables is identity, as in Theano).")
neq = _fn("neq", "``a != b`` elementwise.")
isnan = _fn("isnan", "True where ``a`` is NaN.")
isinf = _fn("isinf", "True where ``a`` is infinite.")
and_ = _fn("and_", "Bitwise/logical and.")
or_ = _fn("or_", "Bitwise/logical or.")
xor = _fn("xor", "Bitwise/logical xor.")
invert = _fn("invert", "Bitwise/logical not.")
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
second = _fn("second", "``fill(a, b)``: ``b`` broadcast to the shape of ``a``.")
fill = second
identity = _fn("identity", "The input, unchanged.")
_switch = elemwise_op(SCALAR_OPS["switch"])
_clip = elemwise_op(SCALAR_OPS["clip"])
true_divide = true_div
abs = abs_  # noqa: A001  (Theano exposes T.abs_; T.abs for NumPy users)


def switch(cond: Any, ift: Any, iff: Any) -> Variable:
    """``ift`` where ``cond`` is true, else ``iff`` (elementwise; both are computed).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dvector('x')
    >>> T.switch(T.lt(x, 0), 0, x).eval({x: [-1.0, 2.0]})
    array([0., 2.])
    """
    return _switch(cond, ift, iff)


where = switch


def clip(x: Any, a_min: Any, a_max: Any) -> Variable:
    """``x`` limited to ``[a_min, a_max]``; the gradient is passed inside the interval."""
    return _clip(x, a_min, a_max)


def round(x: Any, mode: str = "half_to_even") -> Variable:  # noqa: A001
    """Round to the nearest integer (``mode``: 'half_to_even' or 'half_away_from_zero')."""
    if mode == "half_to_even":
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)
    raise ValueError(f"round: unknown mode {mode!r} (use 'half_to_even' or 'half_away_from_zero')")


def cast(x: Any, dtype: str) -> Variable:
    """``x`` converted to ``dtype`` (a no-op if it already has it).

    Examples
    --------
    >>> import thx.tensor as T
    >>> T.cast(T.ivector('i'), 'float32').dtype
    'float32'
    """
    from thx.config import config
    x = as_tensor_variable(x)
    dtype = config.floatX if dtype == "floatX" else str(np.dtype(dtype))
    if x.dtype == dtype:
        return x
    return elemwise_op(cast_scalar_op(dtype))(x)


def inv(x: Any) -> Variable:
    """``1 / x``."""
    return true_div(1.0, x)


def deg2rad(x: Any) -> Variable:
    """Degrees to radians."""
    return x * np.asarray(np.pi / 180, dtype="float64")


def rad2deg(x: Any) -> Variable:
    """Radians to degrees."""
    return x * np.asarray(180 / np.pi, dtype="float64")
