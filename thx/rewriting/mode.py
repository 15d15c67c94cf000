"""Compilation modes (Theano's ``Mode``): which rewrites run before lowering."""

from __future__ import annotations

import copy
from typing import Any

from thx.config import config


class Mode:
    """How ``thx.function`` compiles: an optimizer (rewrite set) and a linker name.

    Parameters
    ----------
    linker : str, optional
        Accepted for compatibility (``'cvm'``, ``'py'``, ``'c|py'`` ...); thx
        always links through ``jax.jit``.
    optimizer : str or None
        ``'fast_run'``, ``'fast_compile'``, ``'merge'``, or None for no rewrites.

    Examples
    --------
    >>> import thx
    >>> thx.compile.Mode(optimizer=None).optimizer
    'None'
    """

    def __init__(self, linker: Any = None, optimizer: Any = "default",
                 including: tuple[str, ...] = (), excluding: tuple[str, ...] = (),
                 requiring: tuple[str, ...] = ()) -> None:
        if optimizer == "default":
            optimizer = config.optimizer
        if optimizer is None:
            optimizer = "None"
        valid = ("fast_run", "fast_compile", "merge", "None", "o1", "o2", "o3", "o4", "unsafe")
        if optimizer not in valid:
            raise ValueError(f"Mode: unknown optimizer {optimizer!r}; valid values: {', '.join(valid)}")
        self.linker = linker if linker is not None else config.linker
        self.optimizer = optimizer
        self._including = tuple(including)
        self._excluding = tuple(excluding)
        self._requiring = tuple(requiring)

    def including(self, *tags: str) -> "Mode":
        """A copy of this mode that also applies rewrites tagged ``tags``."""
        return self._with_tags(self._including + tags, self._excluding, self._requiring)

    def excluding(self, *tags: str) -> "Mode":
        """A copy of this mode that skips rewrites tagged ``tags``."""
        return self._with_tags(self._including, self._excluding + tags, self._requiring)

    def requiring(self, *tags: str) -> "Mode":
        """A copy of this mode that keeps only rewrites tagged with all of ``tags``."""
        return self._with_tags(self._including, self._excluding, self._requiring + tags)

    def _with_tags(self, including: tuple, excluding: tuple, requiring: tuple) -> "Mode":
        m = copy.copy(self)  # keeps a subclass (NanGuardMode, DebugMode) and its settings
        m._including, m._excluding, m._requiring = tuple(including), tuple(excluding), tuple(requiring)
        return m

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mode) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self):
        return (self.optimizer, self._including, self._excluding, self._requiring)

    def __repr__(self) -> str:
        return f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r})"


# Mode names for ``mode=``/``config.mode``; thx/compile/nanguardmode.py and debugmode.py replace
# 'NanGuardMode' and 'DebugMode' with their own Mode classes (they live in a higher layer).
PREDEFINED_MODES = _PREDEFINED = {
    "FAST_RUN": lambda: Mode(optimizer="fast_run"),
    "FAST_COMPILE": lambda: Mode(optimizer="fast_compile"),
    "JAX": lambda: Mode(optimizer="fast_run"),
    "DebugMode": lambda: Mode(optimizer="fast_run"),
    "DEBUG_MODE": lambda: Mode(optimizer="fast_run"),
    "ProfileMode": lambda: Mode(optimizer="fast_run"),
    "PROFILE_MODE": lambda: Mode(optimizer="fast_run"),
    "NanGuardMode": lambda: Mode(optimizer="fast_run"),
}


def get_mode(mode: Any) -> Mode:
    """A Mode from a Mode, a mode name (``'FAST_RUN'``...), or None (``config.mode``)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        inc, exc = config.optimizer_including, config.optimizer_excluding
        req = config.optimizer_requiring
        if inc or exc or req:
            return mode._with_tags(mode._including + tuple(inc), mode._excluding + tuple(exc),
                                   mode._requiring + tuple(req))
        return mode
    if isinstance(mode, str):
        if mode not in _PREDEFINED:
            raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(_PREDEFINED)}")
        m = _PREDEFINED[mode]()
        if mode == config.mode and config.source("optimizer") != "default":
            m = copy.copy(m)  # the optimizer flag applies to the flag's mode (a DebugMode stays one)
            m.optimizer = config.optimizer
        return get_mode(m)
    raise TypeError(f"mode must be a Mode or a mode name, got {mode!r}")


def get_default_mode() -> Mode:
    """The Mode used when ``function`` gets no ``mode`` (from ``config.mode``; Theano's name).

    Examples
    --------
    >>> import thx
    >>> thx.compile.mode.get_default_mode().optimizer
    'fast_run'
    """
    return get_mode(None)


# Theano's predefined Mode objects: ``mode=FAST_RUN.excluding('canonicalize')`` works.
FAST_RUN = Mode(optimizer="fast_run")
FAST_COMPILE = Mode(optimizer="fast_compile")
