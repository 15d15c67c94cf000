"""``thx.scan`` and its shortcuts ``map``, ``reduce``, ``foldl``, ``foldr``.

How a call becomes a Scan node (Theano's algorithm); ``scan()`` calls one
function per phase, in this order:

1. ``_normalise_arguments``: the arguments as lists, ``n_steps`` as int64.
2. ``_sequence_slices`` / ``_state_variables``: cut each sequence once per tap
   so that step ``t`` reads row ``t`` of every cut (reversed first when
   ``go_backwards``), with a fresh inner variable per slice; an initial buffer
   and inner variables per state tap.
3. ``_call_step`` / ``_shared_variable_updates``: call ``fn`` with the inner
   variables and the *outer* non-sequence variables themselves; parse what it
   returned: outputs, updates of shared variables, an optional ``until``.
4. ``_inner_graph``: clone the step graph, replacing the outer non-sequences
   (and the shared variables being updated) by inner placeholders.  Every
   other outer expression the step uses and that does not depend on an inner
   variable (a shared variable, an input not listed in ``non_sequences``,
   ``y`` in the tutorial's ``T.grad(y[i], x)``) becomes an implicit
   non-sequence: it is computed once, outside the loop.
5. ``_scan_node``: the Scan op on the outer inputs.
6. ``_unpack_outputs``: the outputs in the user's order, and the updates.
"""

from __future__ import annotations

import builtins
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from thx.graph import test_value
from thx.graph.basic import Constant, Variable, ancestors, clone_replace, io_toposort
from thx.graph.fg import FunctionGraph, MissingInputError

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "ScanError"]


class ScanError(ValueError):
    """A call to ``scan`` is malformed (the message names the argument at fault)."""


def _T():
    import thx.tensor as T
    return T


class until:
    """A stop condition returned by a scan step: ``return outputs, until(cond)``.

    Parameters
    ----------
    condition : scalar Variable
        The loop stops after the first step where it is true (that step's
        outputs are kept).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> from thx.scan_module import until
    >>> max_value = T.dscalar('max_value')
    >>> values, _ = thx.scan(lambda prev, m: (prev * 2, until(prev * 2 > m)),
    ...                      outputs_info=T.constant(1.), non_sequences=max_value, n_steps=1024)
    >>> thx.function([max_value], values)(45)
    array([ 2.,  4.,  8., 16., 32., 64.], dtype=float32)
    """

    def __init__(self, condition: Any) -> None:
        self.condition = _T().as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}")


# ------------------------------------------------------------------------ parsing fn's result

_RETURN_MSG = ("The return value of your scan lambda expression may only be made of lists, tuples, "
               "or dictionaries containing thx variables (or `thx.scan_module.until` objects for "
               "conditions). In particular if you need to use constant values, you can use "
               "`tensor.constant` to turn them into thx variables.")


def _is_outputs(e: Any) -> bool:
    if isinstance(e, Variable):
        return True
    return isinstance(e, (list, tuple)) and builtins.all(isinstance(x, Variable) for x in e)


def _is_updates(e: Any) -> bool:
    """A dict, or a list of ``(shared_variable, expression)`` pairs (empty counts)."""
    from thx.tensor.sharedvar import SharedVariable
    if isinstance(e, dict):
        return True
    return isinstance(e, (list, tuple)) and builtins.all(
        isinstance(x, (list, tuple)) and len(x) == 2 and isinstance(x[0], SharedVariable) for x in e)


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _parse_return(ls: Any) -> tuple[Variable | None, list[Variable], OrderedDict]:
    """``(condition, outputs, updates)`` from what the step function returned (Theano's rules)."""
    if isinstance(ls, until):
        return ls.condition, [], OrderedDict()
    if _is_outputs(ls):
        return None, _as_list(ls), OrderedDict()
    if _is_updates(ls):
        return None, [], OrderedDict(ls)
    if isinstance(ls, (list, tuple)) and len(ls) == 2:
        a, b = ls
        if _is_outputs(a):
            if isinstance(b, until):
                return b.condition, _as_list(a), OrderedDict()
            if _is_updates(b):
                return None, _as_list(a), OrderedDict(b)
        elif _is_updates(a):
            if isinstance(b, until):
                return b.condition, [], OrderedDict(a)
            if _is_outputs(b):
                warnings.warn("Scan: returning (updates, outputs) is deprecated; return "
                              "(outputs, updates)", DeprecationWarning, stacklevel=3)
                return None, _as_list(b), OrderedDict(a)
    elif isinstance(ls, (list, tuple)) and len(ls) == 3:
        a, b, c = ls
        if _is_outputs(a) and _is_updates(b) and isinstance(c, until):
            return c.condition, _as_list(a), OrderedDict(b)
    raise ValueError(_RETURN_MSG + f" Got {ls!r}")


# ------------------------------------------------------------------------ helpers

def _wrap(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _slice_name(base: str | None, k: int) -> str | None:
    if base is None:
        return None
    return f"{base}[t]" if k == 0 else f"{base}[t{k:+d}]"


def _match_state_type(out: Variable, state_type, what: str, init_desc: str) -> Variable:
    """``out`` as a value of ``state_type``; broadcastable differences are fixed, others raise."""
    T = _T()
    if out.type == state_type:
        return out
    if out.dtype != state_type.dtype or out.ndim != state_type.ndim:
        raise TypeError(
            f"scan: {what} has type {out.type}, but its initial state ({init_desc}) has type "
            f"{state_type}. The step function must return the same dtype and number of dimensions "
            f"as the state it updates (this often comes from an upcast in the step, e.g. float32 "
            f"state times a float64 value; cast the result or the initial state).")
    if any(sb and not ob for sb, ob in zip(state_type.broadcastable, out.broadcastable)):
        # the state promises length 1 where the step's result may be longer (Theano's check)
        raise TypeError(
            f"Inconsistency in the inner graph of scan: {what} and its initial state ({init_desc}) "
            f"are associated with the same recurrent state and should have the same type but have "
            f"type '{out.type}' and '{state_type}' respectively. Give the initial state the "
            f"step's broadcast pattern (T.unbroadcast(init, axis), or T.addbroadcast on the result).")
    return T.patternbroadcast(out, state_type.broadcastable)


def _check_int_scalar(n_steps: Any) -> Variable:
    T = _T()
    v = T.as_tensor_variable(n_steps)
    if not str(v.dtype).startswith(("int", "uint")):
        raise ValueError(f" n_steps must be an int. dtype provided is {v.dtype}")
    if v.ndim != 0:
        raise ValueError(f"n_steps must be a scalar, got {v.type}")
    return v


def _is_missing(n_steps: Any) -> bool:
    if n_steps is None:
        return True
    if isinstance(n_steps, float) and (np.isnan(n_steps) or np.isinf(n_steps)):
        return True
    return False


# ------------------------------------------------------------------------ scan

def scan(fn: Callable[..., Any], sequences: Any = None, outputs_info: Any = None,
         non_sequences: Any = None, n_steps: Any = None, truncate_gradient: int = -1,
         go_backwards: bool = False, mode: Any = None, name: str | None = None, profile: Any = False,
         allow_gc: bool | None = None, strict: bool = False,
         return_list: bool = False) -> tuple[Any, OrderedDict]:
    """Loop ``fn`` over sequences and recurrent states (Theano's ``scan``).

    Parameters
    ----------
    fn : callable
        The step. Called with, in order: one slice per sequence tap, one
        value per output tap (for outputs with an initial state), then the
        ``non_sequences`` themselves. Returns outputs, optionally with a
        dict/list of ``(shared_variable, new_value)`` updates and/or a
        ``thx.scan_module.until`` stop condition.
    sequences : Variable, dict or list of them, optional
        Iterated over their first dimension. A dict ``{'input': s, 'taps':
        [-1, 0]}`` gives the step several slices (``s[t-1]``, ``s[t]``).  As in
        Theano 1.0, taps are aligned as if tap 0 were among them: ``taps=[-2,
        -1]`` of ``[1..5]`` gives the step ``(1, 2)``, ``(2, 3)``, ``(3, 4)``.
    outputs_info : list, optional
        One entry per output: None (the output is not fed back), an initial
        value (fed back as the previous value, tap -1), or a dict
        ``{'initial': v, 'taps': [-2, -1]}`` (``v`` then has one row per
        past step needed, oldest first).
    non_sequences : Variable or list, optional
        Passed unchanged to every step.
    n_steps : int or integer scalar Variable, optional
        Number of steps (default: the length of the shortest sequence).
    truncate_gradient : int
        Backpropagate through at most this many steps (-1: all).
    go_backwards : bool
        Iterate over the sequences from the end.
    mode, profile, allow_gc : optional
        Accepted for compatibility (``mode`` compiles the inner graph).
    name : str, optional
        Name of the Scan op (``'scan_fn'``).
    strict : bool
        Require every shared variable the step uses to be in ``non_sequences``.
    return_list : bool
        Always return the outputs as a list.

    Returns
    -------
    outputs : Variable or list of Variable
        One per output, each with one row per step (Theano's convention: a
        single output is returned alone, none gives None).
    updates : OrderedDict
        Updates of the shared variables the step updated; pass them to
        ``thx.function``.

    Raises
    ------
    ValueError
        Inconsistent arguments (no way to know the number of steps, an
        ``outputs_info`` of the wrong length, future taps of an output ...).
    TypeError
        A step output whose type differs from its initial state (also a state
        broadcastable where the output is not, as Theano).
    MissingInputError
        ``strict=True`` and the step uses a shared variable not given in
        ``non_sequences``.

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> k, A = T.iscalar('k'), T.dvector('A')
    >>> result, updates = thx.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
    ...                            non_sequences=A, n_steps=k)
    >>> thx.function([A, k], result[-1], updates=updates)(range(10), 2)
    array([ 0.,  1.,  4.,  9., 16., 25., 36., 49., 64., 81.])
    """
    _check_step_arguments(fn, truncate_gradient)
    seqs_in, outs_in, non_seqs, n_steps_var = _normalise_arguments(
        sequences, outputs_info, non_sequences, n_steps)
    seq_outer, seq_inner = _sequence_slices(seqs_in, go_backwards)
    actual_n_steps = _number_of_steps(n_steps_var, seq_outer)
    infos = _state_variables(outs_in)
    test_value.give_rows([(o, 0, i) for o, i in zip(seq_outer, seq_inner)] + [  # compute_test_value
        (s["outer_init"], k - min(s["taps"]), v) for s in infos if s for k, v in zip(s["taps"], s["inner"])])
    args, condition, outputs, updates, infos = _call_step(fn, seq_inner, infos, non_seqs, outs_in)
    upd_pairs, shared_inner = _shared_variable_updates(outputs, updates, condition, args, non_seqs)
    inner = _inner_graph(outputs, condition, infos, seq_inner, non_seqs, upd_pairs, shared_inner,
                         strict)
    op, outs = _scan_node(inner, seq_outer, infos, upd_pairs, actual_n_steps, truncate_gradient,
                          name, mode)
    return _unpack_outputs(op, outs, infos, inner.rec_idx, inner.nit_idx, upd_pairs, return_list)


# ------------------------------------------------------------------------ the phases of scan()

def _check_step_arguments(fn: Any, truncate_gradient: Any) -> None:
    """``fn`` is callable and ``truncate_gradient`` is -1 or a positive int."""
    if not callable(fn):
        raise TypeError(f"scan: fn must be callable, got {type(fn).__name__}")
    if int(truncate_gradient) != truncate_gradient or (truncate_gradient < 1 and truncate_gradient != -1):
        raise ValueError(f"scan: truncate_gradient must be -1 or a positive int, got {truncate_gradient!r}")


def _normalise_arguments(sequences: Any, outputs_info: Any, non_sequences: Any,
                         n_steps: Any) -> tuple[list, list, list[Variable], Variable | None]:
    """Phase 1: the arguments as lists, and ``n_steps`` as an int64 variable (None: not given)."""
    T = _T()
    seqs_in = _wrap(sequences)
    outs_in = _wrap(outputs_info)
    non_seqs = [v if isinstance(v, Variable) else T.as_tensor_variable(v) for v in _wrap(non_sequences)]
    n_steps_var = None
    if not _is_missing(n_steps):
        n_steps_var = _check_int_scalar(n_steps)
        if isinstance(n_steps_var, Constant):
            if int(n_steps_var.data) < 0:
                raise IndexError(f"scan was asked to run for a negative number of steps "
                                 f"({int(n_steps_var.data)}); use go_backwards=True to iterate from the end")
            n_steps_var = T.constant(int(n_steps_var.data), dtype="int64")
    return seqs_in, outs_in, non_seqs, n_steps_var


def _sequence_slices(seqs_in: list, go_backwards: bool) -> tuple[list[Variable], list[Variable]]:
    """Phase 2a: one outer cut and one inner slice variable per sequence tap."""
    T = _T()
    seq_outer: list[Variable] = []
    seq_inner: list[Variable] = []
    for i, s in enumerate(seqs_in):
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError(f"scan: sequence {i} is a dict without an 'input' key: {s!r}")
            var, taps = s["input"], s.get("taps", None)
            taps = [0] if taps is None else _wrap(taps)
        else:
            var, taps = s, [0]
        var = T.as_tensor_variable(var)
        if var.ndim == 0:
            raise ValueError(f"scan: sequence {i} ({var}) is a scalar; sequences are iterated over "
                             f"their first dimension")
        if not taps:
            continue
        taps = [int(t) for t in taps]
        # Theano 1.0 cuts as if tap 0 were among the taps: row t of tap k's cut is element
        # t + k - min(taps, 0), so taps [-2, -1] of [1..5] give [1 2 3] and [2 3 4], and the
        # number of steps is len - (max(taps, 0) - min(taps, 0)).
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        for k in taps:
            cut = var[k - lo:] if k == hi else var[k - lo:k - hi]
            if go_backwards:
                cut = cut[::-1]
            seq_outer.append(cut)
            seq_inner.append(T.TensorType(var.dtype, var.broadcastable[1:])(_slice_name(var.name, k)))
    return seq_outer, seq_inner


def _number_of_steps(n_steps_var: Variable | None, seq_outer: list[Variable]) -> Variable:
    """``n_steps`` if given, else the length of the shortest sequence cut."""
    T = _T()
    if n_steps_var is not None:
        return n_steps_var
    if not seq_outer:
        raise ValueError(" No information about the number of steps provided. Either provide a "
                         "value for n_steps argument of scan or provide an input sequence")
    actual_n_steps = seq_outer[0].shape[0]
    for s in seq_outer[1:]:
        actual_n_steps = T.minimum(actual_n_steps, s.shape[0])
    return actual_n_steps


def _state_variables(outs_in: list) -> list[dict]:
    """Phase 2b: per ``outputs_info`` entry, its initial buffer and inner tap variables
    (``{}`` for an output that is not fed back)."""
    T = _T()
    infos: list[dict] = []
    for i, o in enumerate(outs_in):
        if o is None:
            infos.append({})
            continue
        if isinstance(o, dict):
            if o.get("return_steps", None) is not None:
                raise ValueError("Using `return_steps` has been deprecated. Simply select the entries "
                                 "you need using a subtensor.")
            init, taps = o.get("initial", None), o.get("taps", None)
            if init is None:
                if taps is not None:
                    raise ValueError(f"If you are using slices of an output you need to provide a "
                                     f"initial state for it (outputs_info[{i}] = {o!r})")
                infos.append({})
                continue
            taps = [-1] if taps is None else [int(t) for t in _wrap(taps)]
        else:
            init, taps = o, [-1]
        if any(t >= 0 for t in taps):
            raise ValueError(f"Can not use future taps of outputs (outputs_info[{i}] has taps {taps}; "
                             f"output taps must be negative)")
        init = T.as_tensor_variable(init)
        if taps == [-1]:
            state_type = init.type
            outer_init = T.unbroadcast(T.shape_padleft(init), 0)
            inner = [state_type(_slice_name(init.name, -1))]
        else:
            L = -min(taps)
            if init.ndim == 0:
                raise ValueError(f"scan: outputs_info[{i}] uses taps {taps}, so its initial value "
                                 f"needs a leading time dimension of length {L}; got a scalar")
            state_type = T.TensorType(init.dtype, init.broadcastable[1:])
            outer_init = T.unbroadcast(init[:L], 0)
            inner = [state_type(_slice_name(init.name, k)) for k in taps]
        infos.append({"init": init, "taps": taps, "state_type": state_type,
                      "outer_init": outer_init, "inner": inner})
    return infos


def _call_step(fn: Callable[..., Any], seq_inner: list[Variable], infos: list[dict],
               non_seqs: list[Variable], outs_in: list):
    """Phase 3: call ``fn`` on the inner variables (and the outer non-sequences) and parse its
    return: ``(args, condition, outputs, updates, infos)``."""
    T = _T()
    args = list(seq_inner)
    for info in infos:
        args += info.get("inner", [])
    args += non_seqs
    condition, outputs, updates = _parse_return(fn(*args))
    outputs = list(outputs)
    for k, o in enumerate(outputs):
        if not isinstance(o, Variable):
            raise ValueError(_RETURN_MSG + f" (output {k} is {o!r})")
        outputs[k] = T.as_tensor_variable(o)

    if outs_in and len(outputs) != len(infos):
        raise ValueError(f"Please provide None as outputs_info for any output that does not feed "
                         f"back into scan (i.e. it behaves like a map): fn returned "
                         f"{len(outputs)} output(s) but outputs_info has {len(infos)} entries")
    if not outs_in:
        infos = [{} for _ in outputs]
    return args, condition, outputs, updates, infos


def _shared_variable_updates(outputs: list[Variable], updates: OrderedDict,
                             condition: Variable | None, args: list[Variable],
                             non_seqs: list[Variable]) -> tuple[list[tuple[Variable, Variable]], list[Variable]]:
    """Phase 3b: the updated shared variables, each a recurrent state (tap -1) with its inner copy.

    As in Theano, a shared variable with a default update (a random stream's state) that the
    step reaches is updated at every step too, so each step draws new random numbers.
    """
    T = _T()
    from thx.tensor.sharedvar import SharedVariable
    blockers = set(args) - {v for v in non_seqs if isinstance(v, SharedVariable)}
    while True:
        roots = outputs + list(updates.values()) + ([condition] if condition is not None else [])
        extra = [v for v in ancestors(roots, blockers) if isinstance(v, SharedVariable)
                 and getattr(v, "default_update", None) is not None and v not in updates]
        if not extra:
            break
        for v in extra:
            updates[v] = v.default_update
    upd_pairs: list[tuple[Variable, Variable]] = []
    for var, expr in updates.items():
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: the step returned an update for {var!r}, which is not a shared "
                            f"variable")
        expr = T.as_tensor_variable(expr)
        if expr.type != var.type:
            if expr.dtype == var.dtype and expr.ndim == var.ndim:
                expr = T.patternbroadcast(expr, var.broadcastable)
            else:
                raise TypeError(f"scan: the update of shared variable {var} has type {expr.type}, "
                                f"but the variable has type {var.type}")
        upd_pairs.append((var, expr))
    shared_inner = [var.type(f"{var.name}_copy" if var.name else None) for var, _ in upd_pairs]
    return upd_pairs, shared_inner


@dataclass
class _InnerGraph:
    """What phase 4 gives the Scan node: its inner graph's inputs and outputs, the outer
    non-sequences (explicit, then implicit) and which user outputs are states or not."""

    inputs: list[Variable]
    outputs: list[Variable]
    explicit_outer: list[Variable]
    implicit_outer: list[Variable]
    rec_idx: list[int]
    nit_idx: list[int]
    rec_taps: list[tuple[int, ...]]
    as_while: bool


def _inner_graph(outputs: list[Variable], condition: Variable | None, infos: list[dict],
                 seq_inner: list[Variable], non_seqs: list[Variable],
                 upd_pairs: list[tuple[Variable, Variable]], shared_inner: list[Variable],
                 strict: bool) -> _InnerGraph:
    """Phase 4: clone the step graph with outer non-sequences and updated shared variables
    replaced by placeholders, and find the implicit non-sequences (loop invariants)."""
    from thx.tensor.sharedvar import SharedVariable
    rec_idx = [i for i, info in enumerate(infos) if info]
    nit_idx = [i for i, info in enumerate(infos) if not info]
    rec_outs = []
    for i in rec_idx:
        rec_outs.append(_match_state_type(outputs[i], infos[i]["state_type"],
                                          f"output {i} of the step function",
                                          f"outputs_info[{i}]"))
    inner_outs = rec_outs + [expr for _, expr in upd_pairs] + [outputs[i] for i in nit_idx]
    if condition is not None:
        inner_outs.append(condition)

    updated = {var for var, _ in upd_pairs}
    replace: dict[Variable, Variable] = dict(zip([v for v, _ in upd_pairs], shared_inner))
    explicit_outer: list[Variable] = []
    explicit_inner: list[Variable] = []
    for v in non_seqs:
        if isinstance(v, Constant) or v in updated or v in replace:
            continue
        ph = v.type(v.name)
        replace[v] = ph
        explicit_outer.append(v)
        explicit_inner.append(ph)
    inner_outs = clone_replace(inner_outs, replace)

    placeholders = set(seq_inner) | set(shared_inner) | set(explicit_inner)
    for info in infos:
        placeholders.update(info.get("inner", []))
    implicit_outer = _loop_invariants(inner_outs, placeholders)
    if strict:
        for v in implicit_outer:
            for r in _roots(v):
                if isinstance(r, SharedVariable) and r not in updated:
                    raise MissingInputError(f"scan(strict=True): the step uses the shared variable "
                                            f"{r}, which is not given in non_sequences")
    implicit_inner = [v.type(v.name) for v in implicit_outer]
    if implicit_outer:
        inner_outs = clone_replace(inner_outs, dict(zip(implicit_outer, implicit_inner)))

    inner_inputs = list(seq_inner)
    for i in rec_idx:
        inner_inputs += infos[i]["inner"]
    inner_inputs += shared_inner + explicit_inner + implicit_inner
    rec_taps = [tuple(infos[i]["taps"]) for i in rec_idx] + [(-1,)] * len(upd_pairs)
    return _InnerGraph(inner_inputs, inner_outs, explicit_outer, implicit_outer, rec_idx, nit_idx,
                       rec_taps, as_while=condition is not None)


def _scan_node(inner: _InnerGraph, seq_outer: list[Variable], infos: list[dict],
               upd_pairs: list[tuple[Variable, Variable]], actual_n_steps: Variable,
               truncate_gradient: int, name: str | None, mode: Any) -> tuple[Any, list[Variable]]:
    """Phase 5: the Scan op and its outer outputs."""
    T = _T()
    from thx.scan.op import Scan
    fgraph = FunctionGraph(inner.inputs, inner.outputs, clone=True)
    op = Scan(fgraph, n_seqs=len(seq_outer), rec_taps=inner.rec_taps, n_nit=len(inner.nit_idx),
              as_while=inner.as_while, truncate_gradient=truncate_gradient, name=name, mode=mode)
    outer_inits = [infos[i]["outer_init"] for i in inner.rec_idx]
    outer_inits += [T.unbroadcast(_padleft(var), 0) for var, _ in upd_pairs]
    outs = op(T.cast(actual_n_steps, "int64") if actual_n_steps.dtype != "int64" else actual_n_steps,
              *seq_outer, *outer_inits, *inner.explicit_outer, *inner.implicit_outer)
    if not isinstance(outs, list):
        outs = [outs]
    return op, outs


def _unpack_outputs(op: Any, outs: list[Variable], infos: list[dict], rec_idx: list[int],
                    nit_idx: list[int], upd_pairs: list[tuple[Variable, Variable]],
                    return_list: bool) -> tuple[Any, OrderedDict]:
    """Phase 6: outputs in the user's order (states without their initial rows); each shared
    variable's update is the last row of its trace."""
    n_user_rec = len(rec_idx)
    results: list[Variable | None] = [None] * len(infos)
    for pos, i in enumerate(rec_idx):
        L = op.lags[pos]
        results[i] = outs[pos][L:]
    from thx.updates import OrderedUpdates  # Theano's return type for scan's updates
    update_map: OrderedDict = OrderedUpdates()
    for j, (var, _) in enumerate(upd_pairs):
        update_map[var] = outs[n_user_rec + j][-1]
    for pos, i in enumerate(nit_idx):
        results[i] = outs[op.n_rec + pos]
    if return_list:
        return list(results), update_map
    if len(results) == 1:
        return results[0], update_map
    if not results:
        return None, update_map
    return list(results), update_map


def _padleft(v: Variable) -> Variable:
    """``v`` with a leading length-1 axis (works for any tensor-typed variable, e.g. an RNG state)."""
    from thx.graph.basic import Apply
    from thx.tensor.elemwise import DimShuffle
    T = _T()
    if isinstance(v, T.TensorVariable) or hasattr(v, "dimshuffle"):
        return T.shape_padleft(v)
    op = DimShuffle(v.type.broadcastable, ["x"] + list(range(v.type.ndim)))
    return Apply(op, [v], [T.TensorType(v.type.dtype, (True,) + v.type.broadcastable)()]).outputs[0]


def _roots(v: Variable) -> list[Variable]:
    from thx.graph.basic import graph_inputs
    return graph_inputs([v])


def _loop_invariants(outputs: Sequence[Variable], placeholders: set) -> list[Variable]:
    """Outer expressions the step uses that no inner variable reaches (computed once, outside).

    These are the maximal subexpressions independent of ``placeholders``
    that feed a dependent node or are outputs themselves; pure-constant
    subexpressions stay inside (they are known at compile time).
    """
    dependent: set[Variable] = set(placeholders)
    constant: set[Variable] = set()
    order = io_toposort(list(placeholders), outputs)
    found: list[Variable] = []
    seen: set[Variable] = set()

    def is_const(v: Variable) -> bool:
        return isinstance(v, Constant) or v in constant

    for node in order:
        dep = any(v in dependent for v in node.inputs)
        if dep:
            dependent.update(node.outputs)
            for v in node.inputs:
                if v not in dependent and not is_const(v) and v not in seen:
                    seen.add(v)
                    found.append(v)
        elif all(is_const(v) for v in node.inputs):
            constant.update(node.outputs)
    for o in outputs:
        if o not in dependent and not is_const(o) and o not in seen:
            seen.add(o)
            found.append(o)
    return found


# ------------------------------------------------------------------------ shortcuts

def map(fn: Callable[..., Any], sequences: Any, non_sequences: Any = None,
        truncate_gradient: int = -1, go_backwards: bool = False, mode: Any = None,
        name: str | None = None) -> tuple[Any, OrderedDict]:
    """``fn`` applied to each element of ``sequences`` (a scan without recurrence).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> y, _ = thx.map(lambda v: v ** 2, x)
    >>> thx.function([x], y)([1., 2., 3.])
    array([1., 4., 9.])
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
           go_backwards: bool = False, mode: Any = None, name: str | None = None) -> tuple[Any, OrderedDict]:
    """Fold ``fn`` over ``sequences`` keeping only the final state(s).

    Examples
    --------
    >>> import thx, thx.tensor as T
    >>> x = T.dvector('x')
    >>> s, _ = thx.reduce(lambda v, acc: acc + v, x, T.zeros_like(x[0]))
    >>> thx.function([x], s)([1., 2., 3.])
    array(6.)
    """
    rval, updates = scan(fn, sequences=sequences, outputs_info=outputs_info,
                         non_sequences=non_sequences, go_backwards=go_backwards, mode=mode,
                         name=name, return_list=True)
    last = [r[-1] for r in rval]
    return (last[0] if len(last) == 1 else last), updates


def foldl(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedDict]:
    """``reduce`` from the first element to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedDict]:
    """``reduce`` from the last element to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
