"""JAX lowering of thx/tensor/subtensor.py (``x.at[idx].set/add`` for the increments).

Slice bounds are classified per entry (``slice_kinds``): bounds known while
tracing index directly; a *window* (``data[i*bs:(i+1)*bs]``: the stop minus the
start is a constant, see ``thx.tensor.intform``) takes a traced start with
``lax.dynamic_slice`` and compiles once for every ``i``; any other symbolic
bound decides the output's length, so it is a static input (one compile per
value).  A window checks at run time that NumPy's clamping of its real bounds
gives the static length and raises IndexError otherwise.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from thx.config import config
from thx.graph.basic import Variable
from thx.lowering.checks import active, runtime_check
from thx.lowering.registry import ConcretizationError, is_concrete, register
from thx.tensor.intform import constant_difference, expr_str
from thx.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor,
                                  _build_index, _entries_str)


def _index_value(v):
    if is_concrete(v):
        a = np.asarray(v)
        return int(a) if a.ndim == 0 else a
    return v


def _check_bounds(index, shape, traced: bool = True):
    """Integer indices must be in range (-n..n-1), as NumPy's: XLA would clamp them silently.

    Indices known while tracing raise IndexError at once; traced ones (when
    ``traced``, i.e. ``config.check_index``) become run-time checks.  One
    reduction per index array: ``i + n`` as an unsigned integer is below
    ``2n`` exactly when ``i`` is in range (a too negative ``i`` wraps to a
    huge value), so its maximum decides, and names an offending index: the
    most negative one if any, else the largest.
    """
    d = 0
    for e in index:
        if e is None:
            continue
        if d < len(shape) and not isinstance(e, slice):
            concrete = is_concrete(e)
            if (concrete or (traced and active())) and np.size(e) and np.dtype(getattr(e, "dtype", int)) != bool:
                n = shape[d]
                xp = np if concrete else jnp
                shifted = (xp.asarray(e).astype(np.int64) + n).astype(np.uint64)
                top = shifted.max() if np.ndim(e) else shifted
                runtime_check(top >= np.uint64(2 * n), IndexError,
                              f"index {{}} is out of bounds for axis {d} with size {n}",
                              top.astype(np.int64) - n)
        d += 1


# ------------------------------------------------------------------ classifying slice bounds


def _index_offset(node) -> int:
    return 2 if isinstance(node.op, (IncSubtensor, AdvancedIncSubtensor)) else 1


def slice_kinds(node) -> list[tuple]:
    """Per index entry: ``("window", dim, length, step, positions)`` for a fixed-length slice with
    symbolic bounds, ``("static", dim, positions)`` for a slice whose symbolic bounds decide the
    length, ``None`` otherwise (``positions``: node input positions of the entry's bounds)."""
    pos = _index_offset(node)
    kinds: list[tuple | None] = []
    d = 0
    for e in node.op.idx_list:
        if e is None:
            kinds.append(None)
            continue
        if not isinstance(e, tuple):
            if e in ("?", "a"):
                pos += 1
            kinds.append(None)
            d += 1
            continue
        parts, positions = [], []
        for p in e[1:]:
            if p == "?":
                parts.append(node.inputs[pos])
                positions.append(pos)
                pos += 1
            else:
                parts.append(p)
        start, stop, step = parts
        if not positions:
            kinds.append(None)
        elif isinstance(step, Variable) or (step is not None and step <= 0):
            kinds.append(("static", d, tuple(positions)))
        else:
            c = constant_difference(stop, start)
            if c is None:
                kinds.append(("static", d, tuple(positions)))
            else:
                k = 1 if step is None else step
                kinds.append(("window", d, max(0, -(-c // k)), k, tuple(positions)))
        d += 1
    return kinds


def _static_positions(node) -> tuple[int, ...]:
    return tuple(p for k in slice_kinds(node) if k is not None and k[0] == "static" for p in k[2])


def _where(node) -> str:
    """The indexing expression of ``node`` as the user wrote it, e.g. ``data[(i * 2):((i + 1) * 2)]``."""
    ins = [expr_str(i) for i in node.inputs[_index_offset(node):]]
    return f"{expr_str(node.inputs[0], 1)}[{_entries_str(node.op.idx_list, ins)}]"


def _need_concrete(node, values, positions, what):
    for p, v in zip(positions, values):
        if not is_concrete(v):
            raise ConcretizationError(
                f"{node.op} ({_where(node)}): the slice bound {expr_str(node.inputs[p])} decides the "
                f"length of the result, so it must be known when the function is compiled; it is "
                f"computed from data at run time. Make it depend on integer inputs only, or use a "
                f"fixed-length slice (x[i:i + k]). ({what})")


def _normalise(b, n, default):
    """NumPy's treatment of a slice bound (positive step) on an axis of length ``n``, traced."""
    if b is None:
        return jnp.asarray(default, dtype="int64")
    b = jnp.asarray(b).astype("int64")
    b = jnp.where(b < 0, b + n, b)
    return jnp.clip(b, 0, n)


def _windowed(node, kinds, x_shape, idx_values):
    """``(starts, sizes, replaced)``: the region to cut with ``lax.dynamic_slice`` and the windows'
    index entries inside it (``::step``), or None when every window's bounds are known while
    tracing.  Checks at run time that each window's real bounds give its static length."""
    windows = [k for k in kinds if k is not None and k[0] == "window"]
    if not windows:
        return None
    off = _index_offset(node)
    vals = {p: v for p, v in zip(range(off, off + len(idx_values)), idx_values)}
    if all(is_concrete(vals[p]) for w in windows for p in w[4]):
        return None
    starts = [jnp.asarray(0, dtype="int64")] * len(x_shape)
    sizes = list(x_shape)
    replaced = {}
    for entry_no, k in enumerate(kinds):
        if k is None or k[0] != "window":
            continue
        _, d, length, step, positions = k
        n = x_shape[d]
        e = node.op.idx_list[entry_no]
        it = iter(positions)
        start, stop = [vals[next(it)] if p == "?" else p for p in e[1:3]]
        where = _where(node)
        span = (length - 1) * step + 1 if length else 0
        if span > n:  # NumPy would give fewer elements for every start: never the static length
            runtime_check(np.True_, IndexError, f"the slice {where} must have {length} elements along "
                          f"axis {d} (its stop minus its start is constant), but that axis has only {n}")
        s, t = _normalise(start, n, 0), _normalise(stop, n, n)
        real = jnp.maximum(0, (t - s + step - 1) // step)
        runtime_check(real != length, IndexError,
                      f"the slice {where} must have {length} elements along axis {d} (its stop minus "
                      f"its start is constant), but on an axis of size {n} its bounds give {{}} (a "
                      f"start past the end, or a negative bound)", real)
        starts[d], sizes[d] = s, span
        replaced[entry_no] = slice(None, None, step)
    return starts, sizes, replaced


def _inner_index(node, kinds, idx_values, replaced):
    """The index applied inside the region: windows become ``::step``, the rest as given."""
    entries = list(node.op.idx_list)
    vals = []
    it = iter(idx_values)
    for k, e in enumerate(entries):
        if isinstance(e, tuple):
            parts = [next(it) if p == "?" else p for p in e[1:]]
            if k in replaced:
                entries[k] = ("slice", None, None, replaced[k].step)
            else:
                vals.extend(parts[i] for i, p in enumerate(e[1:]) if p == "?")
        elif e in ("?", "a"):
            vals.append(next(it))
    return _build_index(tuple(entries), [_index_value(v) for v in vals])


# ------------------------------------------------------------------ implementations


@register(Subtensor, AdvancedSubtensor, static_inputs=_static_positions)
def _subtensor(op, node):
    entries = op.idx_list
    traced_check = config.check_index
    kinds = slice_kinds(node)
    statics = _static_positions(node)

    def impl(x, *idx):
        _need_concrete(node, [idx[p - 1] for p in statics], statics, "reading")
        win = _windowed(node, kinds, np.shape(x), idx)
        if win is not None:
            starts, sizes, replaced = win
            index = _inner_index(node, kinds, idx, replaced)
            _check_bounds(index, sizes, traced_check)
            return lax.dynamic_slice(jnp.asarray(x), starts, sizes)[index]
        index = _build_index(entries, [_index_value(i) for i in idx])
        _check_bounds(index, np.shape(x), traced_check)
        if is_concrete(x, *idx):
            return np.asarray(np.asarray(x)[index])
        return jnp.asarray(x)[index]
    return impl


@register(IncSubtensor, AdvancedIncSubtensor, static_inputs=_static_positions)
def _inc_subtensor(op, node):
    entries = op.idx_list
    setting = op.set_instead_of_inc
    traced_check = config.check_index
    dtype = np.dtype(node.outputs[0].dtype)
    kinds = slice_kinds(node)
    statics = _static_positions(node)
    # x[:] = y / x[:] += y: a plain broadcast, not a scatter (a full-range scatter followed
    # by a reversed one also trips an XLA simplifier crash).
    def whole(x, y):
        if setting:
            return jnp.broadcast_to(jnp.asarray(y, dtype=dtype), jnp.shape(x))
        return (x + y).astype(dtype)

    if all(e == ("slice", None, None, None) for e in entries):
        return whole

    def update(ref, y):
        return ref.set(y) if setting else ref.add(y)

    def impl(x, y, *idx):
        _need_concrete(node, [idx[p - 2] for p in statics], statics, "set_subtensor/inc_subtensor")
        win = _windowed(node, kinds, np.shape(x), idx)
        if win is not None:
            starts, sizes, replaced = win
            index = _inner_index(node, kinds, idx, replaced)
            _check_bounds(index, sizes, traced_check)
            region = lax.dynamic_slice(jnp.asarray(x), starts, sizes)
            return lax.dynamic_update_slice(jnp.asarray(x), update(region.at[index], y), starts)
        index = _build_index(entries, [_index_value(i) for i in idx])
        _check_bounds(index, np.shape(x), traced_check)
        if all(isinstance(e, slice) and is_concrete(*[p for p in (e.start, e.stop, e.step) if p is not None])
               and e.indices(n) == (0, n, 1) for e, n in zip(index, np.shape(x))):
            return whole(x, y)  # x[0:] etc.: the whole array too (shapes are concrete here)
        region = _static_region(index, np.shape(x))
        if region is not None:
            return _region_update(jnp.asarray(x, dtype), y, region, setting, dtype)
        return update(jnp.asarray(x).at[index], y)
    return impl


def _static_region(index: tuple, shape: tuple) -> list[tuple[int, int, int, bool]] | None:
    """``(start, count, step, is_int)`` per dimension when ``index`` is known while tracing and
    made of integers and slices with positive steps (a box of ``x``); None otherwise."""
    if len(index) > len(shape) or any(e is None for e in index):
        return None
    out = []
    for e, n in zip(list(index) + [slice(None)] * (len(shape) - len(index)), shape):
        if isinstance(e, slice):
            parts = [p for p in (e.start, e.stop, e.step) if p is not None]
            if parts and not is_concrete(*parts):
                return None
            start, stop, step = slice(*[None if p is None else int(np.asarray(p))
                                        for p in (e.start, e.stop, e.step)]).indices(n)
            if step <= 0:
                return None
            out.append((start, max(0, -(-(stop - start) // step)), step, False))
        elif is_concrete(e) and np.ndim(e) == 0 and np.asarray(e).dtype.kind in "iu":
            i = int(np.asarray(e))
            out.append((i + n if i < 0 else i, 1, 1, True))
        else:
            return None
    return out


def _region_update(x, y, region, setting: bool, dtype):
    """``x[box] = y`` / ``x[box] += y`` for a static box, without a scatter: ``y`` padded to ``x``'s
    shape (``lax.pad``, interior padding for steps) and added, or a ``dynamic_update_slice``
    (unit steps) or a select.  XLA fuses these with their neighbours, as it does JAX's own
    gradient of slicing (an LSTM's gate gradients assembled from four slices)."""
    if any(c == 0 for _, c, _, _ in region):
        return x
    box = tuple(c for _, c, _, _ in region)
    yb = jnp.broadcast_to(jnp.asarray(y, dtype), tuple(c for _, c, _, i in region if not i)).reshape(box)
    if setting and all(s == 1 for _, _, s, _ in region):
        return lax.dynamic_update_slice(x, yb, [st for st, _, _, _ in region])
    cfg = [(st, n - st - (c - 1) * s - 1, s - 1) for (st, c, s, _), n in zip(region, x.shape)]
    spread = lax.pad(yb, jnp.zeros((), dtype), cfg)
    if not setting:
        return x + spread
    return jnp.where(lax.pad(jnp.ones(box, bool), False, cfg), spread, x)
