"""Loops: ``thx.scan`` (Theano's scan), its shortcuts, and the Scan op.

``thx.scan(...)`` is the function (as ``theano.scan``); this package holds
the frontend (``frontend.py``), the op (``op.py``) and its derivatives
(``derivatives.py``).  Its JAX lowering is ``thx/lowering/scan.py``.
"""

from thx.scan.frontend import ScanError, foldl, foldr, map, reduce, scan, until
from thx.scan.op import Scan
from thx.scan.checkpoints import scan_checkpoints

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "Scan", "ScanError", "scan_checkpoints"]
