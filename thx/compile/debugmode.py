"""``DebugMode``: each call checks every node's JAX lowering against its NumPy ``perform``, and the rewrites.

On each call of a function compiled with ``mode=DebugMode()`` (or
``mode='DebugMode'``), after the normal call, with the call's own values:

1. each Apply node of the optimized graph runs both its NumPy ``perform``
   (``thx/graph/op.py``, the reference) and its JAX implementation
   (``thx/lowering/registry.py``) on the same inputs; a difference raises
   ``BadThunkOutput`` naming the node (Theano compared its C and Python
   thunks the same way); a NaN or Inf a node computes from finite inputs
   raises ``InvalidValueError`` (``check_isfinite``);
2. the compiled function's outputs are compared with the optimized graph
   evaluated by ``perform`` (``BadThunkOutput`` on the output);
3. the unoptimized graph, evaluated by ``perform``, is compared with the
   optimized one: a difference raises ``BadOptimization`` naming the output.

Theano's destroy-map, view-map, stride and stochastic-order checks have no
object in thx (no in-place ops, XLA owns memory); their error classes exist
for code that catches them.  A call costs the NumPy evaluation of the graph
twice plus one eager JAX call per node: use it to find bugs, not to train.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.compile.function import COMPILE_HOOKS
from thx.compile.instrumented import wrap_call
from thx.graph.basic import Constant, Variable
from thx.graph.evaluate import evaluate
from thx.rewriting.mode import PREDEFINED_MODES, Mode

__all__ = ["DebugMode", "DebugModeError", "BadThunkOutput", "BadOptimization", "BadDestroyMap",
           "BadViewMap", "StochasticOrder", "InvalidValueError"]


class DebugModeError(Exception):
    """Base of the errors DebugMode raises."""


class BadThunkOutput(DebugModeError):
    """Two implementations of a node (JAX and NumPy ``perform``) disagree."""

    def __init__(self, r: Any, thunk1: str, val1: Any, thunk2: str, val2: Any, inputs_val: Any = ()) -> None:
        self.r, self.thunk1, self.val1, self.thunk2, self.val2 = r, thunk1, val1, thunk2, val2
        self.inputs_val = inputs_val
        super().__init__(f"BadThunkOutput: {r}\n  {thunk1} gives {_brief(val1)}\n  {thunk2} gives "
                         f"{_brief(val2)}\n  {_diff(val1, val2)}")


class BadOptimization(DebugModeError):
    """The optimized graph computes a different value than the graph before rewriting."""

    def __init__(self, old_r: Any, new_r: Any, old_r_val: Any, new_r_val: Any, reason: str,
                 old_graph: str = "", new_graph: str = "") -> None:
        self.old_r, self.new_r, self.old_r_val, self.new_r_val = old_r, new_r, old_r_val, new_r_val
        self.reason, self.old_graph, self.new_graph = reason, old_graph, new_graph
        super().__init__(f"BadOptimization: {reason}\n  before rewriting: {old_r} = {_brief(old_r_val)}"
                         f"\n  after rewriting: {new_r} = {_brief(new_r_val)}\n  {_diff(old_r_val, new_r_val)}")


class BadDestroyMap(DebugModeError):
    """An op changed an input it did not declare it destroys (no in-place ops in thx)."""


class BadViewMap(DebugModeError):
    """An op's output aliases an input it did not declare (no views in thx)."""


class StochasticOrder(DebugModeError):
    """The rewrites did not give the same graph twice."""


class InvalidValueError(DebugModeError):
    """A node computed a NaN or Inf from finite inputs (``check_isfinite``)."""

    def __init__(self, r: Any, v: Any, client_node: Any = None, hint: str = "none",
                 specific_hint: str = "none") -> None:
        self.r, self.v, self.client_node, self.hint, self.specific_hint = r, v, client_node, hint, specific_hint
        super().__init__(f"InvalidValueError: {r} holds a non-finite value ({_brief(v)}); {specific_hint}")


class DebugMode(Mode):
    """A Mode whose functions check each call: node by node (JAX vs NumPy) and the rewrites.

    Parameters
    ----------
    optimizer : str, optional
    check_isfinite : bool
        Raise ``InvalidValueError`` when a node computes NaN/Inf from finite inputs.
    stability_patience, check_c_code, check_py_code, check_preallocated_output,
    require_matching_strides, linker : accepted for compatibility.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.compile.debugmode import DebugMode
    >>> x = T.dvector('x')
    >>> f = thx.function([x], T.log(1 + x) * 2, mode=DebugMode())
    >>> f(np.array([0.0, 1.0]))
    array([0.        , 1.38629436])
    """

    def __init__(self, optimizer: Any = "fast_run", stability_patience: Any = None, check_c_code: Any = None,
                 check_py_code: Any = None, check_isfinite: bool = True, check_preallocated_output: Any = None,
                 require_matching_strides: Any = None, linker: Any = None) -> None:
        super().__init__(linker, optimizer)
        self.check_isfinite = check_isfinite

    def _key(self):
        return super()._key() + ("DebugMode", self.check_isfinite)

    def __repr__(self) -> str:
        return f"DebugMode(optimizer={self.optimizer!r}, check_isfinite={self.check_isfinite})"


# --------------------------------------------------------------------------- the checks

def _tolerance(dtype: Any) -> tuple[float, float]:
    """(rtol, atol) for comparing two implementations' values of ``dtype``."""
    kind = np.dtype(dtype)
    if kind.kind not in "fc":
        return 0.0, 0.0
    return (1e-4, 1e-6) if kind.itemsize >= 8 else (1e-3, 1e-4)


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    rtol, atol = _tolerance(a.dtype if a.dtype.kind in "fc" else b.dtype)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _brief(v: Any) -> str:
    a = np.asarray(v)
    text = np.array2string(a, threshold=8, edgeitems=2)
    return f"{a.dtype}{list(a.shape)} {text}"


def _diff(a: Any, b: Any) -> str:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}"
    with np.errstate(all="ignore"):
        d = np.abs(a.astype(np.float64) - b.astype(np.float64)) if a.size else np.zeros(0)
    return f"max abs difference {np.nanmax(d) if d.size else 0.0:.3g}"


def _finite(v: Any) -> bool:
    a = np.asarray(v)
    return a.dtype.kind not in "fc" or bool(np.all(np.isfinite(a)))


def check_nodes(fgraph: Any, values: list[Any], check_isfinite: bool) -> dict[Variable, Any]:
    """Run each node of ``fgraph`` with ``perform`` and with JAX on ``values`` (its inputs); compare.

    Returns the NumPy value of every variable.  Raises ``BadThunkOutput`` or
    ``InvalidValueError`` naming the first node (topological order) that fails.
    """
    from thx.lowering.checks import collecting
    from thx.lowering.linker import x64
    from thx.lowering.registry import jax_impl
    env: dict[Variable, Any] = dict(zip(fgraph.inputs, values))
    for n, node in enumerate(fgraph.toposort()):
        ins = [v.data if isinstance(v, Constant) else env[v] for v in node.inputs]
        storage: list[list[Any]] = [[None] for _ in node.outputs]
        node.op.perform(node, [np.array(i, copy=True) if isinstance(i, np.ndarray) else i for i in ins], storage)
        py = [s[0] for s in storage]
        with x64(True), collecting():  # a run-time check of the JAX code is not the point here
            jx = jax_impl(node.op, node)(*ins)
        jx = [np.asarray(jx)] if len(node.outputs) == 1 else [np.asarray(j) for j in jx]
        for k, (o, a, b) in enumerate(zip(node.outputs, jx, py)):
            if not _close(a, b):
                raise BadThunkOutput(f"output {k} of node {n}, {node}", "JAX lowering", a,
                                     "NumPy perform", b, ins)
            if check_isfinite and not _finite(b) and all(_finite(i) for i in ins):
                raise InvalidValueError(o, b, node, specific_hint=f"computed by node {n}, {node}")
            env[o] = b
    return env


def debug_call(f: Any, call: Any, args: tuple, kwargs: dict) -> Any:
    """DebugMode's call: the normal call, then the checks on the same values."""
    from thx.compile.instrumented import call_values
    vals = call_values(f, args, kwargs)  # read before the call: updates change shared values
    out = call(*args, **kwargs)
    maker = f.maker
    fg = maker.fgraph
    env = check_nodes(fg, [np.asarray(v) for v in vals], maker.mode.check_isfinite)
    outs = [out] if f._unpack else list(out)
    outs += [v.get_value() for v, _ in maker.updates]  # the values the call stored
    for k, (o, got) in enumerate(zip(fg.outputs, outs)):
        want = env[o] if not isinstance(o, Constant) else o.data
        if not _close(got, want):
            what = f"output {k}" if k < maker.n_outputs else f"update {k - maker.n_outputs}"
            raise BadThunkOutput(f"{what} of the function ({o})", "compiled function", got,
                                 "NumPy perform of the optimized graph", want)
    originals = [i.variable for i in maker.inputs] + list(maker.shared_vars)
    exprs = list(maker.outputs_vars) + [u for _, u in maker.updates]
    before = evaluate(exprs, dict(zip(originals, [np.asarray(v) for v in vals])))
    for k, (old, new_var, old_val) in enumerate(zip(exprs, fg.outputs, before)):
        new_val = env[new_var] if not isinstance(new_var, Constant) else new_var.data
        if not _close(old_val, new_val):
            what = f"output {k}" if k < maker.n_outputs else f"update {k - maker.n_outputs}"
            raise BadOptimization(old, new_var, old_val, new_val,
                                  f"the rewrites changed the value of {what} of the function")
    return out


def _debug_hook(f: Any, exprs: list) -> None:
    if isinstance(f.maker.mode, DebugMode):
        wrap_call(f, debug_call)


COMPILE_HOOKS.append(_debug_hook)
PREDEFINED_MODES["DebugMode"] = PREDEFINED_MODES["DEBUG_MODE"] = DebugMode
