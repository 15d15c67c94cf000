"""Stabilize: replace numerically unstable subgraphs by stable equivalents.

``log(1 + x) -> log1p(x)``, ``exp(x) - 1 -> expm1(x)``, ``log(sigmoid(x)) ->
-softplus(-x)``, ``log(1 - sigmoid(x)) -> -softplus(x)``, a max-shifted
log-sum-exp, ``log(softmax(x)) -> logsoftmax(x)`` (also under indexing, the
categorical cross-entropy), ``exp(x) / sum(exp(x)) -> softmax(x)``.
"""

from __future__ import annotations

from thx.rewriting.constants import scalar_value, tensor_constant
from thx.rewriting.engine import local_rewrite
from thx.rewriting.patterns import pattern
from thx.rewriting.utils import op_name
from thx.tensor import elemwise as E
from thx.tensor.elemwise import DimShuffle
from thx.tensor.math import LogSoftmax, Max, Softmax, Sum, _keep_dims
from thx.tensor.subtensor import AdvancedSubtensor, Subtensor
from thx.tensor.type import float_dtypes

STAB = "stabilize"


def _neg(x):
    """``-x``, without stacking two negations."""
    return x.owner.inputs[0] if op_name(x) == "neg" else E.neg(x)


# Sigmoid forms first: log(1 - sigmoid(x)) must not become log1p(-sigmoid(x)) before it is seen.
pattern("local_log_sigmoid", (E.log, (E.sigmoid, "x")),                 # log(sigmoid(x)) -> -softplus(-x)
        lambda x: E.neg(E.softplus(_neg(x))), phase=STAB)
pattern("local_log1m_sigmoid", (E.log, (E.sub, 1, (E.sigmoid, "x"))),   # log(1 - sigmoid(x)) -> -softplus(x)
        lambda x: E.neg(E.softplus(x)), phase=STAB)
pattern("local_log1p_neg_sigmoid", (E.log1p, (E.neg, (E.sigmoid, "x"))),  # log1p(-sigmoid(x)) -> -softplus(x)
        lambda x: E.neg(E.softplus(x)), phase=STAB)
_1msigmoid = pattern("local_1msigmoid", (E.sub, 1, (E.sigmoid, "x")), lambda x: E.sigmoid(_neg(x)))
pattern("local_log1p_exp", (E.log1p, (E.exp, "x")), (E.softplus, "x"), phase=STAB)  # log1p(exp(x)) -> softplus(x)
pattern("local_log_exp", (E.log, (E.exp, "x")), "x", phase=STAB)                  # log(exp(x)) -> x
pattern("local_expm1", (E.sub, (E.exp, "x"), 1), (E.expm1, "x"), phase=STAB)      # exp(x) - 1 -> expm1(x)
pattern("local_expm1_add", (E.add, -1, (E.exp, "x")), (E.expm1, "x"), phase=STAB)  # -1 + exp(x) -> expm1(x)
pattern("local_inv_1_plus_exp", (E.true_div, 1, (E.add, 1, (E.exp, "x"))),        # 1 / (1 + exp(x)) -> sigmoid(-x)
        lambda x: E.sigmoid(_neg(x)), phase=STAB)
pattern("local_exp_over_1_plus_exp", (E.true_div, (E.exp, "x"), (E.add, 1, (E.exp, "x"))),
        (E.sigmoid, "x"), phase=STAB)                                           # exp(x) / (1 + exp(x)) -> sigmoid(x)
pattern("local_log_softmax", (E.log, (Softmax, "x")), lambda x: LogSoftmax()(x),  # log(softmax(x)) -> logsoftmax(x)
        phase=STAB)


@local_rewrite(E.log, phase=STAB)
def local_log1p(fgraph, node):  # log(1 + x) -> log1p(x) ; log(1 - x) -> log1p(-x)
    v = node.inputs[0]
    k = op_name(v)
    if k == "add":
        ins = v.owner.inputs
        ones = [i for i, t in enumerate(ins) if scalar_value(t) == 1 and all(t.broadcastable)]
        if not ones or len(ins) < 2:
            return None
        rest = ins[:ones[0]] + ins[ones[0] + 1:]
        y = rest[0] if len(rest) == 1 else E.add(*rest)
    elif k == "sub" and scalar_value(v.owner.inputs[0]) == 1 and all(v.owner.inputs[0].broadcastable):
        y = _neg(v.owner.inputs[1])
    else:
        return None
    if y.dtype != v.dtype:
        y = E.cast(y, v.dtype)
    return [E.log1p(y)]


@local_rewrite(E.log, phase=STAB)
def local_log_sum_exp(fgraph, node):  # log(sum(exp(x))) -> m + log(sum(exp(x - m)))   (m = max(x), 0 if inf)
    if getattr(node.tag, "stable_logsumexp", False):
        return None  # built by this rewrite: its sum is already of shifted values
    v = node.inputs[0]
    shuffle = None
    if v.owner is not None and isinstance(v.owner.op, DimShuffle):
        shuffle, v = v.owner.op, v.owner.inputs[0]
    s = v.owner
    if s is None or type(s.op) is not Sum or op_name(s.inputs[0]) != "exp":
        return None
    e = s.inputs[0]
    x = e.owner.inputs[0]
    if x.dtype not in float_dtypes or s.op.out_dtype(e.dtype) != e.dtype:
        return None
    axes = s.op._axes(x.ndim)
    if _max_shifted(x, axes):
        return None  # x = a - max(a) over the summed axes already: its max is exactly 0
    m = Max(s.op.axis)(x)
    m = E.switch(E.isinf(m), tensor_constant(0, m.dtype, 0), m)  # an all -inf (or +inf) group keeps its value
    shifted = E.exp(x - _keep_dims(x, m, axes) if axes else x - m)
    log = E.log(Sum(s.op.axis, s.op.dtype, s.op.acc_dtype)(shifted))
    log.owner.tag.stable_logsumexp = True
    out = m + log
    return [shuffle(out) if shuffle is not None else out]


def _max_shifted(x, axes) -> bool:
    """``x`` is ``a - max(a)`` with the max over exactly ``axes``, broadcast back (the user's own
    stabilization, as in ``z - z.max(axis=1, keepdims=True)``).  Then every group of ``x`` has
    an exact 0 and no entry above it, so its log-sum-exp neither overflows nor underflows, and
    an inf or nan in ``a`` gives nan either way: shifting again changes no value."""
    if op_name(x) != "sub":
        return False
    a, b = x.owner.inputs
    if b.owner is not None and isinstance(b.owner.op, DimShuffle):
        kept = iter(range(a.ndim - len(axes)))  # keepdims' pattern: 'x' at each reduced axis
        order = tuple("x" if d in axes else next(kept) for d in range(a.ndim))
        if tuple(b.owner.op.new_order) != order:
            return False
        b = b.owner.inputs[0]
    m = b.owner
    return (m is not None and type(m.op) is Max and m.inputs[0] is a
            and tuple(m.op._axes(a.ndim)) == tuple(axes) and b.ndim == a.ndim - len(axes))


@local_rewrite(E.log, phase=STAB)
def local_log_subtensor_softmax(fgraph, node):  # log(softmax(x)[i]) -> logsoftmax(x)[i]
    v = node.inputs[0]
    n = v.owner
    if n is None or not isinstance(n.op, (Subtensor, AdvancedSubtensor)):
        return None
    sm = n.inputs[0]
    if sm.owner is None or not isinstance(sm.owner.op, Softmax):
        return None
    return [n.op(LogSoftmax()(sm.owner.inputs[0]), *n.inputs[1:])]


@local_rewrite(E.true_div, phase=STAB)
def local_softmax_from_exp(fgraph, node):  # exp(x) / sum(exp(x), axis=-1, keepdims=True) -> softmax(x)
    e, d = node.inputs
    if op_name(e) != "exp" or d.owner is None or not isinstance(d.owner.op, DimShuffle):
        return None
    s = d.owner.inputs[0].owner
    x = e.owner.inputs[0]
    n = x.ndim
    if s is None or type(s.op) is not Sum or s.inputs[0] is not e or n == 0:
        return None
    if x.dtype not in float_dtypes or s.op._axes(n) != (n - 1,) or s.op.out_dtype(x.dtype) != x.dtype:
        return None
    if d.owner.op.new_order != tuple(range(n - 1)) + ("x",):
        return None
    sm = Softmax()(x)
    return [sm.dimshuffle(1) if n == 1 else sm]  # the op takes a vector as a one-row matrix


def _exp_of(v):
    return v.owner.inputs[0] if op_name(v) == "exp" else None


def _one_plus(d, e) -> bool:
    """``d`` is ``1 + e``."""
    return (op_name(d) == "add" and len(d.owner.inputs) == 2 and e in d.owner.inputs
            and any(i is not e and scalar_value(i) == 1 and all(i.broadcastable) for i in d.owner.inputs))


def _square_of(v):
    """``d`` if ``v`` is ``d * d``, ``sqr(d)`` or ``d ** 2``."""
    k = op_name(v)
    if k == "mul" and len(v.owner.inputs) == 2 and v.owner.inputs[0] is v.owner.inputs[1]:
        return v.owner.inputs[0]
    if k == "sqr":
        return v.owner.inputs[0]
    if k == "pow" and scalar_value(v.owner.inputs[1]) == 2:
        return v.owner.inputs[0]
    return None


@local_rewrite(E.true_div, phase=STAB)
def local_sigmoid_grad(fgraph, node):  # a * exp(x) / (1 + exp(x)) ** 2 -> a * sigmoid(x) * sigmoid(-x)
    num, den = node.inputs
    d = _square_of(den)
    if d is None:
        return None
    factors = num.owner.inputs if op_name(num) == "mul" else [num]
    for k, f in enumerate(factors):
        x = _exp_of(f)
        if x is not None and x.dtype in float_dtypes and _one_plus(d, f):
            rest = list(factors[:k]) + list(factors[k + 1:])
            return [E.mul(*rest, E.sigmoid(x), E.sigmoid(_neg(x)))]
    return None


# Uses where the absolute error of ``1 - s`` (at most one rounding of 1) is the result's absolute
# error: sums and products.  A quotient, log or power of it needs its relative error.
_ABSOLUTE = frozenset(("add", "sub", "mul", "neg"))
_RELATIVE = frozenset(("true_div", "log", "log2", "log10", "log1p", "pow", "sqrt", "reciprocal"))


def _scaled_only(fgraph, v) -> bool:
    """Every reader of ``v`` adds or multiplies it, and no product of it is divided by or logged."""
    for client, _ in fgraph.clients.get(v, ()):
        if client == "output" or op_name(client.outputs[0]) not in _ABSOLUTE:
            return False
        for reader, i in fgraph.clients.get(client.outputs[0], ()):
            name = None if reader == "output" else op_name(reader.outputs[0])
            if name in _RELATIVE and not (name == "true_div" and i == 0):
                return False
    return True


@local_rewrite(E.sub, phase=STAB)
def local_1msigmoid(fgraph, node):  # 1 - sigmoid(x) -> sigmoid(-x)
    """Unless ``sigmoid(x)`` is computed anyway and ``1 - sigmoid(x)`` is only added or multiplied
    (the gradient ``s * (1 - s)``, a GRU's ``u * h + (1 - u) * c``): there ``sigmoid(-x)`` would be
    a second exponential for an absolute error of one rounding (Theano's own guard: the graph
    uses both).  A ``1 - sigmoid(x)`` divided by or logged is rewritten: there its relative
    error counts."""
    s = node.inputs[1]
    if len(fgraph.clients.get(s, ())) > 1 and _scaled_only(fgraph, node.outputs[0]):
        return None
    return _1msigmoid(fgraph, node)
