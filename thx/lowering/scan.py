"""JAX lowering of thx/scan: ``jax.vmap``, ``lax.scan`` and ``lax.while_loop``.

* A scan whose steps are independent (no recurrent state, no ``until``) is a
  map: it lowers to ``jax.vmap`` of the step over the sequences' first axis,
  one vectorised pass instead of ``n`` sequential steps (this is what makes
  the tutorial's scan-based Jacobian and Hessian fast).  The flag
  ``config.scan_map_lowering = 'scan'`` keeps the sequential ``lax.scan``.
* A recurrent scan lowers to ``lax.scan`` carrying the last ``L`` values of
  each state (``L`` = its largest lag).
* A scan with a stop condition (``until``) lowers to ``lax.while_loop``.  XLA
  needs static shapes, so the loop writes into ``n_steps`` preallocated rows
  and also returns how many steps ran.  Theano returns only the rows of the
  steps that ran, and that count is a run-time value, so such a node is a
  *host barrier*: the function's graph is cut around it into jitted segments
  (``thx/lowering/segments.py``); the loop itself runs as one jitted call, its rows are
  trimmed to the count on the host, and the segments after it are jitted for
  the trimmed shapes (JAX caches one compilation per distinct length).

The step is lowered with the same machinery as a whole function: the inner
FunctionGraph is rewritten by ``thx.rewriting.scan.optimize_inner`` and turned
into a closure by ``thx.lowering.program.build_closure``.  Non-sequences are closed
over, not passed through the loop, so values known while tracing (shapes,
static integers) stay known inside the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from thx.config import config
from thx.graph.basic import Constant
from thx.lowering.checks import collecting, emit_status, first_failure, raise_status
from thx.lowering.program import build_closure, static_argnums
from thx.lowering.registry import as_int, register
from thx.lowering.scan_reuse import pair_rows, row_shapes, scan_over_sequences
from thx.lowering.segments import Static as _Static
from thx.rewriting.scan import optimize_inner
from thx.scan.masked import MaskedScan
from thx.scan.materialize import Materialize
from thx.scan.op import Scan


def _inner(op: Scan) -> tuple[Callable[..., tuple], tuple[int, ...]]:
    """The step as a closure (built once per op) and its inner static input positions."""
    cache = op.__dict__.setdefault("_jax_inner", {})
    vmapped = _uses_vmap(op)
    key = (vmapped, config.check_index)  # the implementations read the flag when built
    if key not in cache:
        fg = optimize_inner(op, vmapped)
        cache[key] = (build_closure(fg), static_argnums(fg))
    return cache[key]


def _uses_vmap(op: Scan) -> bool:
    return op.is_map() and op.n_seqs > 0 and config.scan_map_lowering == "auto"


def _static_outer(node) -> tuple[int, ...]:
    """n_steps, and the non-sequences the step needs while tracing (sizes, shapes)."""
    return _static_of_scan(node.op)


def _static_masked(node) -> tuple[int, ...]:
    """A MaskedScan's: those of its Scan after the traced active length (position 0)."""
    return tuple(1 + i for i in _static_of_scan(node.op.scan))


def _static_of_scan(op: Scan) -> tuple[int, ...]:
    _, inner_static = _inner(op)
    first_ns = op.n_seqs + op.n_tap_inputs
    outer_first_ns = 1 + op.n_seqs + op.n_rec
    return (0,) + tuple(outer_first_ns + i - first_ns for i in inner_static if i >= first_ns)


@register(Materialize)
def _materialize(op: Materialize, node) -> Callable[..., Any]:
    """Store ``x`` once: XLA fuses elementwise work into its consumers (and recomputes it per
    element of a larger result) but not into a reduction's consumers, so ``x`` goes through a
    sum with ``-0.0`` (exact, signed zeros and NaNs included) that XLA does not fold away."""
    def impl(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating) or x.ndim == 0:
            return x
        pad = jnp.full_like(x, -0.0)
        neg0 = jnp.asarray(-0.0, x.dtype)
        return lax.reduce(jnp.stack([x, pad], -1), neg0, lax.add, (x.ndim,))
    return impl


def _is_tracer(v: Any) -> bool:
    return isinstance(v, jax.core.Tracer)


def _cast(v: Any, dtype: np.dtype):
    v = jnp.asarray(v)
    return v if v.dtype == dtype else v.astype(dtype)


@register(Scan, static_inputs=_static_outer)
def _scan(op: Scan, node) -> Callable[..., Any]:
    return _scan_impl(op, node)


@register(MaskedScan, static_inputs=_static_masked)
def _masked_scan(op: MaskedScan, node) -> Callable[..., Any]:
    return _scan_impl(op.scan, node, masked=True)


def _scan_impl(op: Scan, node, masked: bool = False) -> Callable[..., Any]:
    run, _ = _inner(op)
    ns, nr, nn = op.n_seqs, op.n_rec, op.n_nit
    rec_taps, reverse = op.rec_taps, op.reverse
    out_types = [o.type for o in op.fgraph.outputs]
    dtypes = [np.dtype(t.dtype) for t in out_types]
    use_map = _uses_vmap(op)
    n_out = nr + nn

    def prepare(n_steps, vals):
        N = as_int(n_steps, f"the number of steps of {op}")
        if N < 0:
            raise IndexError(f"{op} was asked to run for a negative number of steps ({N})")
        seqs = list(vals[:ns])
        for j, s in enumerate(seqs):
            length = np.shape(s)[0]
            if length < N:
                raise ValueError(f"{op}: sequence {j} has {length} elements, fewer than the {N} steps "
                                 f"requested (n_steps)")
            if length != N:
                seqs[j] = s[:N]
        inits = [_cast(v, dtypes[k]) for k, v in enumerate(vals[ns: ns + nr])]
        return N, seqs, inits, list(vals[ns + nr:])

    def step_values(xs, bufs, nonseqs):
        """One step: returns (new recurrent values, nit values, condition or None)."""
        args = list(xs)
        for k, taps in enumerate(rec_taps):  # tap -1 is the window's last row
            args += [bufs[k][t] for t in taps]
        outs = run(*args, *nonseqs)
        new = []
        for k in range(nr):
            v = _cast(outs[k], dtypes[k])
            want = tuple(np.shape(bufs[k])[1:])
            if tuple(np.shape(v)) != want:
                raise ValueError(f"{op}: the step returns recurrent state {k} with shape "
                                 f"{tuple(np.shape(v))}, but its initial value has shape {want}; a "
                                 f"recurrent state must keep its shape from step to step")
            new.append(v)
        nit = [_cast(outs[nr + j], dtypes[nr + j]) for j in range(nn)]
        cond = jnp.asarray(outs[-1]).astype(bool).reshape(()) if op.as_while else None
        return new, nit, cond

    def full_traces(inits, rows):
        # no step ran: the initial rows alone (XLA aborts slicing a concatenate of an empty array)
        return [(jnp.concatenate([rows[k], inits[k]] if reverse else [inits[k], rows[k]])
                 if np.shape(rows[k])[0] else jnp.asarray(inits[k])) for k in range(nr)]

    def pack(outs):
        return outs[0] if len(outs) == 1 else tuple(outs)

    if op.as_while:
        return _while_impl(op, prepare, step_values, full_traces, pack, _fixed_nonseqs(node))
    if masked:
        return _masked_impl(op, prepare, step_values, full_traces, pack, use_map)

    store = [op.stored(k) for k in range(n_out)]
    kept = _Kept(op, store, step_values)

    def impl(n_steps, *vals):
        N, seqs, inits, nonseqs = prepare(n_steps, vals)
        if use_map:
            seqs = _map_rows(seqs, N, store, reverse)

            def one(*xs):
                with collecting() as c:  # a failed check: a per-element status, reduced below
                    nit = tuple(step_values(xs, [], nonseqs)[1])
                return nit + _status_or_empty(c)
            outs = list(jax.vmap(one)(*seqs))
            _emit_steps(outs[nn:])
            return pack([_last_rows(y, N, s, reverse, carried=False) for y, s in zip(outs[:nn], store)])
        carry0 = kept.carry0(seqs, inits, nonseqs)

        def step(carry, xs):
            with collecting() as c:  # a failed check: a per-step status, reduced after the loop
                new, nit, _ = step_values(xs if xs is not None else (), kept.windows(carry[0]), nonseqs)
            return kept.advance(carry, new, nit), kept.rows(new, nit) + _status_or_empty(c)

        if seqs and kept.n_ys and N:  # stacked outputs as carried buffers (thx/lowering/scan_reuse.py)
            shapes = row_shapes(step, carry0, seqs, kept.n_ys)
            computed = [node.inputs[1 + j].owner is not None for j in range(ns)]  # not a function input
            carry, ys = scan_over_sequences(step, carry0, seqs, pair_rows(seqs, shapes, computed), shapes,
                                            lambda c: c[2], N, reverse)
        else:
            carry, ys = lax.scan(step, carry0, tuple(seqs) if seqs else None, length=N, reverse=reverse)
        ys = list(ys)
        _emit_steps(ys[kept.n_ys:])
        return pack(kept.outputs(N, inits, carry, ys[:kept.n_ys], full_traces))

    return impl


def _masked_impl(op, prepare, step_values, full_traces, pack, use_map):
    """Shape buckets: run all ``n_steps`` (padded) steps; steps from ``active`` on change
    no state (the carry is held) and output zeros (see ``thx.scan.masked``)."""
    nr, nn, reverse = op.n_rec, op.n_nit, op.reverse
    store = [op.stored(k) for k in range(nr + nn)]
    kept = _Kept(op, store, step_values)
    if kept.ring:  # the bucket analysis keeps such scans unpadded (thx/compile/bucket_rules.py)
        raise NotImplementedError(f"{op}: a masked scan keeps no more rows of an output than its taps")

    def impl(active, n_steps, *vals):
        N, seqs, inits, nonseqs = prepare(n_steps, vals)
        active = jnp.asarray(active)
        steps = jnp.arange(N)
        if use_map:
            def one(*xs):
                with collecting() as c:  # checks of padded steps are dropped below
                    nit = tuple(step_values(xs, [], nonseqs)[1])
                return nit + _status_or_empty(c)
            ys = list(jax.vmap(one)(*seqs))
            _emit_steps(_active_statuses(ys[nn:], steps, active))
            return pack([_last_rows(_zero_rows_from(y, steps, active), N, s, reverse, carried=False)
                         for y, s in zip(ys[:nn], store)])
        carry0 = kept.carry0(seqs, inits, nonseqs)

        def step(carry, xs):
            t, xs = xs[0], xs[1:]
            with collecting() as c:  # checks of padded steps are dropped below
                new, nit, _ = step_values(xs, kept.windows(carry[0]), nonseqs)
            keep = t < active
            rows = [jnp.where(keep, v, b[-1]) for v, b in zip(new, kept.windows(carry[0]))]
            nit = [jnp.where(keep, v, jnp.zeros_like(v)) for v in nit]
            held = jax.tree_util.tree_map(lambda a, b: jnp.where(keep, a, b),
                                          kept.advance(carry, new, nit), carry)
            return held, kept.rows(rows, nit) + _status_or_empty(c)

        carry, ys = lax.scan(step, carry0, (steps,) + tuple(seqs), length=N, reverse=reverse)
        ys = list(ys)
        _emit_steps(_active_statuses(ys[kept.n_ys:], steps, active))
        return pack(kept.outputs(N, inits, carry, ys[:kept.n_ys], full_traces))

    return impl


def _shift(buf, v):
    """The buffer's rows moved up by one, ``v`` as the new last row."""
    return v[None] if buf.shape[0] == 1 else jnp.concatenate([buf[1:], v[None]])


class _Kept:
    """What a ``lax.scan`` carries and stacks, given the outputs' ``store_steps``.

    The carry holds each recurrent state's last ``lag`` rows (the window its
    taps read, most recent last) and a step counter.  A one-row window (tap
    ``-1`` only: an RNN's state, a gradient's accumulator) is carried as the
    row itself: carried as ``[1, ...]``, the new value was broadcast to it and
    XLA copied the result into the carry every step (512 KB per step for a
    256 x 256 weight gradient accumulated in the loop) instead of updating it
    in place; :meth:`windows` gives the step its ``[lag, ...]`` view back.  An output keeping ``s``
    rows, more than a state's window (or any nit output), also carries a
    circular buffer of ``s`` rows: row ``r`` of its full trace is written to
    slot ``r % s`` (one row written per step, as Theano's save-memory buffers),
    and the slots are put back in order after the loop.  Only outputs that keep
    their full trace are stacked per step (``ys``).
    """

    def __init__(self, op: Scan, store: list[int], step_values) -> None:
        self.op, self.store, self.step_values = op, store, step_values
        nr = op.n_rec
        self.full_rec = [k for k in range(nr) if not store[k]]
        self.full_nit = [j for j in range(op.n_nit) if not store[nr + j]]
        self.ring = [k for k in range(nr + op.n_nit) if store[k] > (op.lags[k] if k < nr else 0)]
        self.n_ys = len(self.full_rec) + len(self.full_nit)
        self.single = [op.lags[k] == 1 for k in range(nr)]  # carried as the row itself

    def windows(self, bufs) -> list:
        """The carried states as the ``[lag, ...]`` windows the step reads."""
        return [b[None] if one else b for b, one in zip(bufs, self.single)]

    def carry0(self, seqs, inits, nonseqs):
        op, nr = self.op, self.op.n_rec
        bufs = [_flip_rows(b) if op.reverse else b for b in inits]
        nit_shapes = None
        if any(k >= nr for k in self.ring):
            xs0 = [jax.ShapeDtypeStruct(np.shape(s)[1:], jnp.asarray(s).dtype) for s in seqs]

            def nit_of(xs, b):
                with collecting():  # shapes only: the checks are made in the loop
                    return self.step_values(xs, b, nonseqs)[1]
            nit_shapes = jax.eval_shape(nit_of, xs0, bufs)
        rings = []
        for k in self.ring:
            if k < nr:  # the initial rows are the trace's first rows: slots 0 .. lag - 1
                b = bufs[k]
                rings.append(jnp.concatenate([b, jnp.zeros((self.store[k] - b.shape[0],) + b.shape[1:],
                                                           b.dtype)]))
            else:
                sh = nit_shapes[k - nr]
                rings.append(jnp.zeros((self.store[k],) + sh.shape, sh.dtype))
        bufs = [b[0] if one else b for b, one in zip(bufs, self.single)]
        return bufs, rings, jnp.asarray(0, "int64")

    def advance(self, carry, new, nit):
        bufs, rings, i = carry
        op, nr = self.op, self.op.n_rec
        rings = [lax.dynamic_update_index_in_dim(
            r, new[k] if k < nr else nit[k - nr], (i + (op.lags[k] if k < nr else 0)) % r.shape[0], 0)
            for r, k in zip(rings, self.ring)]
        bufs = [v if one else _shift(b, v) for b, v, one in zip(bufs, new, self.single)]
        return bufs, rings, i + 1

    def rows(self, new, nit) -> tuple:
        return tuple([new[k] for k in self.full_rec] + [nit[j] for j in self.full_nit])

    def outputs(self, N: int, inits, carry, ys, full_traces) -> list:
        op, nr, rev = self.op, self.op.n_rec, self.op.reverse
        bufs, rings, _ = carry
        bufs = self.windows(bufs)
        ring_of = dict(zip(self.ring, rings))
        full = dict(zip(self.full_rec + [nr + j for j in self.full_nit], ys))
        traces = full_traces(inits, [full.get(k, inits[k][:0]) for k in range(nr)])
        out = []
        for k in range(nr + op.n_nit):
            n_rows = N + (op.lags[k] if k < nr else 0)
            if k in ring_of:
                out.append(_ring_rows(ring_of[k], n_rows, rev))
            elif self.store[k]:  # within the taps' window
                out.append(_last_rows(bufs[k], n_rows, self.store[k], rev, carried=True))
            else:
                out.append(traces[k] if k < nr else full[k])
        return out


def _ring_rows(ring, n_rows: int, reverse: bool):
    """The last ``min(s, n_rows)`` rows of a trace of ``n_rows`` rows written circularly into the
    ``s`` slots of ``ring`` (row ``r`` in slot ``r % s``), in time order."""
    s = ring.shape[0]
    m = min(s, n_rows)
    first = (n_rows - m) % s
    if first + m <= s:
        rows = ring[first: first + m]
    else:
        rows = jnp.concatenate([ring[first:], ring[: first + m - s]])
    return _flip_rows(rows) if reverse else rows


def _last_rows(y, n: int, s: int, reverse: bool, carried: bool):
    """The rows ``store_steps`` keeps of a trace of ``n`` rows: its ``min(s, n)`` most recent.

    ``y`` is a carried buffer (``carried``: the most recent row last, in loop
    order) or a map's stacked rows in time order (the trace, or its last rows).
    """
    if not s:
        return y
    m = min(s, n)
    if carried:
        rows = y[y.shape[0] - m:]
        return _flip_rows(rows) if reverse else rows
    return y[:m] if reverse else y[y.shape[0] - m:]


def _map_rows(seqs, N: int, store: list[int], reverse: bool) -> list:
    """A map whose every output keeps only its last rows runs only those steps."""
    if not store or not all(store):
        return seqs
    m = min(max(store), N)
    lo = 0 if reverse else N - m
    return [s[lo: lo + m] for s in seqs]


def _active_statuses(extra: list, steps, active) -> list:
    """Per-step check statuses with the padded steps' (from ``active`` on) cleared."""
    if not extra:
        return extra
    codes, values = extra
    return [jnp.where(steps < active, codes, 0), values]


def _zero_rows_from(y, steps, active):
    keep = (steps < active).reshape((-1,) + (1,) * (y.ndim - 1))
    return jnp.where(keep, y, jnp.zeros_like(y))


def _fixed_nonseqs(node) -> set[int]:
    """Non-sequences a while loop takes as compile-time values: the ones its step needs while
    tracing (sizes) and graph constants.  Others (a float input, arriving here as a NumPy
    array) are run-time values, so a new value does not compile the loop again."""
    op = node.op
    first = 1 + op.n_seqs + op.n_rec
    fixed = {i - first for i in _static_outer(node) if i >= first}
    fixed |= {k for k, v in enumerate(node.inputs[first:]) if isinstance(v, Constant)}
    return fixed


def _while_impl(op, prepare, step_values, full_traces, pack, fixed):
    """``until`` scans: a jitted while loop into preallocated rows, trimmed on the host."""
    nr, nn = op.n_rec, op.n_nit
    cache: dict = {}

    def loop(N, statics, seqs, inits, dyn):
        nonseqs = _merge(statics, dyn)
        bufs0 = list(inits)
        xs0 = [jax.ShapeDtypeStruct(np.shape(s)[1:], jnp.asarray(s).dtype) for s in seqs]
        def shape_of(xs, b, d):
            with collecting():  # shapes only: its checks are made again in the loop
                return step_values(xs, b, _merge(statics, d))[:2]
        shapes = jax.eval_shape(shape_of, xs0, bufs0, dyn)
        rows0 = [jnp.zeros((N,) + s.shape, s.dtype) for s in list(shapes[0]) + list(shapes[1])]

        def cond(c):
            i, done, _, _, status = c
            return (i < N) & jnp.logical_not(done) & (status[0] == 0)  # a failed check stops

        def body(c):
            i, _, bufs, rows, status = c
            xs = [lax.dynamic_index_in_dim(s, i, 0, keepdims=False) for s in seqs]
            with collecting() as col:
                new, nit, stop = step_values(xs, bufs, nonseqs)
            rows = [lax.dynamic_update_index_in_dim(r, v, i, 0) for r, v in zip(rows, new + nit)]
            st = col.status()
            return (i + 1, stop, [_shift(b, v) for b, v in zip(bufs, new)], rows,
                    status if st is None else st)

        ok = (jnp.asarray(0, "int32"), jnp.asarray(0, "int64"))
        i, _, _, rows, status = lax.while_loop(
            cond, body, (jnp.asarray(0, "int64"), jnp.asarray(False), bufs0, rows0, ok))
        return rows, i, status

    def impl(n_steps, *vals):
        if _is_tracer(n_steps) or any(_is_tracer(v) for v in vals):
            raise NotImplementedError(
                f"{op}: a scan with a stop condition (until) cannot run inside a traced context "
                f"(for example inside another scan's step): the number of rows it returns is only "
                f"known once it has run. Use it at the top level of a function.")
        N, seqs, inits, nonseqs = prepare(np.asarray(n_steps), vals)  # concrete here
        statics = tuple((k, _Static(v)) for k, v in enumerate(nonseqs) if k in fixed)
        dyn = [v for k, v in enumerate(nonseqs) if k not in fixed]
        jitted = cache.get("fn")
        if jitted is None:
            jitted = cache["fn"] = jax.jit(loop, static_argnums=(0, 1))
        rows, count, status = jitted(N, statics, seqs, inits, dyn)
        raise_status(*status)
        c = int(count)  # the host round trip: the rows are cut to the steps that ran
        if all(_on_cpu(r) for r in rows):
            return pack(_trim_on_host(c, rows, inits, nr, nn))
        finish = cache.get("finish")
        if finish is None:
            finish = cache["finish"] = jax.jit(trim, static_argnums=0)
        return pack(list(finish(c, rows, inits)))

    def trim(c, rows, inits):  # one dispatch (jitted once per count), not one per row cut
        rows = [r[:c] for r in rows]
        return tuple(full_traces(inits, rows[:nr]) + rows[nr:nr + nn])

    return impl


def _status_or_empty(c) -> tuple:
    """A step's check status as extra step outputs (none if it makes no checks)."""
    st = c.status()
    return () if st is None else st


def _emit_steps(extra: list) -> None:
    """Reduce the per-step statuses a loop returned (if any) into the enclosing collector."""
    if extra and np.shape(extra[0])[0]:
        emit_status(first_failure(*extra))


def _on_cpu(a: Any) -> bool:
    devices = getattr(a, "devices", None)
    return devices is not None and all(d.platform == "cpu" for d in devices())


def _trim_on_host(c: int, rows: list, inits: list, nr: int, nn: int) -> list:
    """The rows of the ``c`` steps that ran (after each state's initial rows), cut with NumPy.

    On the CPU the device buffers are host memory: NumPy cuts them without a
    compilation per count (a jitted or eager cut compiles once per length).
    The results go back to JAX arrays (``device_put``, no compilation), so a
    later until scan sees them as run-time values, not constants.
    """
    cut = [np.asarray(r)[:c] for r in rows]
    states = [np.concatenate([np.asarray(inits[k]), cut[k]]) for k in range(nr)]
    return [jax.device_put(v) for v in states + cut[nr:nr + nn]]


def _flip_rows(b):
    """``b[::-1]`` along axis 0, without XLA's reverse op (its simplifier aborts on a reversed
    broadcast constant, e.g. the zero buffers of a backward loop)."""
    n = b.shape[0]
    if n == 1:
        return b
    return jnp.concatenate([b[k: k + 1] for k in range(n - 1, -1, -1)])


def _merge(statics, dyn) -> list:
    """Non-sequences in order, from the static (concrete) ones and the traced ones."""
    out: list = []
    it = iter(dyn)
    fixed = dict(statics)
    n = len(fixed) + len(dyn)
    for k in range(n):
        out.append(fixed[k].value if k in fixed else next(it))
    return out
