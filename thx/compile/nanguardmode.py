"""``NanGuardMode``: raise naming the first Apply node whose output holds a NaN, an Inf or a big value.

The function's optimized graph gets a ``NanGuard`` (an identity) after each
input and each node's floating-point output; its JAX lowering reduces the
value to flags inside the jitted function (``isnan(x).any()``, ...) and
reports them through the run-time checks of ``thx/lowering/checks.py``, so
the host raises after the call, naming the first failing node in
topological order.  Inputs are checked too; a scan's inner graph is checked
as the Scan node's outputs.  Theano raises ``AssertionError``; so does thx.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.compile.function import COMPILE_HOOKS
from thx.config import config
from thx.graph.basic import Variable
from thx.graph.fg import FunctionGraph
from thx.tensor.nanguard import NanGuard
from thx.rewriting.mode import PREDEFINED_MODES, Mode

__all__ = ["NanGuardMode", "NanGuard"]  # NanGuard (the op) lives in thx/tensor/nanguard.py

class NanGuardMode(Mode):
    """A Mode whose functions raise ``AssertionError`` when a node computes a NaN, Inf or big value.

    Parameters
    ----------
    nan_is_error, inf_is_error, big_is_error : bool, optional
        What to check (defaults: the ``NanGuardMode__*`` flags, all True).
        "Big" means an absolute value above 1e10, as in Theano.
    optimizer, linker : optional
        As for ``Mode``.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.compile.nanguardmode import NanGuardMode
    >>> x = T.dvector('x')
    >>> f = thx.function([x], T.log(x) * 2, mode=NanGuardMode(True, True, True))
    >>> f(np.array([1.0, 2.0]))
    array([0.        , 1.38629436])
    >>> f(np.array([1.0, -1.0]))
    Traceback (most recent call last):
    ...
    AssertionError: NanGuardMode: NaN in output 0 of node ..., Elemwise{log,no_inplace}(x)
    ...
    """

    def __init__(self, nan_is_error: bool | None = None, inf_is_error: bool | None = None,
                 big_is_error: bool | None = None, optimizer: Any = "default", linker: Any = None) -> None:
        super().__init__(linker, optimizer)
        flags = config.NanGuardMode
        self.nan_is_error = flags.nan_is_error if nan_is_error is None else bool(nan_is_error)
        self.inf_is_error = flags.inf_is_error if inf_is_error is None else bool(inf_is_error)
        self.big_is_error = flags.big_is_error if big_is_error is None else bool(big_is_error)

    def _key(self):
        return super()._key() + ("NanGuardMode", self.nan_is_error, self.inf_is_error, self.big_is_error)

    def __repr__(self) -> str:
        return (f"NanGuardMode(nan_is_error={self.nan_is_error}, inf_is_error={self.inf_is_error}, "
                f"big_is_error={self.big_is_error})")


def guard_graph(fgraph: FunctionGraph, mode: NanGuardMode, fname: str | None) -> FunctionGraph:
    """A copy of ``fgraph`` with a ``NanGuard`` after each input and each node's float output."""
    of = f" of thx function '{fname}'" if fname else ""

    def guard(v: Variable, where: str) -> Variable:
        if np.dtype(getattr(v.type, "dtype", "int8")).kind not in "fc":
            return v
        where = where.replace("{}", "{ }") + of  # '{}' would be a run-time check's value slot
        return NanGuard(mode.nan_is_error, mode.inf_is_error, mode.big_is_error, where)(v)

    memo: dict[Variable, Variable] = {}
    for k, i in enumerate(fgraph.inputs):
        memo[i] = guard(i, f"input {k} ({i})")
    for n, node in enumerate(fgraph.toposort()):
        new = node.clone_with_new_inputs([memo.get(v, v) for v in node.inputs])
        for k, (o, no) in enumerate(zip(node.outputs, new.outputs)):
            memo[o] = guard(no, f"output {k} of node {n}, {node}")
    return FunctionGraph(fgraph.inputs, [memo.get(o, o) for o in fgraph.outputs], clone=False)


def _guard_hook(f: Any, exprs: list) -> None:
    """Compile hook: a NanGuardMode function runs the guarded graph."""
    mode = f.maker.mode
    if not isinstance(mode, NanGuardMode) or not (mode.nan_is_error or mode.inf_is_error or mode.big_is_error):
        return
    from thx.compile.backend import _backend
    from thx.compile.function import _keep_on_failure
    from thx.lowering.linker import jit
    fg = guard_graph(f.maker.fgraph, mode, f.name)
    f.jax_fn, statics = jit(fg, backend=_backend(), donate=f.maker.donate,
                            keep_on_failure=_keep_on_failure(f.maker), static=f.maker.static_positions)
    assert tuple(statics) == tuple(f._statics), "NanGuardMode: the guards changed the static arguments"


COMPILE_HOOKS.append(_guard_hook)
PREDEFINED_MODES["NanGuardMode"] = NanGuardMode
