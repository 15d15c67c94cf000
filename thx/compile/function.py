"""``thx.function``: build, optimize and lower a graph; call it with NumPy values.

Compilation (``FunctionMaker``): normalise inputs/outputs/updates/givens,
check for unused and missing inputs, copy the graph into a FunctionGraph
(inputs, then shared variables; outputs, then update expressions), rewrite
it, and lower it to one ``jax.jit`` function.

Calling (``Function.__call__``, the hot path): check each argument against
its input type with Theano's rules, call the jitted function once, store
updates, return NumPy arrays.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from thx.compile import sharding, shared_state
from thx.rewriting.mode import Mode, get_mode
from thx.tensor.sharedvar import SharedVariable
from thx.config import apply_policy, check_policy, config
from thx.graph.basic import Constant, Variable, ancestors, clone_replace, gc_paused
from thx.graph.fg import FunctionGraph, MissingInputError
from thx.compile.backend import _backend  # thx/__main__.py imports it from here
from thx.compile.statics import StaticArgs, with_statics
from thx.compile.buckets import BucketCalls
from thx.compile.fastcall import SLOW, fast_call
from thx.compile.outputs import converter
from thx.graph.type import NullType


def _x64(on: bool):
    """JAX's scoped x64 switch (imported lazily: the graph side does not import JAX)."""
    global _x64
    from thx.lowering.linker import x64
    _x64 = x64
    return x64(on)

__all__ = ["function", "Function", "FunctionMaker", "In", "Param", "Out", "UnusedInputError"]


class UnusedInputError(Exception):
    """An input given to ``function`` is not needed to compute its outputs."""


class In:
    """An input of ``thx.function``, with options.

    Parameters
    ----------
    variable : Variable
    name : str, optional
        Keyword name when calling (defaults to the variable's name).
    value : optional
        Default value used when the argument is not given.
    update : Variable, optional
        Expression giving the value stored for the next call (needs ``value``).
    mutable, borrow, implicit, shared : accepted for compatibility.
    strict : bool
        Require exactly the input's dtype.
    allow_downcast : bool, optional
        Accept lossy conversions to the input's dtype.
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 update: Variable | None = None, mutable: bool | None = None, strict: bool = False,
                 allow_downcast: bool | None = None, autoname: bool = True, implicit: bool | None = None,
                 borrow: bool | None = None, shared: bool = False) -> None:
        if not isinstance(variable, Variable):
            raise TypeError(f"In: expected a symbolic Variable, got {type(variable).__name__}: {variable!r}")
        if isinstance(variable, Constant):
            raise TypeError(f"In: {variable} is a constant; constants cannot be function inputs")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.mutable = mutable
        self.borrow = borrow
        self.implicit = implicit
        self.shared = shared
        if update is not None and value is None:
            raise ValueError(f"In: input {self.name or variable} has an update but no value")

    def __repr__(self) -> str:
        return f"In({self.variable}, name={self.name!r}, value={self.value!r})"


class Param(In):
    """Theano's older spelling of ``In``: ``Param(variable, default=...)``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> f = thx.function([x, thx.Param(y, default=1.0)], x + y)
    >>> f(2.0), f(2.0, 3.0)
    (array(3.), array(5.))
    """

    def __init__(self, variable: Variable, default: Any = None, name: str | None = None,
                 mutable: bool = False, strict: bool = False, allow_downcast: bool | None = None,
                 implicit: bool | None = None, borrow: bool | None = None) -> None:
        super().__init__(variable, name=name, value=default, mutable=mutable, strict=strict,
                         allow_downcast=allow_downcast, implicit=implicit, borrow=borrow)

    @property
    def default(self) -> Any:
        return self.value


class Out:
    """An output of ``thx.function`` (``borrow`` is accepted; results are always fresh)."""

    def __init__(self, variable: Variable, borrow: bool = False) -> None:
        self.variable = variable
        self.borrow = borrow


def _normalize_updates(updates: Any) -> list[tuple[Variable, Variable]]:
    if updates is None:
        return []
    if isinstance(updates, dict):
        if len(updates) > 1 and not isinstance(updates, OrderedDict) and type(updates) is not dict:
            warnings.warn("The parameter 'updates' of thx.function() is an unordered dictionary; "
                          "use a list of pairs or an OrderedDict", stacklevel=3)
        items = list(updates.items())
    elif isinstance(updates, (list, tuple)):
        if len(updates) == 2 and isinstance(updates[0], SharedVariable):
            items = [tuple(updates)]  # a single (shared, expression) pair
        else:
            items = []
            for k, u in enumerate(updates):
                if not isinstance(u, (list, tuple)) or len(u) != 2:
                    raise TypeError(f"updates: element {k} must be a (shared_variable, new_expression) "
                                    f"pair, got {u!r}")
                items.append(tuple(u))
    else:
        raise TypeError(f"updates must be a list of pairs or a dict, got {type(updates).__name__}")
    from thx.tensor.var import as_tensor_variable
    out = []
    seen = set()
    for var, expr in items:
        if not isinstance(var, SharedVariable):
            raise TypeError(f"update target must be a SharedVariable, got {var!r} "
                            f"({type(var).__name__})")
        if var in seen:
            raise ValueError(f"this shared variable already has an update expression: {var}")
        seen.add(var)
        if not isinstance(expr, Variable):
            expr = as_tensor_variable(expr)
        if isinstance(expr, Constant) and expr.type != var.type:  # (s, 0.0): as Theano, a
            try:                                                 # literal takes s's type
                expr = Constant(var.type, var.type.filter(expr.data))
            except TypeError:
                pass
        if expr.type != var.type:  # no conversion, not even of the broadcast pattern (Theano)
            raise TypeError(
                f"An update must have the same type as the original shared variable "
                f"(shared_var={var}, shared_var.type={var.type}, update_val={expr}, "
                f"update_val.type={expr.type}). If the difference is related to the broadcast "
                f"pattern, you can call the tensor.unbroadcast(var, axis_to_unbroadcast[, ...]) "
                f"function to remove broadcastable dimensions; if it is the dtype, cast the update.")
        out.append((var, expr))
    return out


def _normalize_givens(givens: Any) -> dict[Variable, Variable]:
    if givens is None:
        return {}
    items = list(givens.items()) if isinstance(givens, dict) else list(givens)
    from thx.tensor.var import as_tensor_variable
    out: dict[Variable, Variable] = {}
    for k, pair in enumerate(items):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"givens: element {k} must be a (variable, replacement) pair")
        var, rep = pair
        if not isinstance(var, Variable):
            raise TypeError(f"givens keys must be Variables, got {var!r}")
        rep = as_tensor_variable(rep) if not isinstance(rep, Variable) else rep
        if rep.type != var.type:
            conv = var.type.convert_variable(rep)
            if conv is None:
                raise TypeError(f"Types of the given replacement do not match: {var} has type "
                                f"{var.type}, its replacement {rep} has type {rep.type}")
            rep = conv
        out[var] = rep
    return out


class FunctionMaker:
    """Compiles a function; ``maker.fgraph`` is the optimized graph (``maker.env`` too)."""

    def __init__(self, inputs: list[In], outputs: list[Variable], updates: list[tuple[Variable, Variable]],
                 mode: Mode, on_unused_input: str, name: str | None, static_argnames=None) -> None:
        self.inputs = inputs
        self.expanded_inputs = inputs
        self.outputs_vars = outputs
        self.updates = updates
        self.mode = mode
        explicit = [i.variable for i in inputs]
        roots_needed = outputs + [u for _, u in updates] + [i.update for i in inputs if i.update is not None]
        anc = ancestors(roots_needed)
        anc_set = set(anc)
        # unused inputs
        for k, i in enumerate(inputs):
            if i.variable not in anc_set:
                msg = (f"thx.function was asked to create a function computing outputs given certain "
                       f"inputs, but the provided input variable at index {k} is not part of the "
                       f"computational graph needed to compute the outputs: {i.variable}.\n"
                       f"To make this error into a warning, you can pass the parameter "
                       f"on_unused_input='warn' to thx.function. To disable it completely, use "
                       f"on_unused_input='ignore'.")
                apply_policy(on_unused_input, UnusedInputError, msg, stacklevel=4)
        explicit_set = set(explicit)
        shared_vars = [v for v in anc if isinstance(v, SharedVariable) and v not in explicit_set]
        for upd_var, _ in updates:
            if upd_var not in shared_vars and upd_var not in explicit_set:
                shared_vars.append(upd_var)
        for v in anc:
            if v.owner is None and not isinstance(v, (Constant, SharedVariable)) and v not in explicit_set:
                user = next((n for n in (a.owner for a in anc if a.owner is not None) if v in n.inputs), None)
                raise MissingInputError(
                    f"Input {v} of the graph was not provided and not given a value"
                    + (f" (it is used to compute {user.op})" if user is not None else "")
                    + ". Pass it in the list of inputs, or replace it with givens.")
        self.shared_vars = shared_vars
        in_update_pos = [k for k, i in enumerate(inputs) if i.update is not None]
        fg_outputs = list(outputs) + [u for _, u in updates] + [inputs[k].update for k in in_update_pos]
        self.n_outputs = len(outputs)
        self.in_update_pos = in_update_pos
        # The compile cache (thx/compile/cache.py): the same graph compiled again reuses the
        # optimized graph and its jitted function; state (shared values, defaults) stays per Function.
        self.donate = shared_state.donated(len(explicit), shared_vars, updates)
        from thx.compile import cache
        self._cache_key, self.static_positions = with_statics(cache.graph_key(
            explicit + shared_vars, fg_outputs, mode, self.donate), inputs, static_argnames)
        self._cached = cache.lookup(self._cache_key)  # (fgraph, jitted, static_argnums) or None
        if self._cached is not None:
            self.fgraph = self._cached[0]
            return
        fg = FunctionGraph(explicit + shared_vars, fg_outputs, clone=True)
        from thx.rewriting import optimize
        t0 = time.perf_counter()
        optimize(fg, mode)
        self.optimizer_time = time.perf_counter() - t0  # for the profiler (thx/compile/profiling.py)
        self.fgraph = fg

    @property
    def env(self) -> FunctionGraph:
        """Theano's older name for ``fgraph``."""
        return self.fgraph


class Function(BucketCalls):
    """A compiled function: call it with values for its inputs.

    Attributes
    ----------
    maker : FunctionMaker
        ``maker.fgraph`` is the optimized graph.
    jax_fn : callable
        The jitted JAX function (inputs, then shared values -> outputs, then updates).
    """
    _helpers = staticmethod(lambda: (_runtime_error, _backend, _keep_on_failure))  # for buckets

    def __init__(self, maker: FunctionMaker, name: str | None, allow_input_downcast: bool | None,
                 unpack_single: bool, return_device_arrays: bool, spec: dict) -> None:
        self.maker = maker
        self.name = name
        self._spec = spec
        self._allow_downcast = allow_input_downcast
        self._unpack = unpack_single
        self.return_device_arrays = return_device_arrays
        self.trust_input = False
        ins = maker.inputs
        self._types = [i.variable.type for i in ins]
        self._names = [i.name for i in ins]
        self._index_of_name = {}
        for k, i in enumerate(ins):
            if i.name is not None:
                self._index_of_name.setdefault(i.name, k)
        self._defaults = [i.value for i in ins]
        self._containers: dict[int, Any] = {k: ins[k].value for k in maker.in_update_pos}
        self._downcast = [i.allow_downcast if i.allow_downcast is not None else allow_input_downcast
                          for i in ins]
        self._strict = [i.strict for i in ins]
        self._n_in = len(ins)
        self._shared = maker.shared_vars
        self._update_targets = [v for v, _ in maker.updates]
        cached = getattr(maker, "_cached", None)
        if cached is not None:
            self.jax_fn, self._statics = cached[1], cached[2]
        else:
            from thx.compile import cache
            from thx.lowering.linker import jit
            self.jax_fn, self._statics = jit(maker.fgraph, backend=_backend(), donate=maker.donate,
                                             keep_on_failure=_keep_on_failure(maker),
                                             static=maker.static_positions)
            cache.store(getattr(maker, "_cache_key", None), (maker.fgraph, self.jax_fn, self._statics))
        self._static_set = set(self._statics)
        self._lowering_flags = {"check_index": config.check_index}  # a later (bucketed) lowering too
        self._st = StaticArgs(maker, self._statics)  # static arguments as NumPy scalars
        # per input: (dtype, ndim, has a broadcastable dim, a float may be passed as float64), or None
        self._fast_dtypes = [(np.dtype(t.dtype), t.ndim, any(t.broadcastable),
                              t.dtype == "float64" and t.ndim == 0 and not strict)
                             if hasattr(t, "dtype") and not t.host_only and k not in self._static_set
                             else None
                             for k, (t, strict) in enumerate(zip(self._types, self._strict))]
        self._n_out = maker.n_outputs
        self._has_updates = bool(self._update_targets or maker.in_update_pos)
        self._n_fg_out = len(maker.fgraph.outputs)  # more outputs: a run-time check status
        shared_state.init(self)
        counter = getattr(self.jax_fn, "trace_counter", None)
        self._convert = converter(self._n_out, unpack_single, return_device_arrays,
                                  [None if v.type.host_only else getattr(v.type, "ndim", None)
                                   for v in maker.fgraph.outputs],
                                  getattr(counter, "outputs_alias_inputs", None))
        self._fast = fast_call(self)

    # ------------------------------------------------------------------ calling
    def _check(self, k: int, value: Any) -> Any:
        """Argument ``k`` as input ``k`` takes it (Theano's rules; fastcall.py inlines the first two)."""
        fast = self._fast_dtypes[k]
        if fast is not None:
            if type(value) is np.ndarray and value.dtype == fast[0] and value.ndim == fast[1] \
                    and not fast[2]:
                return value
            if type(value) is float and fast[3]:
                return np.float64(value)
        try:
            return self._types[k].filter(value, strict=self._strict[k], allow_downcast=self._downcast[k])
        except (TypeError, ValueError) as e:
            name = self._names[k]
            fname = f" with name \"{self.name}\"" if self.name else ""
            iname = f" (input '{name}')" if name else ""
            raise TypeError(f"Bad input argument to thx function{fname} at index {k} (0-based){iname}: "
                            f"{_lower_first(str(e))}") from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The hot path (thx/compile/fastcall.py); it answers SLOW before calling, never after.
        if self._fast is not None and not kwargs and (out := self._fast(args)) is not SLOW:
            return out
        if kwargs or len(args) != self._n_in:
            args = self._fill(args, kwargs)
        vals = [self._st.one(k, self._check(k, v)) if k in self._static_set else self._check(k, v)
                for k, v in enumerate(args)]
        if self._watch is not None and self._watch_shapes(vals):
            return self._call_bucketed(args)
        try:
            if self._has_updates:
                outs = shared_state.call_updating(self, vals)
            else:
                if self._shared:
                    vals = self._st.shared(vals + [s._value for s in self._shared])
                with _x64(True):
                    outs = self.jax_fn(*vals)
        except Exception as e:
            outs = shared_state.retry_read(self, vals, e, _runtime_error)
        if len(outs) > self._n_fg_out:  # run-time checks (calls without updates; see shared_state)
            outs = shared_state._split_status(outs, self._n_fg_out)
        return self._convert(outs, vals)  # Theano's fresh writable arrays (compile/outputs.py)

    def _fill(self, args: tuple, kwargs: dict) -> list:
        """The argument list with keyword arguments placed and missing ones defaulted."""
        n = self._n_in
        if len(args) > n:
            raise TypeError(f"Too many parameters passed to thx function{_fmt_name(self.name)}: "
                            f"it takes {n} inputs, got {len(args)}")
        vals: list[Any] = list(args) + [_MISSING] * (n - len(args))
        for key, v in kwargs.items():
            k = self._index_of_name.get(key)
            if k is None:
                raise TypeError(f"Unknown input or state: {key!r}. The function{_fmt_name(self.name)} "
                                f"has named inputs {sorted(self._index_of_name)}")
            if vals[k] is not _MISSING:
                raise TypeError(f"Multiple values for input {key!r} (index {k})")
            vals[k] = v
        for k in range(n):
            if vals[k] is _MISSING:
                if k in self._containers:
                    vals[k] = self._containers[k]
                elif self._defaults[k] is not None:
                    vals[k] = self._defaults[k]
                else:
                    nm = self._names[k] or str(self.maker.inputs[k].variable)
                    raise TypeError(f"Missing required input: {nm} (index {k}) of thx "
                                    f"function{_fmt_name(self.name)}")
        return vals

    # ------------------------------------------------------------------ utilities
    def copy(self, share_memory: bool = False, swap: dict | None = None, delete_updates: bool = False,
             name: str | None = None, profile: Any = None) -> Function:
        """A new function computing the same outputs.

        Parameters
        ----------
        swap : dict, optional
            ``{old_shared: new_shared}``: the copy uses the new shared variables.
        delete_updates : bool
            The copy does not apply the updates.
        name : str, optional

        Returns
        -------
        Function
            As in Theano 1.0, the copy returns a list of outputs even when this function
            returns a single value.

        Examples
        --------
        >>> import thx, thx.tensor as T
        >>> state = thx.shared(0)
        >>> inc = T.iscalar('inc')
        >>> accumulator = thx.function([inc], state, updates=[(state, state + inc)])
        >>> accumulator(10)
        array(0)
        >>> new_state = thx.shared(0)
        >>> accumulator.copy(swap={state: new_state})(100)
        [array(0)]
        >>> int(new_state.get_value()), int(state.get_value())
        (100, 10)
        """
        spec = dict(self._spec)
        swap = dict(swap or {})
        for old, new in swap.items():
            if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
                raise TypeError("Function.copy: swap must map shared variables to shared variables")
            if old.type != new.type:
                raise TypeError(f"Function.copy: cannot swap {old} ({old.type}) for {new} ({new.type})")
        if swap:
            givens = dict(spec.get("givens") or {})
            givens.update(swap)
            spec["givens"] = givens
            spec["updates"] = [(swap.get(v, v), e) for v, e in _normalize_updates(spec.get("updates"))]
        if delete_updates:
            spec["updates"] = None
            spec["no_default_updates"] = True  # as Theano: every update goes, default ones too
            spec["on_unused_input"] = "ignore"  # inputs used only by the updates stay inputs
        spec["name"] = name if name is not None else self.name
        if spec.get("outputs") is not None and not isinstance(spec["outputs"], (list, tuple)):
            # Theano 1.0 rebuilds the copy from its list of outputs, so a copy of a one-output
            # function returns a list (the tutorial's ``new_accumulator(100)`` gives ``[array(0)]``)
            spec["outputs"] = [spec["outputs"]]
        f = function(**spec)
        for k, v in self._containers.items():
            f._containers[k] = v
        return f

    def lower_text(self, *args: Any) -> str:
        """The StableHLO that XLA receives, for example arguments ``args``."""
        from thx.lowering.linker import lower_text
        vals = [self._check(k, a) for k, a in enumerate(args)] + [s._value for s in self._shared]
        vals = [int(v) if k in self._static_set else v for k, v in enumerate(vals)]
        return lower_text(self.jax_fn, vals)

    @property
    def input_storage(self):
        return [_Container(i.value) for i in self.maker.inputs]

    def __repr__(self) -> str:
        return f"<thx.compile.function.Function {self.name or ''}>"

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        """What rebuilds this function: its spec (the graph, updates, givens, mode ...).

        The jitted JAX function does not pickle; loading runs ``function(**spec)``
        again (rewrites, then lowering).  Shared variables pickled together with
        the function come back as the same objects, with the values they had.
        """
        return {"spec": self._spec, "trust_input": self.trust_input,
                "containers": {k: np.asarray(v) for k, v in self._containers.items()}}

    def __setstate__(self, state: dict) -> None:
        f = function(**state["spec"])
        self.__dict__.update(f.__dict__)
        self._containers.update(state["containers"])
        self.trust_input = state["trust_input"]


class _Container:
    def __init__(self, value):
        self.value = value
        self.data = value


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _fmt_name(name: str | None) -> str:
    return f" '{name}'" if name else ""


def _lower_first(s: str) -> str:
    word = s.split(" ", 1)[0]
    if not word[1:].islower():  # a name such as TensorType(...) keeps its capital
        return s
    return s[:1].lower() + s[1:]


def _runtime_error(f: Function, e: Exception, args: list) -> Exception:
    shapes = ", ".join(f"{(f._names[k] or k)}: {np.shape(a)}" for k, a in enumerate(args))
    msg = str(e).split("\n")[0] + getattr(e, "thx_report", "")  # the failing node (graph/errors.py)
    return ValueError(f"Error while running thx function{_fmt_name(f.name)} (input shapes: {shapes}): "
                      f"{type(e).__name__}: {msg}")


def _keep_on_failure(maker: FunctionMaker) -> list[tuple[int, int]]:
    """(update output, its input) positions: a failed run-time check returns the old value,
    so a donated input buffer still holds it."""
    n_out, n_in = maker.n_outputs, len(maker.inputs)
    pairs = [(n_out + k, n_in + maker.shared_vars.index(v)) for k, (v, _) in enumerate(maker.updates)]
    first = n_out + len(maker.updates)
    return pairs + [(first + j, k) for j, k in enumerate(maker.in_update_pos)]


# --------------------------------------------------------------------------- function()

# Called as ``hook(f, exprs)`` with each new Function and the expressions it computes (outputs,
# then update values).  Layers above compile register here instead of compile importing them:
# thx/check.py adds the first-call gradient check of ``config.check_gradients = 'jax'``.
COMPILE_HOOKS: list[Callable[[Function, list[Variable]], None]] = []


def function(inputs: Sequence[Any] | None = None, outputs: Any = None, mode: Any = None,
             updates: Any = None, givens: Any = None, no_default_updates: bool = False,
             accept_inplace: bool = False, name: str | None = None, rebuild_strict: bool = True,
             allow_input_downcast: bool | None = None, profile: Any = None,
             on_unused_input: str | None = None, return_device_arrays: bool = False,
             static_argnames: Sequence[Any] | None = None,
             shardings: dict | None = None) -> Function:
    """Compile a function from input variables to output expressions.

    Parameters
    ----------
    inputs : list of Variable or In
    outputs : Variable, Out, or list of them
        A single output returns a single array; a list returns a list.
    mode : str or Mode, optional
        ``'FAST_RUN'`` (default), ``'FAST_COMPILE'``, or a Mode.
    updates : list of pairs or dict, optional
        ``(shared_variable, new_expression)``: stored after each call.
    givens : list of pairs or dict, optional
        ``(variable, replacement)`` substitutions in the graph.
    no_default_updates : bool
        Ignore the shared variables' ``default_update``.
    name : str, optional
    allow_input_downcast : bool, optional
        Accept lossy conversions of arguments to the inputs' dtypes.
    on_unused_input : {'raise', 'warn', 'ignore'}, optional
    return_device_arrays : bool
        Return JAX device arrays instead of NumPy arrays.  (``static_argnames``: docs/shapes.md;
        ``shardings``, ``{variable: (mesh axis or None, ...)}``: docs/distributed.md)

    Returns
    -------
    Function

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dscalar('x')
    >>> f = thx.function([x], T.grad(x ** 2, x))
    >>> f(4)
    array(8.)
    """
    if inputs is None:
        inputs = []
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("Input variables of a thx function should be contained in a list, even when "
                        "there is a single input.")
    if on_unused_input is None:
        on_unused_input = config.on_unused_input
    check_policy("on_unused_input", on_unused_input)
    spec = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                no_default_updates=no_default_updates, name=name, profile=profile,
                allow_input_downcast=allow_input_downcast, on_unused_input=on_unused_input,
                return_device_arrays=return_device_arrays, static_argnames=static_argnames)
    ins: list[In] = []
    seen: set[Variable] = set()
    cuts: dict[Variable, Variable] = {}  # intermediate input -> the fresh variable replacing it
    for k, i in enumerate(inputs):
        if isinstance(i, In):
            spec_in = i
            if isinstance(i.variable, SharedVariable):
                raise TypeError(f"Cannot use a shared variable ({i.variable}) as explicit input {k} "
                                f"(In({i.variable})). Consider substituting a non-shared variable via "
                                f"the `givens` parameter")
        elif isinstance(i, Variable):
            if isinstance(i, Constant):
                raise TypeError(f"Input {k} of thx.function is a constant ({i}); constants cannot be "
                                f"inputs. Use a symbolic variable.")
            if isinstance(i, SharedVariable):
                raise TypeError(f"Cannot use a shared variable ({i}) as explicit input {k}. Consider "
                                f"substituting a non-shared variable via the `givens` parameter")
            spec_in = In(i)
        else:
            raise TypeError(f"Unknown input type: {type(i).__name__} ({i!r}) at index {k}, expected "
                            f"Variable or In instance")
        if spec_in.variable in seen:
            raise ValueError(f"Variable {spec_in.variable} is used twice in inputs to thx.function, "
                             f"at indices {[j for j, x in enumerate(ins) if x.variable is spec_in.variable][0]} "
                             f"and {k}. This would result in values provided for it being ignored. "
                             f"Please do not duplicate variables in the inputs list.")
        seen.add(spec_in.variable)
        if spec_in.variable.owner is not None:  # an intermediate: Theano cuts the graph there
            spec_in = copy.copy(spec_in)
            cuts[spec_in.variable] = spec_in.variable.type(spec_in.variable.name)
            spec_in.variable = cuts[spec_in.variable]
        ins.append(spec_in)

    unpack = False
    if outputs is None:
        out_list: list[Any] = []
    elif isinstance(outputs, (list, tuple)):
        out_list = list(outputs)
    else:
        out_list = [outputs]
        unpack = True
    from thx.tensor.var import as_tensor_variable
    out_vars = []
    for k, o in enumerate(out_list):
        if isinstance(o, Out):
            o = o.variable
        if not isinstance(o, Variable):
            try:
                o = as_tensor_variable(o)
            except TypeError:
                raise TypeError(f"Output {k} of thx.function must be a symbolic Variable, got "
                                f"{type(o).__name__}: {o!r}") from None
        if isinstance(o.type, NullType):  # an undefined gradient (grad_undefined): Theano's TypeError
            raise TypeError(f"Output {k} of thx.function is an undefined gradient (NullType) and "
                            f"cannot be computed: {o.type.why_null}")
        out_vars.append(o)

    upd = _normalize_updates(updates)
    giv = _normalize_givens(givens)
    giv.update((v, r) for v, r in cuts.items() if v not in giv)
    if not no_default_updates:
        targets = {v for v, _ in upd}
        for v in ancestors(out_vars + [u for _, u in upd]):
            if isinstance(v, SharedVariable) and v.default_update is not None and v not in targets:
                upd.append((v, v.default_update))
                targets.add(v)
    out_vars, upd = sharding.annotate(ins, out_vars, upd, giv, shardings, spec)
    if giv:
        exprs = out_vars + [u for _, u in upd] + [i.update for i in ins if i.update is not None]
        new = clone_replace(exprs, giv)
        out_vars = new[: len(out_vars)]
        upd = [(v, e) for (v, _), e in zip(upd, new[len(out_vars): len(out_vars) + len(upd)])]
        rest = new[len(out_vars) + len(upd):]
        it = iter(rest)
        for i in ins:
            if i.update is not None:
                i.update = next(it)
    m = get_mode(mode)
    with gc_paused():  # many graph objects, few cycles (see thx.graph.basic.gc_paused)
        maker = FunctionMaker(ins, out_vars, upd, m, on_unused_input, name, static_argnames)
        f = Function(maker, name, allow_input_downcast, unpack, return_device_arrays, spec)
    if COMPILE_HOOKS:
        exprs = out_vars + [u for _, u in upd]
        for hook in COMPILE_HOOKS:
            hook(f, exprs)
    return f
