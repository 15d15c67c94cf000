"""Graph rewrites applied by ``thx.function`` before lowering."""

from __future__ import annotations


def optimize(fgraph, mode) -> None:
    """Rewrite ``fgraph`` in place according to ``mode`` (placeholder until the engine lands)."""
    return None
