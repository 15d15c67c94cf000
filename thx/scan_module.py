"""Theano's module name for scan: ``theano.scan_module.until``, ``theano.scan_module.scan``.

Examples
--------
>>> import thx
>>> thx.scan_module.scan is thx.scan
True
"""

from thx.scan.frontend import foldl, foldr, map, reduce, scan, until
from thx.scan.op import Scan
from thx.scan.checkpoints import scan_checkpoints

__all__ = ["scan", "until", "map", "reduce", "foldl", "foldr", "Scan", "scan_checkpoints"]
