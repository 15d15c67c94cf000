"""Random differentiable expression graphs ("recipes"), replayed in thx, NumPy and JAX.

A *recipe* is a tiny SSA program: a list of inputs (dtype, shape, broadcastable
pattern, concrete value) followed by steps ``(op, args, params)``.  The
generator builds each step in thx (to learn the dtype and broadcastable
pattern thx gives it) and evaluates it in NumPy at the same time, so it can
choose only steps that are well-defined *at these input values*: ``log`` of
values above 0.05, divisions by values away from 0, ``maximum`` and ``max``
without ties, ``abs`` away from its kink.  The gradient is then smooth at the
point, and thx, JAX and finite differences must agree.

The same recipe is then replayed with ``jax.numpy`` (the oracle for values,
``jax.grad``, ``jax.jvp`` and ``jax.vjp``).  The NumPy/JAX replay casts to the
dtype thx chose for every step, so dtype rules (Theano's upcasting, constant
autocasting) are part of what thx must implement, not something the oracle
guesses.

Choices come from a ``Chooser``: hypothesis' ``data.draw`` in the property
test, a ``random.Random`` for ad-hoc runs.  Input values come from a NumPy
``RandomState`` seeded by one drawn integer (hypothesis stays small and fast).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import thx
import thx.tensor as T

FAMILIES = ("unary", "binary", "reduce", "dot", "shape", "index", "setinc", "switch", "join",
            "cast", "scan", "pattern")

# ------------------------------------------------------------------------ choices


class Chooser:
    """Structural choices; subclasses draw them from hypothesis or from a Random."""

    def choice(self, seq):
        raise NotImplementedError

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def coin(self, p: float = 0.5) -> bool:
        return self.integer(0, 999) < int(p * 1000)


class RandomChooser(Chooser):
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def choice(self, seq):
        return self.r.choice(list(seq))

    def integer(self, lo, hi):
        return self.r.randint(lo, hi)


class HypothesisChooser(Chooser):
    """Choices drawn by hypothesis, rotated by a per-graph ``salt``.

    Hypothesis' first example is its simplest (every draw at its minimum);
    the salt makes the graphs of such a batch differ from each other.
    """

    def __init__(self, data, salt: int = 0) -> None:
        from hypothesis import strategies as st
        self.data, self.st = data, st
        self.salt = salt

    def choice(self, seq):
        seq = list(seq)
        k = self.data.draw(self.st.integers(0, len(seq) - 1))
        return seq[(k + self.salt) % len(seq)]

    def integer(self, lo, hi):
        return lo + (self.data.draw(self.st.integers(lo, hi)) - lo + self.salt) % (hi - lo + 1)


# ------------------------------------------------------------------------ op tables


def _erf(xp):
    if xp is np:
        return np.vectorize(math.erf, otypes=[float])
    import jax.scipy.special as jss
    return jss.erf


def _erfc(xp):
    if xp is np:
        return np.vectorize(math.erfc, otypes=[float])
    import jax.scipy.special as jss
    return jss.erfc


def _sigmoid(xp):
    return lambda x: 1 / (1 + xp.exp(-x))


def _softplus(xp):
    return lambda x: xp.logaddexp(0, x)


def _all(pred):
    return lambda v: bool(np.all(pred(np.asarray(v, dtype="float64"))))


# name -> (xp function getter, domain predicate on the concrete operand)
UNARY: dict[str, tuple[Any, Any]] = {
    "neg": (lambda xp: xp.negative, _all(lambda v: True)),
    "abs": (lambda xp: xp.abs, _all(lambda v: np.abs(v) > 1e-2)),
    "sqr": (lambda xp: xp.square, _all(lambda v: np.abs(v) < 50)),
    "sqrt": (lambda xp: xp.sqrt, _all(lambda v: v > 0.05)),
    "exp": (lambda xp: xp.exp, _all(lambda v: v < 4)),
    "expm1": (lambda xp: xp.expm1, _all(lambda v: v < 4)),
    "exp2": (lambda xp: xp.exp2, _all(lambda v: v < 6)),
    "log": (lambda xp: xp.log, _all(lambda v: v > 0.05)),
    "log2": (lambda xp: xp.log2, _all(lambda v: v > 0.05)),
    "log10": (lambda xp: xp.log10, _all(lambda v: v > 0.05)),
    "log1p": (lambda xp: xp.log1p, _all(lambda v: v > -0.8)),
    "sin": (lambda xp: xp.sin, _all(lambda v: True)),
    "cos": (lambda xp: xp.cos, _all(lambda v: True)),
    "tan": (lambda xp: xp.tan, _all(lambda v: np.abs(v) < 1.2)),
    "tanh": (lambda xp: xp.tanh, _all(lambda v: True)),
    "arcsin": (lambda xp: xp.arcsin, _all(lambda v: np.abs(v) < 0.9)),
    "arccos": (lambda xp: xp.arccos, _all(lambda v: np.abs(v) < 0.9)),
    "arctan": (lambda xp: xp.arctan, _all(lambda v: True)),
    "arctanh": (lambda xp: xp.arctanh, _all(lambda v: np.abs(v) < 0.9)),
    "sinh": (lambda xp: xp.sinh, _all(lambda v: np.abs(v) < 4)),
    "cosh": (lambda xp: xp.cosh, _all(lambda v: np.abs(v) < 4)),
    "arcsinh": (lambda xp: xp.arcsinh, _all(lambda v: True)),
    "arccosh": (lambda xp: xp.arccosh, _all(lambda v: v > 1.1)),
    "sigmoid": (_sigmoid, _all(lambda v: True)),
    "softplus": (_softplus, _all(lambda v: True)),
    "erf": (_erf, _all(lambda v: True)),
    "erfc": (_erfc, _all(lambda v: True)),
}
THX_UNARY = {"neg": lambda x: -x, "abs": abs, "sqr": T.sqr, "sqrt": T.sqrt, "exp": T.exp,
             "expm1": T.expm1, "exp2": T.exp2, "log": T.log, "log2": T.log2, "log10": T.log10,
             "log1p": T.log1p, "sin": T.sin, "cos": T.cos, "tan": T.tan, "tanh": T.tanh,
             "arcsin": T.arcsin, "arccos": T.arccos, "arctan": T.arctan, "arctanh": T.arctanh,
             "sinh": T.sinh, "cosh": T.cosh, "arcsinh": T.arcsinh, "arccosh": T.arccosh,
             "sigmoid": T.nnet.sigmoid, "softplus": T.nnet.softplus, "erf": T.erf, "erfc": T.erfc}
# operand predicates for binary ops: (x, y) broadcast concrete values
BINARY: dict[str, tuple[Any, Any, Any]] = {
    "add": (lambda a, b: a + b, lambda xp: xp.add, None),
    "sub": (lambda a, b: a - b, lambda xp: xp.subtract, None),
    "mul": (lambda a, b: a * b, lambda xp: xp.multiply, None),
    "true_div": (lambda a, b: a / b, lambda xp: xp.true_divide, lambda x, y: np.all(np.abs(y) > 0.25)),
    "pow": (lambda a, b: a ** b, lambda xp: xp.power,
            lambda x, y: np.all(x > 0.25) and np.all(np.abs(y) < 2.5)),
    "maximum": (T.maximum, lambda xp: xp.maximum, lambda x, y: np.all(np.abs(x - y) > 1e-2)),
    "minimum": (T.minimum, lambda xp: xp.minimum, lambda x, y: np.all(np.abs(x - y) > 1e-2)),
    "arctan2": (T.arctan2, lambda xp: xp.arctan2, lambda x, y: np.all(x * x + y * y > 0.05)),
}
REDUCE = {"sum": (T.sum, lambda xp: xp.sum), "prod": (T.prod, lambda xp: xp.prod),
          "max": (T.max, lambda xp: xp.max), "min": (T.min, lambda xp: xp.min),
          "mean": (T.mean, lambda xp: xp.mean), "var": (T.var, lambda xp: xp.var),
          "logsumexp": (T.logsumexp, lambda xp: _logsumexp(xp))}


def _logsumexp(xp):
    if xp is np:
        def f(x, axis=None, keepdims=False):
            m = np.max(x, axis=axis, keepdims=True)
            out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
            return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
        return f
    import jax.scipy.special as jss
    return jss.logsumexp


# Compositions the optimizer rewrites (stabilize/canonicalize/specialize): each is
# (thx builder, NumPy/JAX builder on xp, domain predicate)
PATTERNS: dict[str, tuple[Any, Any, Any]] = {
    "log(1+x)": (lambda x: T.log(1 + x), lambda xp, x: xp.log(1 + x), _all(lambda v: v > -0.8)),
    "log(sigmoid)": (lambda x: T.log(T.nnet.sigmoid(x)), lambda xp, x: -xp.logaddexp(0, -x),
                     _all(lambda v: True)),
    "log(1-sigmoid)": (lambda x: T.log(1 - T.nnet.sigmoid(x)), lambda xp, x: -xp.logaddexp(0, x),
                       _all(lambda v: True)),
    "exp(x)-1": (lambda x: T.exp(x) - 1, lambda xp, x: xp.expm1(x), _all(lambda v: v < 4)),
    "x*1+0": (lambda x: x * 1 + 0, lambda xp, x: x, _all(lambda v: True)),
    "(x*2)/2": (lambda x: (x * 2) / 2, lambda xp, x: x, _all(lambda v: True)),
    "--x": (lambda x: -(-x), lambda xp, x: x, _all(lambda v: True)),
    "x-x+x": (lambda x: x - x + x, lambda xp, x: x, _all(lambda v: True)),
    # (at x = 0 the unoptimized gradient of x ** 0 is Theano's 0 * 0 ** -1 = NaN)
    "x**1+x**0": (lambda x: x ** 1 + x ** 0, lambda xp, x: x + 1, _all(lambda v: np.abs(v) > 1e-2)),
    "x**2": (lambda x: x ** 2, lambda xp, x: x * x, _all(lambda v: True)),
    "x**0.5": (lambda x: x ** 0.5, lambda xp, x: xp.sqrt(x), _all(lambda v: v > 0.05)),
    "x**-1": (lambda x: x ** -1, lambda xp, x: 1 / x, _all(lambda v: np.abs(v) > 0.25)),
    "exp(log(x))": (lambda x: T.exp(T.log(x)), lambda xp, x: x, _all(lambda v: v > 0.05)),
    "log(exp(x))": (lambda x: T.log(T.exp(x)), lambda xp, x: x, _all(lambda v: v < 4)),
    "sqr(sqrt(x))": (lambda x: T.sqr(T.sqrt(x)), lambda xp, x: x, _all(lambda v: v > 0.05)),
    "x/y*y": (lambda x: x / (x * x + 1) * (x * x + 1), lambda xp, x: x, _all(lambda v: True)),
    "fill": (lambda x: T.ones_like(x) * x + T.zeros_like(x), lambda xp, x: x, _all(lambda v: True)),
    # softmax of a vector is a (1, n) row (Theano 1.0): take the row back to keep the shape
    "softmax": (lambda x: _rowless(x, T.nnet.softmax(x)), lambda xp, x: _softmax(xp, x),
                lambda v: np.ndim(v) >= 1),
    "logsoftmax": (lambda x: _rowless(x, T.log(T.nnet.softmax(x))),
                   lambda xp, x: x - _logsumexp(xp)(x, axis=-1, keepdims=True),
                   lambda v: np.ndim(v) >= 1),
    "sum(x*2)": (lambda x: T.sum(x * 2, axis=-1), lambda xp, x: xp.sum(x * 2, axis=-1),
                 lambda v: np.ndim(v) >= 1),
    "relu": (lambda x: T.nnet.relu(x), lambda xp, x: xp.maximum(x, 0),
             _all(lambda v: np.abs(v) > 1e-2)),
    "clip": (lambda x: T.clip(x, -0.5, 0.75), lambda xp, x: xp.clip(x, -0.5, 0.75),
             _all(lambda v: np.all(np.abs(v + 0.5) > 1e-2) and np.all(np.abs(v - 0.75) > 1e-2))),
}


def _rowless(x, out):
    return out[0] if x.ndim == 1 else out


def _softmax(xp, x):
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)
SCAN_FNS = ("tanh", "sin", "sigmoid", "arctan", "cos")


# ------------------------------------------------------------------------ the recipe

@dataclass
class Input:
    name: str
    dtype: str
    shape: tuple
    bcast: tuple
    kind: str  # 'float' (differentiable), 'int' (an operand), 'index' (indices)
    value: np.ndarray


@dataclass
class Step:
    op: str
    args: list  # value ids (int) or ('c', python_scalar, dtype)
    params: dict


@dataclass
class Recipe:
    inputs: list[Input] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    output: int = -1
    dtype: str = "float64"

    @property
    def n_in(self) -> int:
        return len(self.inputs)

    def float_inputs(self) -> list[int]:
        return [k for k, i in enumerate(self.inputs) if i.kind == "float"]

    def describe(self, names: bool = True) -> str:
        lines = []
        for k, i in enumerate(self.inputs):
            lines.append(f"v{k} = input {i.name if names else ''}: {i.dtype}{list(i.shape)} bcast={i.bcast} "
                         f"kind={i.kind} value={np.array2string(i.value, precision=4)}")
        for s, st in enumerate(self.steps):
            args = ", ".join(f"v{a}" if isinstance(a, int) else f"{a[1]!r}:{a[2]}" for a in st.args)
            lines.append(f"v{self.n_in + s} = {st.op}({args}) {st.params}")
        lines.append(f"output: v{self.output}")
        return "\n".join(lines)


# ------------------------------------------------------------------------ replay

def _cast(xp, x, dtype):
    if dtype is None:
        return x
    return xp.asarray(x).astype(dtype)


def _dimshuffle_xp(xp, x, order):
    kept = [d for d in order if d != "x"]
    dropped = [d for d in range(np.ndim(x)) if d not in kept]
    y = xp.transpose(x, kept + dropped)
    shape = [1 if d == "x" else np.shape(x)[d] for d in order]
    return xp.reshape(y, shape)


def _index_tuple(spec, idx_vals):
    """spec: tuple of ('i', k) | ('s', a, b, c) | ('a',) | ('?',); idx_vals fill 'a'/'?'."""
    it = iter(idx_vals)
    out = []
    for e in spec:
        if e[0] == "i":
            out.append(e[1])
        elif e[0] == "s":
            out.append(slice(e[1], e[2], e[3]))
        else:
            out.append(next(it))
    return tuple(out)


def apply_step(B: str, step: Step, args: list):
    """Evaluate one step; ``B`` is 'thx', 'np' or 'jnp'."""
    p = step.params
    op = step.op
    if B == "thx":
        xp = None
    elif B == "np":
        xp = np
    else:
        import jax.numpy as jnp
        xp = jnp
    out_dtype = p.get("out")

    def fin(v):
        return _cast(xp, v, out_dtype)

    if op == "unary":
        if B == "thx":
            return THX_UNARY[p["name"]](args[0])
        with np.errstate(all="ignore"):
            return fin(UNARY[p["name"]][0](xp)(_cast(xp, args[0], p["comp"])))
    if op == "binary":
        if B == "thx":
            return BINARY[p["name"]][0](args[0], args[1])
        a, b = (_cast(xp, v, p["comp"]) for v in args)
        with np.errstate(all="ignore"):
            return fin(BINARY[p["name"]][1](xp)(a, b))
    if op == "reduce":
        axis, keep = p["axis"], p["keepdims"]
        if B == "thx":
            if p["method"] and hasattr(args[0], p["name"]):
                return getattr(args[0], p["name"])(axis=axis, keepdims=keep)
            return REDUCE[p["name"]][0](args[0], axis=axis, keepdims=keep)
        ax = tuple(axis) if isinstance(axis, list) else axis
        return fin(REDUCE[p["name"]][1](xp)(_cast(xp, args[0], p["comp"]), axis=ax, keepdims=keep))
    if op == "dot":
        if B == "thx":
            return args[0].dot(args[1]) if p["method"] else T.dot(args[0], args[1])
        return fin(xp.dot(_cast(xp, args[0], p["comp"]), _cast(xp, args[1], p["comp"])))
    if op == "reshape":
        if B == "thx":
            return args[0].reshape(p["shape"]) if p["method"] else T.reshape(args[0], p["shape"])
        return xp.reshape(args[0], p["shape"])
    if op == "flatten":
        if B == "thx":
            return T.flatten(args[0], p["ndim"])
        x = args[0]
        return xp.reshape(x, tuple(np.shape(x)[:p["ndim"] - 1]) + (-1,))
    if op == "transpose":
        if B == "thx":
            return args[0].T if p["perm"] is None else args[0].transpose(*p["perm"])
        return xp.transpose(args[0], p["perm"])
    if op == "dimshuffle":
        if B == "thx":
            return args[0].dimshuffle(*p["order"])
        return _dimshuffle_xp(xp, args[0], list(p["order"]))
    if op == "index":
        idx = _index_tuple(p["spec"], args[1:])
        if B == "thx":
            return args[0][idx if len(idx) > 1 else idx[0]]
        return xp.asarray(args[0])[idx]
    if op in ("set", "inc"):
        x, y = args[0], args[1]
        idx = _index_tuple(p["spec"], args[2:])
        if B == "thx":
            sub = x[idx if len(idx) > 1 else idx[0]]
            return T.set_subtensor(sub, y) if op == "set" else T.inc_subtensor(sub, y)
        y = _cast(xp, y, out_dtype)
        if B == "np":
            z = np.array(x, dtype=out_dtype, copy=True)
            if op == "set":
                z[idx] = y
            else:
                np.add.at(z, idx, y)
            return z
        x = xp.asarray(x)
        if all(isinstance(e, slice) and e.indices(n) == (0, n, 1) for e, n in zip(idx, x.shape)):
            # the whole array: XLA (jaxlib 0.10) aborts on a full-range scatter later reversed
            return xp.broadcast_to(y, x.shape) if op == "set" else x + y
        ref = x.at[idx]
        return ref.set(y) if op == "set" else ref.add(y)
    if op == "switch":
        a, b, c = args
        thr = p["thr"]
        if B == "thx":
            cond = T.gt(c, thr) if p["cmp"] == "gt" else T.lt(c, thr)
            return T.switch(cond, a, b)
        c = _cast(xp, c, p["ccomp"])
        t = xp.asarray(thr, dtype=p["tdtype"]).astype(p["ccomp"])
        cond = (c > t) if p["cmp"] == "gt" else (c < t)
        return fin(xp.where(cond, _cast(xp, a, out_dtype), _cast(xp, b, out_dtype)))
    if op == "join":
        axis = p["axis"]
        if B == "thx":
            if p["stack"]:
                return T.stack(list(args), axis=axis)
            if p["method"]:
                return T.join(axis, *args)
            return T.concatenate(list(args), axis=axis)
        vals = [_cast(xp, a, out_dtype) for a in args]
        return xp.stack(vals, axis=axis) if p["stack"] else xp.concatenate(vals, axis=axis)
    if op == "cast":
        if B == "thx":
            return T.cast(args[0], p["dtype"])
        return _cast(xp, args[0], p["dtype"])
    if op == "scan":
        return _scan_step(B, xp, p, args)
    if op == "pattern":
        if B == "thx":
            return PATTERNS[p["name"]][0](args[0])
        with np.errstate(all="ignore"):
            return fin(PATTERNS[p["name"]][1](xp, _cast(xp, args[0], p["out"])))
    raise ValueError(f"unknown step {op}")


def _scan_step(B, xp, p, args):
    fname = p["fn"]
    if B == "thx":
        f = THX_UNARY[fname]
        if p["kind"] == "rec":
            seq, h0, w = args
            out, _ = thx.scan(lambda x_t, h, w_: f(h * w_ + x_t), sequences=seq, outputs_info=h0,
                              non_sequences=w, go_backwards=p["back"])
        else:
            seq, w = args
            out, _ = thx.scan(lambda x_t, w_: f(x_t) * w_, sequences=seq, non_sequences=w,
                              go_backwards=p["back"])
        return out
    f = UNARY[fname][0](xp)
    dt = p["out"]
    if p["kind"] == "rec":
        seq, h0, w = (_cast(xp, a, dt) for a in args)
        if p["back"]:
            seq = seq[::-1]
        if B == "np":
            h, rows = h0, []
            for t in range(seq.shape[0]):
                h = f(h * w + seq[t]).astype(dt)
                rows.append(h)
            return np.stack(rows).astype(dt)
        import jax

        def body(h, x_t):
            h = f(h * w + x_t).astype(dt)
            return h, h
        return jax.lax.scan(body, h0, seq)[1]
    seq, w = (_cast(xp, a, dt) for a in args)
    if p["back"]:
        seq = seq[::-1]
    if B == "np":
        return np.stack([f(seq[t]) * w for t in range(seq.shape[0])]).astype(dt)
    import jax
    return jax.vmap(lambda x_t: (f(x_t) * w).astype(dt))(seq)


def replay(recipe: Recipe, B: str, inputs: list) -> list:
    """All values of ``recipe`` (inputs, then one per step) for backend ``B``."""
    vals = list(inputs)
    for st in recipe.steps:
        args = []
        for a in st.args:
            if isinstance(a, int):
                args.append(vals[a])
            elif B == "thx":
                args.append(a[1])  # a Python literal: thx autocasts it (Theano's rule)
            else:
                args.append(np.asarray(a[1], dtype=a[2]))
        vals.append(apply_step(B, st, args))
    return vals


# ------------------------------------------------------------------------ generation

class _Builder:
    """Builds one recipe; every value has (numpy value, thx variable)."""

    def __init__(self, ch: Chooser, rng: np.random.RandomState, tag: str, families) -> None:
        self.ch, self.rng, self.tag = ch, rng, tag
        self.families = families
        self.r = Recipe()
        self.npv: list[np.ndarray] = []
        self.var: list[Any] = []
        self.is_input: list[bool] = []
        self.in_index: dict[int, int] = {}  # value id -> position in recipe.inputs

    # -- inputs
    def new_input(self, shape, dtype, kind="float", bcast=None, value=None, hi=None):
        shape = tuple(int(s) for s in shape)
        if bcast is None:
            bcast = tuple(s == 1 and self.ch.coin(0.5) for s in shape)
        if value is None:
            if kind == "float":
                mag = self.rng.uniform(0.3, 1.5, size=shape)
                value = mag * self.rng.choice([-1.0, 1.0], size=shape)
            elif kind == "int":
                value = self.rng.choice([-3, -2, -1, 1, 2, 3], size=shape)
            else:
                value = self.rng.randint(0, hi, size=shape)
        value = np.asarray(value, dtype=dtype)
        name = f"{self.tag}_v{len(self.npv)}"
        var = T.TensorType(dtype, bcast)(name)
        self.r.inputs.append(Input(name, dtype, shape, tuple(bcast), kind, value))
        self.npv.append(value)
        self.var.append(var)
        self.is_input.append(True)
        self.in_index[len(self.npv) - 1] = len(self.r.inputs) - 1
        return len(self.npv) - 1

    def add_step(self, op, args, params) -> int | None:
        """Build a step in thx and NumPy; None if it fails a domain check afterwards."""
        th_args = [self.var[a] if isinstance(a, int) else a[1] for a in args]
        step = Step(op, list(args), dict(params))
        v = apply_step("thx", step, th_args)
        step.params["out"] = v.dtype
        np_args = [self.npv[a] if isinstance(a, int) else np.asarray(a[1], dtype=a[2]) for a in args]
        val = np.asarray(apply_step("np", step, np_args))
        if val.shape != tuple(self._shape_of(v, val)):
            raise AssertionError(f"thx and NumPy disagree on the rank of {op}: {v.type} vs {val.shape}")
        if val.dtype.kind == "f" and (not np.all(np.isfinite(val)) or np.max(np.abs(val), initial=0) > 1e4):
            return None
        self.r.steps.append(step)
        self.npv.append(val)
        self.var.append(v)
        self.is_input.append(False)
        return len(self.npv) - 1

    @staticmethod
    def _shape_of(v, val):
        assert v.ndim == val.ndim, (v.type, val.shape)
        return val.shape

    def const(self, value):
        """A Python literal operand; its dtype is the one thx gives it."""
        c = T.as_tensor_variable(value)
        return ("c", value, c.dtype)

    # -- helpers
    def floats(self):
        return [k for k in range(len(self.npv)) if self.var[k].dtype.startswith("float")
                and not self._is_index(k)]

    def _is_index(self, k):
        return k in self.in_index and self.r.inputs[self.in_index[k]].kind != "float"

    def pick_primary(self):
        fl = self.floats()
        if self.ch.coin(0.65):
            return fl[-1]
        return self.ch.choice(fl)

    def bshape(self, k):
        return self.npv[k].shape, self.var[k].broadcastable

    # -- partner for elementwise ops (Theano broadcasting rules)
    def partner(self, k, allow_int=True):
        shape, bcast = self.bshape(k)
        dt = self.var[k].dtype
        opts = ["fresh", "const"]
        compatible = [j for j in self.floats() if j != k and _theano_bcast_ok(
            self.bshape(k), self.bshape(j))]
        if compatible:
            opts.append("existing")
        if allow_int:
            opts += ["int", "int"]
        kind = self.ch.choice(opts)
        if kind == "existing":
            return self.ch.choice(compatible)
        if kind == "const":
            return self.const(self.ch.choice([0.5, 1.5, 2.0, -1.25, 3, 0.1]))
        # a fresh input whose shape broadcasts against shape
        mode = self.ch.choice(["same", "ones", "suffix", "extend"])
        new_shape, new_b = list(shape), [False] * len(shape)
        if mode == "ones" and shape:
            for d in range(len(shape)):
                if self.ch.coin(0.5):
                    new_shape[d], new_b[d] = 1, True
        elif mode == "suffix" and shape:
            cut = self.ch.integer(0, len(shape))
            new_shape, new_b = new_shape[cut:], new_b[cut:]
        elif mode == "extend" and len(shape) < 3:
            new_shape = [self.ch.integer(1, 3)] + new_shape
            new_b = [False] + new_b
        # dims where k is broadcastable (length 1) may be longer in the partner
        off = len(new_shape) - len(shape)
        for d in range(len(shape)):
            if d + off >= 0 and bcast[d] and self.ch.coin(0.3):
                new_shape[d + off], new_b[d + off] = self.ch.integer(2, 3), False
        if kind == "int":
            dtype = self.ch.choice(["int8", "int32", "int64"])
            return self.new_input(new_shape, dtype, kind="int", bcast=tuple(new_b))
        dtype = dt if self.ch.coin(0.85) else self.ch.choice(["float32", "float64"])
        return self.new_input(new_shape, dtype, bcast=tuple(new_b))

    def operand_value(self, a):
        return self.npv[a] if isinstance(a, int) else np.asarray(a[1], dtype=a[2])

    # -- families; each returns a value id or None
    def f_unary(self):
        k = self.pick_primary()
        ok = [n for n, (_, pred) in UNARY.items() if pred(self.npv[k])]
        name = self.ch.choice(ok)
        return self.add_step("unary", [k], dict(name=name, comp=_float_comp(self.var[k].dtype)))

    def f_binary(self):
        k = self.pick_primary()
        name = self.ch.choice(list(BINARY))
        other = self.partner(k, allow_int=name in ("add", "sub", "mul", "true_div"))
        args = [k, other] if self.ch.coin(0.7) else [other, k]
        x, y = (self.operand_value(a) for a in args)
        pred = BINARY[name][2]
        xb, yb = np.broadcast_arrays(x.astype("float64"), y.astype("float64"))
        if pred is not None and not pred(xb, yb):
            if name == "pow" and isinstance(args[0], int) and np.all(xb > 0.25):
                args = [args[0], self.const(2)]
            else:
                return None
        if name in ("maximum", "minimum", "arctan2") and not isinstance(args[1], int):
            return None  # constants are checked above; keep those two on variables
        d = [self.var[a].dtype if isinstance(a, int) else a[2] for a in args]
        comp = T.upcast(*d)
        if name == "true_div":
            comp = _float_comp(comp)
        return self.add_step("binary", args, dict(name=name, comp=comp))

    def f_reduce(self):
        k = self.pick_primary()
        v = self.npv[k]
        name = self.ch.choice(list(REDUCE))
        if v.ndim == 0:
            axis = None
        else:
            kind = self.ch.choice(["none", "int", "neg", "list"])
            if kind == "none":
                axis = None
            elif kind == "int":
                axis = self.ch.integer(0, v.ndim - 1)
            elif kind == "neg":
                axis = -self.ch.integer(1, v.ndim)
            else:
                axis = sorted({self.ch.integer(0, v.ndim - 1) for _ in range(2)})
        if name in ("max", "min") and not _unique_extreme(v, axis, name):
            return None
        if name == "prod" and np.prod(np.abs(v)) > 1e4:
            return None
        if name == "logsumexp" and np.max(v, initial=-np.inf) > 6:
            return None
        keep = self.ch.coin(0.4)
        return self.add_step("reduce", [k], dict(name=name, axis=axis, keepdims=keep,
                                                 method=self.ch.coin(0.3), comp=None))

    def f_dot(self):
        cands = [k for k in self.floats() if self.npv[k].ndim in (1, 2)]
        if not cands:
            return None
        k = self.ch.choice(cands)
        x = self.npv[k]
        left = self.ch.coin(0.5)
        n = x.shape[0] if not left else x.shape[-1]  # the contracted length
        want_nd = self.ch.choice([1, 2])
        if left:
            pshape = (n,) if want_nd == 1 else (n, self.ch.integer(1, 3))
        else:
            pshape = (n,) if want_nd == 1 else (self.ch.integer(1, 3), n)
        exist = [j for j in self.floats() if self.npv[j].shape == pshape and j != k]
        if exist and self.ch.coin(0.5):
            j = self.ch.choice(exist)
        else:
            j = self.new_input(pshape, self.var[k].dtype, bcast=(False,) * len(pshape))
        args = [k, j] if left else [j, k]
        comp = T.upcast(self.var[args[0]].dtype, self.var[args[1]].dtype)
        return self.add_step("dot", args, dict(comp=comp, method=self.ch.coin(0.3)))

    def f_shape(self):
        k = self.pick_primary()
        v, bcast = self.npv[k], self.var[k].broadcastable
        kind = self.ch.choice(["reshape", "flatten", "transpose", "dimshuffle"])
        if kind == "reshape":
            shape = _factor(v.size, self.ch)
            if self.ch.coin(0.3) and shape:
                shape = list(shape)
                shape[self.ch.integer(0, len(shape) - 1)] = -1
            return self.add_step("reshape", [k], dict(shape=tuple(shape), method=self.ch.coin(0.5)))
        if kind == "flatten" and v.ndim >= 1:
            return self.add_step("flatten", [k], dict(ndim=self.ch.integer(1, v.ndim)))
        if kind == "transpose" and v.ndim >= 2:
            if self.ch.coin(0.3):
                return self.add_step("transpose", [k], dict(perm=None))
            perm = list(range(v.ndim))
            for i in range(len(perm) - 1, 0, -1):
                j = self.ch.integer(0, i)
                perm[i], perm[j] = perm[j], perm[i]
            return self.add_step("transpose", [k], dict(perm=tuple(perm)))
        # dimshuffle: keep the non-broadcastable dims (permuted), maybe drop broadcastable
        # ones, insert 'x'
        order: list[Any] = [d for d in range(v.ndim) if not (bcast[d] and self.ch.coin(0.5))]
        if len(order) >= 2 and self.ch.coin(0.5):
            order = order[::-1]
        for _ in range(self.ch.integer(0 if len(order) != v.ndim else 1, 2)):
            if len(order) < 4:
                order.insert(self.ch.integer(0, len(order)), "x")
        return self.add_step("dimshuffle", [k], dict(order=tuple(order)))

    def _index_spec(self, shape, allow_adv=True):
        """An index on the leading dims: list of spec entries and extra index args."""
        spec, extra = [], []
        n_idx = self.ch.integer(1, len(shape))
        used_adv = False
        for d in range(n_idx):
            n = shape[d]
            kind = self.ch.choice(["int", "slice", "slice", "sym", "adv"] if allow_adv else
                                  ["int", "slice", "slice", "sym"])
            if kind == "int":
                spec.append(("i", self.ch.integer(-n, n - 1)))
            elif kind == "sym":
                spec.append(("?",))
                extra.append(self.new_input((), self.ch.choice(["int32", "int64"]), kind="index",
                                            hi=n, bcast=()))
            elif kind == "adv" and not used_adv:
                used_adv = True
                spec.append(("a",))
                m = self.ch.integer(1, 4)
                extra.append(self.new_input((m,), self.ch.choice(["int32", "int64"]), kind="index",
                                            hi=n, bcast=(False,)))
            else:
                a = self.ch.integer(0, n - 1)
                b = self.ch.integer(a + 1, n)
                step = self.ch.choice([None, None, 2, -1])
                if step == -1:
                    spec.append(("s", None, None, -1))
                else:
                    spec.append(("s", a, b, step))
        return tuple(spec), extra

    def f_index(self):
        cands = [k for k in self.floats() if self.npv[k].ndim >= 1]
        if not cands:
            return None
        k = self.ch.choice(cands)
        spec, extra = self._index_spec(self.npv[k].shape)
        return self.add_step("index", [k] + extra, dict(spec=spec))

    def f_setinc(self):
        cands = [k for k in self.floats() if self.npv[k].ndim >= 1]
        if not cands:
            return None
        k = self.ch.choice(cands)
        x = self.npv[k]
        op = self.ch.choice(["set", "inc"])
        spec, extra = self._index_spec(x.shape)
        idx = _index_tuple(spec, [self.npv[e] for e in extra])
        sub_shape = np.asarray(x)[idx].shape
        if op == "set" and any(e[0] == "a" for e in spec):
            adv = next(self.npv[e] for e in extra if self.npv[e].ndim == 1)
            if len(set(adv.tolist())) != len(adv):
                return None  # set with repeated indices: the winner is unspecified
        # the value: same shape, a suffix (broadcasts), or a scalar
        form = self.ch.choice(["same", "suffix", "scalar"])
        if form == "scalar" or not sub_shape:
            y = self.new_input((), self.var[k].dtype, bcast=())
        else:
            shp = sub_shape if form == "same" else sub_shape[self.ch.integer(0, len(sub_shape)):]
            exist = [j for j in self.floats() if self.npv[j].shape == tuple(shp) and j != k
                     and T.upcast(self.var[k].dtype, self.var[j].dtype) == self.var[k].dtype]
            if exist and self.ch.coin(0.5):
                y = self.ch.choice(exist)
            else:
                y = self.new_input(shp, self.var[k].dtype, bcast=(False,) * len(shp))
        return self.add_step(op, [k, y] + extra, dict(spec=spec))

    def f_switch(self):
        k = self.pick_primary()
        other = self.partner(k, allow_int=False)
        if not isinstance(other, int):
            other = self.new_input(self.npv[k].shape, self.var[k].dtype)
        cands = [j for j in self.floats() if _theano_bcast_ok(self.bshape(k), self.bshape(j))]
        c = self.ch.choice(cands)
        thr = self.ch.choice([0.0, 0.5, -0.5])
        cv = self.npv[c].astype("float64")
        if np.any(np.abs(cv - thr) < 1e-2):
            return None
        tdt = T.as_tensor_variable(thr).dtype
        args = [k, other, c] if self.ch.coin(0.5) else [other, k, c]
        if not all(_theano_bcast_ok(self.bshape(a), self.bshape(b))
                   for a, b in ((args[0], args[1]), (args[0], c), (args[1], c))):
            return None
        return self.add_step("switch", args, dict(thr=thr, tdtype=tdt, cmp=self.ch.choice(["gt", "lt"]),
                                                  ccomp=T.upcast(self.var[c].dtype, tdt)))

    def f_join(self):
        cands = [k for k in self.floats() if self.npv[k].ndim >= 1]
        if not cands:
            return None
        k = self.ch.choice(cands)
        v = self.npv[k]
        stack = self.ch.coin(0.25)
        n = self.ch.integer(2, 3)
        axis = self.ch.integer(0, v.ndim if stack else v.ndim - 1)
        parts = [k]
        for _ in range(n - 1):
            shp = list(v.shape)
            b = [False] * len(shp)
            if not stack:
                shp[axis] = self.ch.integer(1, 3)
                if shp[axis] == v.shape[axis]:
                    b = list(self.var[k].broadcastable)
            exist = [j for j in self.floats() if self.npv[j].shape == tuple(shp) and j not in parts]
            if exist and self.ch.coin(0.5):
                parts.append(self.ch.choice(exist))
            else:
                parts.append(self.new_input(shp, self.var[k].dtype, bcast=tuple(b)))
        # Theano's Join needs non-axis dims broadcastable alike (or lengths that agree)
        if self.ch.coin(0.5):
            parts = parts[::-1]
        if stack and any(self.var[p].broadcastable != self.var[parts[0]].broadcastable for p in parts):
            return None
        return self.add_step("join", parts, dict(axis=axis if not (self.ch.coin(0.3) and not stack)
                                                  else axis - v.ndim, stack=stack,
                                                  method=self.ch.coin(0.3)))

    def f_cast(self):
        k = self.pick_primary()
        dt = "float32" if self.var[k].dtype == "float64" else "float64"
        return self.add_step("cast", [k], dict(dtype=dt))

    def f_pattern(self):
        k = self.pick_primary()
        ok = [n for n, (_, _, pred) in PATTERNS.items() if pred(self.npv[k])]
        return self.add_step("pattern", [k], dict(name=self.ch.choice(ok)))

    def f_scan(self):
        cands = [k for k in self.floats() if self.npv[k].ndim in (1, 2) and self.npv[k].shape[0] >= 1]
        if not cands:
            return None
        k = self.ch.choice(cands)
        seq = self.npv[k]
        dt = self.var[k].dtype
        row = seq.shape[1:]
        kind = self.ch.choice(["rec", "map"])
        fn = self.ch.choice(SCAN_FNS)
        w = self.new_input(row, dt, bcast=(False,) * len(row)) if self.ch.coin(0.6) else \
            self.new_input((), dt, bcast=())
        if kind == "rec":
            # row-type broadcast flags must match the state; make the sequence's row flags False
            if any(self.var[k].broadcastable[1:]):
                return None
            h0 = self.new_input(row, dt, bcast=(False,) * len(row))
            args = [k, h0, w]
        else:
            args = [k, w]
        return self.add_step("scan", args, dict(kind=kind, fn=fn, back=self.ch.coin(0.3)))


def _float_comp(dtype):
    from thx.tensor.type import upgrade_to_float
    return upgrade_to_float(dtype)


def _theano_bcast_ok(a, b) -> bool:
    """Shapes and broadcast flags combine under Theano's rule (length 1 must be broadcastable)."""
    (sa, ba), (sb, bb) = a, b
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    ba, bb = (True,) * (n - len(ba)) + tuple(ba), (True,) * (n - len(bb)) + tuple(bb)
    for x, y, bx, by in zip(sa, sb, ba, bb):
        if x == y:
            continue
        if x == 1 and bx:
            continue
        if y == 1 and by:
            continue
        return False
    return True


def _unique_extreme(v, axis, name) -> bool:
    v = np.asarray(v, dtype="float64")
    if v.ndim == 0:
        return True
    axes = tuple(range(v.ndim)) if axis is None else (
        tuple(a % v.ndim for a in axis) if isinstance(axis, list) else (axis % v.ndim,))
    rest = [d for d in range(v.ndim) if d not in axes]
    m = np.transpose(v, rest + list(axes)).reshape(int(np.prod([v.shape[d] for d in rest])), -1)
    if m.shape[1] < 2:
        return True
    s = np.sort(m, axis=1)
    gap = (s[:, -1] - s[:, -2]) if name == "max" else (s[:, 1] - s[:, 0])
    return bool(np.all(gap > 1e-3))


def _factor(size: int, ch: Chooser) -> tuple:
    """A random shape with ``size`` elements and 0..3 dims."""
    if size == 1 and ch.coin(0.3):
        return ()
    dims = []
    rest = size
    for _ in range(ch.integer(0, 2)):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = ch.choice(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    return tuple(dims)


def generate(ch: Chooser, tag: str = "g", families=FAMILIES, max_steps: int = 6,
             empty: bool = False) -> Recipe:
    """One random recipe whose output is a float tensor depending on a float input.

    ``empty``: the first input may have a zero-length dimension (an exploration mode:
    reductions without identity and fixed indices then fail, as they should).
    """
    seed = ch.integer(0, 2 ** 31 - 1)
    rng = np.random.RandomState(seed)
    b = _Builder(ch, rng, tag, families)
    dtype = "float64" if ch.coin(0.75) else "float32"
    b.r.dtype = dtype
    for _ in range(ch.integer(1, 2)):
        nd = ch.integer(0, 3)
        b.new_input([ch.integer(0 if empty and nd and not b.npv else 1, 4) for _ in range(nd)], dtype)
    n = ch.integer(1, max_steps)
    made = 0
    tries = 0
    while made < n and tries < 4 * n:
        tries += 1
        fam = ch.choice(families)
        out = getattr(b, "f_" + fam)()
        if out is not None:
            made += 1
    if made == 0:
        b.f_unary() or b.add_step("unary", [b.floats()[-1]], dict(name="sin", comp=_float_comp(
            b.var[b.floats()[-1]].dtype)))
    b.r.output = len(b.npv) - 1
    # Inputs must all come first in the recipe's value numbering: renumber.
    return _renumber(b)


def _renumber(b: _Builder) -> Recipe:
    """Values were numbered in creation order; put inputs first, then steps."""
    r = b.r
    n_in = len(r.inputs)
    new_id: dict[int, int] = {}
    i = s = 0
    for old, is_in in enumerate(b.is_input):
        if is_in:
            new_id[old] = i
            i += 1
        else:
            new_id[old] = n_in + s
            s += 1
    for st in r.steps:
        st.args = [new_id[a] if isinstance(a, int) else a for a in st.args]
    r.output = new_id[r.output]
    r.vars = [None] * (n_in + len(r.steps))  # type: ignore[attr-defined]
    for old, var in enumerate(b.var):
        r.vars[new_id[old]] = var  # type: ignore[attr-defined]
    return r
