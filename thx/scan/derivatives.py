"""Gradient (L_op) and R_op of Scan, each built as one new Scan.

Backward pass (Theano's backpropagation through time).  The step's inner
graph computes, at step ``t``, new states ``r_t`` and outputs ``n_t`` from
slices ``x_t``, past states ``s_{t+tap}`` and non-sequences ``W``.  The
gradient is a Scan running the other way over the same steps, whose body is
the vector-Jacobian product of the forward body, rebuilt on the forward
step's inputs; the forward values the derivative needs are read, not
recomputed (``thx/scan/residuals.py``): a forward result (tanh's ``1 - h**2``
needs ``h``) from its trace, the rest (an LSTM's gates) from extra outputs of
an augmented forward scan, which the optimizer merges into the forward one:

* sequences: the forward slices, the forward state taps (cut from the
  forward traces), the output gradients for each step (except a gradient
  that is zeros but for the last row, a cost reading ``h[-1]``: that row
  starts ``P_k`` instead), and the forward rows and stored residuals the
  body reads;
* one recurrent buffer ``P_k`` per differentiable state, holding the
  gradient contributions already sent to the ``L_k`` previous states
  (``a_t = dC/dr_t + P_k[0]`` is the total adjoint of ``r_t``);
* non-sequence gradients: summed in a carried accumulator, or, when the
  forward loop has no differentiable state (a map), returned per step and
  summed afterwards so the backward loop is a map too (``jax.vmap``).  The
  optimizer's scan push-out rewrites (``thx/rewriting/scan_pushout.py``) then
  turn an accumulated ``dot(A_t.T, D_t)`` (``W``'s gradient in an RNN) into
  one product over all steps after the loop.

Only the inner graph is differentiated, so an n-th derivative grows with the
inner graph, never by nesting copies of the outer graph.

R_op is a forward Scan carrying tangents next to the original states: its
body is the original body plus its Rop.
"""

from __future__ import annotations

from collections.abc import Sequence

from thx.graph.basic import Variable, clone_replace
from thx.graph.fg import FunctionGraph
from thx.graph.type import DisconnectedType


def _T():
    import thx.tensor as T
    return T


def _is_float(t) -> bool:
    from thx.tensor.type import continuous_dtypes
    return getattr(t, "dtype", None) in continuous_dtypes


def _as_type(v: Variable, t) -> Variable:
    """``v`` cast and re-broadcast to type ``t`` (same ndim)."""
    T = _T()
    v = T.as_tensor_variable(v)
    if v.ndim != t.ndim:
        raise ValueError(f"Scan gradient: expected a value of type {t}, got {v.type} ({v})")
    if v.dtype != t.dtype:
        v = T.cast(v, t.dtype)
    if v.broadcastable != t.broadcastable:
        v = T.patternbroadcast(v, t.broadcastable)
    return v


def _fresh(vs: Sequence[Variable]) -> list[Variable]:
    return [v.type(v.name) for v in vs]


def _zero_grad(v: Variable) -> Variable:
    from thx.tensor.elemwise import _zero_grad as zg
    return zg(v)


def _usable(g) -> bool:
    return g is not None and not isinstance(getattr(g, "type", None), DisconnectedType)


def _rows_in_zeros(rows: Variable, lo, hi, like: Variable) -> Variable:
    """``zeros_like(like)`` with ``rows`` at rows ``lo:hi``, as a concatenation.

    (A concatenation, not ``set_subtensor``: it is cheaper, and XLA's algebraic
    simplifier aborts on a full-range scatter followed by a reversed one, which
    is what the gradient of a ``go_backwards`` scan would produce.)
    """
    T = _T()
    tail = [like.shape[i] for i in range(1, like.ndim)]

    def zeros(n):
        return T.alloc(T.constant(0, dtype=like.dtype), n, *tail)

    parts = ([] if isinstance(lo, int) and lo == 0 else [zeros(lo)]) + [rows, zeros(like.shape[0] - hi)]
    return _as_type(T.concatenate(parts), like.type)


def _last_row_only(g: Variable, lag: int) -> Variable | None:
    """The row ``r`` when the gradient ``g`` of a forward trace (its ``lag`` initial rows, then
    one row per step) is zeros but for its last row ``r``, by construction: what ``T.grad`` makes
    of a cost reading ``h[-1]`` of ``h = trace[lag:]`` (``inc_subtensor(zeros[lag:],
    inc_subtensor(zeros[-1], r))``).  Else None."""
    from thx.tensor.basic import is_zeros
    from thx.tensor.subtensor import IncSubtensor

    def write(v, first_ok):
        n = v.owner
        if (n is None or not isinstance(n.op, IncSubtensor) or len(n.inputs) != 2
                or not is_zeros(n.inputs[0])):
            return None
        first, rest = n.op.idx_list[0], n.op.idx_list[1:]
        if not all(isinstance(e, tuple) and tuple(e[1:]) == (None, None, None) for e in rest):
            return None
        return n.inputs[1] if first_ok(first) else None

    inner = write(g, lambda e: isinstance(e, tuple) and tuple(e[1:]) == (lag, None, None))
    return None if inner is None else write(inner, lambda e: not isinstance(e, tuple) and e == -1)


def _inner_copy(op):
    """Fresh placeholders for the inner inputs and the inner outputs recomputed on them."""
    fg = op.fgraph
    x_ph = _fresh(op.inner_seqs())
    tap_ph = [_fresh(op.inner_taps(k)) for k in range(op.n_rec)]
    w_ph = _fresh(op.inner_nonseqs())
    flat_taps = [v for taps in tap_ph for v in taps]
    outs = clone_replace(fg.outputs, dict(zip(fg.inputs, x_ph + flat_taps + w_ph)))
    return x_ph, tap_ph, w_ph, outs


def _derived_scan(scan_class, n_steps, seqs, states, nonseqs, outputs, n_nit, **info):
    """Apply a new Scan, keeping only the sequences and non-sequences its step uses.

    ``seqs`` and ``nonseqs`` are ``(inner placeholder, outer variable)`` pairs
    (outer variables are built lazily, by a callable, to skip unused ones);
    ``states`` are ``(inner placeholders of the taps, outer initial buffer, taps)``.
    Returns the outer outputs (always a list).
    """
    from thx.graph.basic import ancestors
    used = set(ancestors(outputs))
    seqs = [(i, o) for i, o in seqs if i in used]
    nonseqs = [(i, o) for i, o in nonseqs if i in used]
    inner = ([i for i, _ in seqs] + [v for taps, _, _ in states for v in taps]
             + [i for i, _ in nonseqs])
    fg = FunctionGraph(inner, outputs, clone=True)
    op = scan_class(fg, n_seqs=len(seqs), rec_taps=[taps for _, _, taps in states], n_nit=n_nit, **info)
    outer = ([o() if callable(o) else o for _, o in seqs] + [init for _, init, _ in states]
             + [o() if callable(o) else o for _, o in nonseqs])
    outs = op(n_steps, *outer)
    return outs if isinstance(outs, list) else [outs]


def _n_steps_run(op, n_steps, outputs):
    """The number of steps the forward loop ran (a while loop's is its outputs' length)."""
    if not op.as_while:
        return n_steps
    if op.n_nit:
        return outputs[op.n_rec].shape[0]
    return outputs[0].shape[0] - op.lags[0]


# ------------------------------------------------------------------------ L_op

def scan_grad(op, inputs: Sequence[Variable], outputs: Sequence[Variable],
              output_grads: Sequence[Variable]) -> list[Variable]:
    """Gradients of a Scan node's inputs from those of its outputs (a reversed Scan)."""
    from thx.gradient import grad
    from thx.scan.residuals import augmented_scan, read_residuals
    from thx.tensor.type import TensorType
    T = _T()
    n_steps, seqs, inits, nonseqs = op.split_outer_inputs(inputs)
    n_rec, n_nit = op.n_rec, op.n_nit
    rec_full, g_rec = list(outputs[:n_rec]), list(output_grads[:n_rec])
    g_nit = list(output_grads[n_rec:])
    fg = op.fgraph

    N = _n_steps_run(op, n_steps, outputs)
    truncated = op.truncate_gradient != -1
    K = T.minimum(N, op.truncate_gradient) if truncated else N
    # rows (in time order) of the steps the backward pass covers
    if op.reverse:
        lo, hi = 0, K
    else:
        lo, hi = (N - K if truncated else 0), N

    x_ph, tap_ph, w_ph, fwd = _inner_copy(op)
    diff_seq = [j for j in range(op.n_seqs) if _is_float(seqs[j])]
    diff_rec = [k for k in range(n_rec) if _is_float(fg.outputs[k].type)]
    diff_ns = [j for j in range(op.n_nonseqs) if _is_float(nonseqs[j])]
    gr_rec = [k for k in diff_rec if _usable(g_rec[k])]
    # a state's gradient that is zeros but for its last row (a cost reading h[-1]) starts the
    # backward loop's adjoint instead of being read as a [steps, ...] sequence of zeros: the
    # backward loop's first step adds that row and later steps add zeros either way
    last_row = {}
    if not op.reverse and not op.as_while:
        for k in gr_rec:
            r = _last_row_only(g_rec[k], op.lags[k])
            if r is not None:
                last_row[k] = r
        gr_rec = [k for k in gr_rec if k not in last_row]
    gr_nit = [j for j in range(n_nit) if _usable(g_nit[j]) and _is_float(fg.outputs[n_rec + j].type)]

    # ---- backward body: the forward body's vector-Jacobian product
    state_types = [fg.outputs[k].type for k in range(n_rec)]
    gR_ph = {k: state_types[k](f"g_{k}") for k in gr_rec}
    gN_ph = {j: fg.outputs[n_rec + j].type(f"g_out{j}") for j in gr_nit}
    P_ph = {k: TensorType(state_types[k].dtype, (False,) + state_types[k].broadcastable)(f"P_{k}")
            for k in diff_rec}
    known: dict[Variable, Variable] = {}
    for k in diff_rec:
        a = P_ph[k][0]
        if k in gR_ph:
            a = gR_ph[k] + a
        # a copy of each output, so a gradient given for an output that also feeds another
        # output (or is an input) adds to, instead of replacing, what flows through it
        known[T.identity(fwd[k])] = a
    for j in gr_nit:
        known[T.identity(fwd[n_rec + j])] = gN_ph[j]
    wrt = ([x_ph[j] for j in diff_seq] + [v for k in diff_rec for v in tap_ph[k]]
           + [w_ph[j] for j in diff_ns])
    if known and wrt:
        grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                     return_disconnected="zero")
    else:
        grads = [T.zeros_like(w) for w in wrt]
    # forward values are read (from the forward traces, or stored by an augmented forward
    # scan: thx/scan/residuals.py), not recomputed
    def trace_rows(k, t):
        L = op.lags[k] if k < n_rec else 0
        rows = outputs[k][lo:hi] if op.reverse or k >= n_rec else outputs[k][L + lo: L + hi]
        return _as_type(rows, TensorType(t.dtype, (False,) + t.broadcastable))

    def augmented(values):
        rows = augmented_scan(op, inputs, x_ph, tap_ph, w_ph, fwd, values)
        return [_as_type(r[lo:hi], TensorType(v.dtype, (False,) + v.broadcastable))
                for r, v in zip(rows, values)]

    store = not op.as_while and bool(diff_rec)  # a map's backward loop is batched anyway
    taps_in = [v for taps in tap_ph for v in taps]
    grad_in = list(gR_ph.values()) + list(gN_ph.values()) + list(P_ph.values())
    stored_ph, stored_rows, grads = read_residuals(op, fwd, grads, trace_rows, x_ph + taps_in, taps_in,
                                                   grad_in, augmented if store else None)
    it = iter(grads)
    g_x = {j: next(it) for j in diff_seq}
    g_tap = {k: [next(it) for _ in op.rec_taps[k]] for k in diff_rec}
    g_w = {j: next(it) for j in diff_ns}

    new_P = {}
    for k in diff_rec:
        L, taps = op.lags[k], op.rec_taps[k]
        rows = []
        for m in range(L):  # row m: contributions to the state m + 1 steps before this one
            terms = [P_ph[k][m + 1]] if m + 1 < L else []
            terms += [g for tap, g in zip(taps, g_tap[k]) if -tap - 1 == m]
            row = terms[0] if terms else T.zeros_like(P_ph[k][0])
            for t in terms[1:]:
                row = row + t
            rows.append(_as_type(row, state_types[k]))
        new = T.shape_padleft(rows[0]) if L == 1 else T.stack(rows)
        new_P[k] = _as_type(new, P_ph[k].type)

    map_like = not diff_rec
    # a non-sequence's gradient is summed in a carried accumulator; the optimizer's
    # local_scan_pushout_outputs turns a sum of per-step products into one product after the loop
    G_ph = {} if map_like else {j: w_ph[j].type(f"G_{j}") for j in diff_ns}

    # ---- the backward loop: sequences (with their outer rows), states, non-sequences
    def tap_rows(k, tap):
        L = op.lags[k]
        # step t reads row L + t + tap of a forward trace, row t - tap of a reversed one
        return lambda: (rec_full[k][lo - tap: hi - tap] if op.reverse
                        else rec_full[k][L + tap + lo: L + tap + hi])

    def g_rows(k):
        L = op.lags[k]
        g = _as_type(g_rec[k], rec_full[k].type)
        return g[lo:hi] if op.reverse else g[L + lo: L + hi]

    b_seqs = [(x_ph[j], (lambda s=s: s[lo:hi])) for j, s in enumerate(seqs)]
    b_seqs += [(v, tap_rows(k, tap)) for k in range(n_rec) for v, tap in zip(tap_ph[k], op.rec_taps[k])]
    b_seqs += [(gR_ph[k], g_rows(k)) for k in gr_rec]
    b_seqs += [(gN_ph[j], _as_type(g_nit[j], outputs[n_rec + j].type)[lo:hi]) for j in gr_nit]
    b_seqs += list(zip(stored_ph, stored_rows))
    def adjoint0(k):  # the adjoints of the L_k states before the first backward step: row 0 is h[-1]'s
        z = T.zeros_like(rec_full[k][: op.lags[k]])
        if k in last_row:
            z = T.set_subtensor(z[0], last_row[k])
        return T.unbroadcast(T.shape_padleft(z), 0)

    b_states = [([P_ph[k]], adjoint0(k), (-1,)) for k in diff_rec]
    b_states += [([G_ph[j]], T.unbroadcast(T.shape_padleft(T.zeros_like(nonseqs[j])), 0), (-1,))
                 for j in G_ph]
    b_out = [new_P[k] for k in diff_rec] + [_as_type(G_ph[j] + g_w[j], G_ph[j].type) for j in G_ph]
    b_nit = [_as_type(g_x[j], x_ph[j].type) for j in diff_seq]
    if map_like:
        b_nit += [_as_type(g_w[j], w_ph[j].type) for j in diff_ns]
    reverse = not op.reverse
    b_outs = _derived_scan(type(op), K, b_seqs, b_states, list(zip(w_ph, nonseqs)), b_out + b_nit, len(b_nit),
                           reverse=reverse, truncate_gradient=op.truncate_gradient,
                           name=f"grad_of_{op.name}", mode=op.mode)

    def final(full):  # the backward loop's last state
        return full[0] if reverse else full[-1]

    # ---- gradients of the outer inputs
    result: list[Variable] = [DisconnectedType()()]
    pos = 0
    P_final = {}
    for k in diff_rec:
        P_final[k] = final(b_outs[pos])
        pos += 1
    G_final = {}
    for j in G_ph:
        G_final[j] = final(b_outs[pos])
        pos += 1
    gx_rows = {j: b_outs[pos + q] for q, j in enumerate(diff_seq)}
    pos += len(diff_seq)
    gw_rows = {j: b_outs[pos + q] for q, j in enumerate(diff_ns)} if map_like else {}

    for j, s in enumerate(seqs):
        if j in gx_rows:
            result.append(_rows_in_zeros(gx_rows[j], lo, hi, s))
        else:
            result.append(_zero_grad(s))
    for k, init in enumerate(inits):
        if k not in P_final:
            result.append(_zero_grad(init))
            continue
        L = op.lags[k]
        # contributions to the states before the first step covered, oldest first
        q = P_final[k][::-1] if L > 1 else P_final[k]
        if truncated:
            d = N - K  # steps (in loop order) not covered by the backward pass
            pad = T.alloc(T.constant(0, dtype=q.dtype), d, *[q.shape[i] for i in range(1, q.ndim)])
            q = T.concatenate([pad, q])[:L]
        g_init = q[::-1] if op.reverse and L > 1 else q
        if k in gr_rec:
            direct = g_rec[k][N:] if op.reverse else g_rec[k][:L]
            g_init = direct + g_init
        result.append(_as_type(g_init, init.type))
    for j, w in enumerate(nonseqs):
        if j in G_final:
            result.append(_as_type(G_final[j], w.type))
        elif j in gw_rows:
            result.append(_as_type(gw_rows[j].sum(axis=0), w.type))
        else:
            result.append(_zero_grad(w))
    return result


# ------------------------------------------------------------------------ R_op

def scan_rop(op, inputs: Sequence[Variable], eval_points: Sequence[Variable | None]) -> list[Variable | None]:
    """Jacobian-vector products of a Scan node's outputs: a Scan carrying tangents."""
    from thx.gradient import Rop
    T = _T()
    n_steps, seqs, inits, nonseqs = op.split_outer_inputs(inputs)
    evs = [None if e is None or getattr(e.tag, "zero_eval_point", False) else e for e in eval_points]
    _, ev_seqs, ev_inits, ev_ns = op.split_outer_inputs(evs)
    n_rec, n_nit = op.n_rec, op.n_nit
    fg = op.fgraph

    t_seq = [j for j in range(op.n_seqs) if ev_seqs[j] is not None and _is_float(seqs[j])]
    t_ns = [j for j in range(op.n_nonseqs) if ev_ns[j] is not None and _is_float(nonseqs[j])]
    t_rec = [k for k in range(n_rec) if _is_float(fg.outputs[k].type)]
    has_init = any(ev_inits[k] is not None for k in t_rec)
    if not t_seq and not t_ns and not has_init:
        return [None] * (n_rec + n_nit)

    x_ph, tap_ph, w_ph, fwd = _inner_copy(op)
    dx_ph = {j: x_ph[j].type(f"d{x_ph[j].name or ''}") for j in t_seq}
    dtap_ph = {k: [v.type() for v in tap_ph[k]] for k in t_rec}
    dw_ph = {j: w_ph[j].type() for j in t_ns}
    wrt = [x_ph[j] for j in t_seq] + [v for k in t_rec for v in tap_ph[k]] + [w_ph[j] for j in t_ns]
    ev_in = [dx_ph[j] for j in t_seq] + [v for k in t_rec for v in dtap_ph[k]] + [dw_ph[j] for j in t_ns]
    t_nit = [j for j in range(n_nit) if _is_float(fg.outputs[n_rec + j].type)]
    targets = [fwd[k] for k in t_rec] + [fwd[n_rec + j] for j in t_nit]
    tang = Rop(targets, wrt, ev_in, disconnected_outputs="ignore", return_disconnected="zero")
    tan_rec = [_as_type(tang[q], fg.outputs[k].type) for q, k in enumerate(t_rec)]
    tan_nit = [_as_type(tang[len(t_rec) + q], fg.outputs[n_rec + j].type) for q, j in enumerate(t_nit)]

    seq_pairs = list(zip(x_ph, seqs)) + [(dx_ph[j], _as_type(ev_seqs[j], seqs[j].type)) for j in t_seq]
    states = [(tap_ph[k], inits[k], op.rec_taps[k]) for k in range(n_rec)]
    for k in t_rec:
        e = ev_inits[k]
        states.append((dtap_ph[k], T.zeros_like(inits[k]) if e is None else _as_type(e, inits[k].type),
                       op.rec_taps[k]))
    ns_pairs = list(zip(w_ph, nonseqs)) + [(dw_ph[j], _as_type(ev_ns[j], nonseqs[j].type)) for j in t_ns]
    outs = fwd[:n_rec] + tan_rec + tan_nit + ([fwd[-1]] if op.as_while else [])
    o = _derived_scan(type(op), n_steps, seq_pairs, states, ns_pairs, outs, len(t_nit), as_while=op.as_while,
                      reverse=op.reverse, truncate_gradient=op.truncate_gradient,
                      name=f"rop_of_{op.name}", mode=op.mode)
    result: list[Variable | None] = [None] * (n_rec + n_nit)
    for q, k in enumerate(t_rec):
        result[k] = o[n_rec + q]
    for q, j in enumerate(t_nit):
        result[n_rec + j] = o[n_rec + len(t_rec) + q]
    return result
