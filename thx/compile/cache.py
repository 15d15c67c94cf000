"""The compile cache: a graph compiled twice in a process is rewritten and lowered once.

``thx.function`` keys each graph by its structure, a canonical serialisation
of what decides the compiled code: the inputs' types and names, every node's
op (with its props) and output types, the constants' types and values, which
variables are outputs, plus the compilation mode and the config flags.  Two
graphs built separately by the same code get the same key, so the second
``thx.function`` reuses the first one's optimized FunctionGraph and its
``jax.jit`` function (and so XLA's compiled executable).

Only the compiled artefacts are shared.  Everything that is state stays in
each ``Function``: the values of shared variables (read from the caller's
own shared variables at every call), ``In`` defaults and their updated
values, and the update targets.  An op holding an inner graph (``Scan``) is
keyed by that graph's structure; a value that cannot be keyed (an
unhashable prop or constant) simply disables caching for that graph.

Examples
--------
>>> import thx, thx.tensor as T
>>> from thx.compile import cache
>>> def build():
...     x = T.dvector('x')
...     return thx.function([x], T.grad(T.sum(x ** 2), x))
>>> f, g = build(), build()
>>> f.maker.fgraph is g.maker.fgraph
True
"""

from __future__ import annotations

import hashlib
import sys
from collections import OrderedDict
from typing import Any

import numpy as np

from thx.graph.basic import Constant, Variable, io_toposort
from thx.graph.fg import FunctionGraph

__all__ = ["graph_key", "lookup", "store", "clear", "info"]

# At most ``config.compile_cache_size`` entries; the least recently used go first.
_CACHE: OrderedDict[Any, Any] = OrderedDict()
_STATS = {"hits": 0, "misses": 0}


class _Unkeyable(Exception):
    pass


def _value_key(data: Any) -> Any:
    """A hashable stand-in for a constant's value (a digest for arrays)."""
    if isinstance(data, (np.ndarray, np.generic)):
        a = np.ascontiguousarray(data)
        if a.dtype == object:
            raise _Unkeyable
        return ("array", a.dtype.str, a.shape, hashlib.blake2b(a.tobytes(), digest_size=20).digest())
    try:
        hash(data)
    except TypeError:
        raise _Unkeyable from None
    return (type(data), data)


def _op_key(op: Any) -> Any:
    """The op itself (ops compare by their props), or, for an op holding an inner graph, a
    tuple with that graph's structural key in its place (inner graphs compare by identity)."""
    props = getattr(op, "__props__", ())
    values = [getattr(op, p, None) for p in props]
    if not any(isinstance(v, FunctionGraph) for v in values):
        hash(op)
        return op
    parts = []
    for v in values:
        parts.append(_graph_key(v.inputs, v.outputs) if isinstance(v, FunctionGraph) else v)
    mode = getattr(op, "mode", None)
    return (type(op), tuple(parts), mode if _hashable(mode) else repr(mode))


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _graph_key(inputs, outputs) -> tuple:
    index: dict[Variable, int] = {}
    items: list[Any] = []

    def ref(v: Variable) -> int:
        k = index.get(v)
        if k is None:
            if not isinstance(v, Constant):  # a free variable that is not an input
                raise _Unkeyable
            k = index[v] = len(index)
            items.append(("c", v.type, _value_key(v.data), v.name))
        return k

    for v in inputs:
        index[v] = len(index)
        items.append(("i", type(v), v.type, v.name))
    op_keys: dict[int, Any] = {}  # graphs share op instances: key each once
    for node in io_toposort(inputs, outputs):
        op = node.op
        ok = op_keys.get(id(op))
        if ok is None:
            ok = op_keys[id(op)] = _op_key(op)
        ins = tuple([ref(v) for v in node.inputs])
        outs = node.outputs
        for o in outs:
            index[o] = len(index)
        items.append((ok, ins, outs[0].type if len(outs) == 1 and outs[0].name is None
                      else tuple((o.type, o.name) for o in outs)))
    items.append(("o", tuple(ref(v) for v in outputs)))
    return tuple(items)


def graph_key(inputs: list[Variable], outputs: list[Variable], mode: Any, extra: Any = ()) -> Any:
    """The structural key of the graph from ``inputs`` to ``outputs`` compiled in ``mode``.

    ``extra`` is anything else that decides the compiled code (the donated
    input positions).  Returns None when the graph holds something that
    cannot be keyed (it is then compiled without the cache).
    """
    from thx.config import config
    try:
        return _Key((_graph_key(inputs, outputs), mode, extra,
                     tuple((n, v) for n, v, _ in config.items())))
    except (_Unkeyable, TypeError):
        return None


class _Key:
    """A graph key that hashes once (a tuple rehashes all its items at every dict lookup)."""

    __slots__ = ("items", "hash")

    def __init__(self, items: tuple) -> None:
        self.items = items
        self.hash = hash(items)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.hash == other.hash and self.items == other.items


def lookup(key: Any) -> Any:
    """The entry stored under ``key`` (None on a miss)."""
    if key is None:
        return None
    entry = _CACHE.get(key)
    if entry is None:
        _STATS["misses"] += 1
        return None
    _CACHE.move_to_end(key)
    _STATS["hits"] += 1
    return entry


def store(key: Any, entry: Any) -> None:
    """Remember ``entry`` under ``key`` (dropping the least recently used beyond
    ``config.compile_cache_size``; a dropped entry's executable goes with the last Function
    using it)."""
    from thx.config import config
    if key is None:
        return
    _CACHE[key] = entry
    _CACHE.move_to_end(key)
    while len(_CACHE) > config.compile_cache_size:
        _CACHE.popitem(last=False)


def clear() -> None:
    """Forget every cached compilation (the next ``thx.function`` compiles from scratch)."""
    _CACHE.clear()
    _STATS["hits"] = _STATS["misses"] = 0
    memory = sys.modules.get("thx.lowering.memory")  # loaded with the first compilation
    if memory is not None:
        memory.release()  # hand the freed executables' memory back to the system


def info() -> dict:
    """``{'entries', 'hits', 'misses'}`` since the last ``clear()``."""
    return {"entries": len(_CACHE), **_STATS}
