"""``theano.compile.mode``: re-exports compilation modes, which live in ``thx/rewriting/mode.py``."""

from thx.rewriting.mode import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode

__all__ = ["Mode", "get_mode", "get_default_mode", "FAST_RUN", "FAST_COMPILE"]
