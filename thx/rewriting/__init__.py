"""Graph rewrites applied by ``thx.function`` before lowering (Theano's optimizer).

``optimize(fgraph, mode)`` runs merge (CSE), constant folding and the rule
sets of the mode's phases (canonicalize, stabilize, specialize) on a
FunctionGraph, in place.  See ``docs/optimizer.md``.
"""

from __future__ import annotations

from thx.rewriting.constants import fold
from thx.rewriting.engine import (REGISTRY, LocalRewrite, Rewriter, all_rewrites, local_rewrite, optimize,
                                  plan, register)
from thx.rewriting.patterns import pattern
from thx.rewriting import canonicalize, linalg, op_from_graph, shape, specialize, stabilize  # noqa: F401  (register the rules)
from thx.rewriting import scan_pushout, scan_prune, scan_merge, scan_dedupe, scan_savemem  # noqa: F401  (in order)

__all__ = ["optimize", "local_rewrite", "pattern", "register", "LocalRewrite", "Rewriter",
           "REGISTRY", "all_rewrites", "plan", "fold"]
