"""``thx.compile.stats()``: how much compiling this process did (a test can count recompiles)."""

from __future__ import annotations


def stats() -> dict[str, int]:
    """Process-wide compile counts.

    ``traces``: jax traces of thx functions (each is one XLA compile, unless
    JAX's persistent cache had it); ``functions``: graphs lowered to a jitted
    function; ``graph_cache_hits``: ``thx.function`` calls that reused an
    already compiled graph (``thx/compile/cache.py``).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> i = T.lscalar('i')
    >>> data = thx.shared(np.arange(100.))
    >>> before = thx.compile.stats()['traces']
    >>> f = thx.function([i], data[i * 10:(i + 1) * 10].sum())
    >>> [float(f(k)) for k in range(3)]
    [45.0, 145.0, 245.0]
    >>> thx.compile.stats()['traces'] - before, f.n_compiles
    (1, 1)
    """
    from thx.compile import cache
    from thx.lowering.compiles import stats as lowering_stats  # here, not at the top: JAX loads lazily
    out = lowering_stats()
    out["graph_cache_hits"] = cache.info()["hits"]
    return out
