"""Run Theano code unchanged: ``import theano`` (and every ``theano.*`` module) resolves to thx.

:func:`install_theano_alias` puts a finder first on ``sys.meta_path`` that
answers every ``theano`` / ``theano.X`` import with the matching thx module
(``theano.gof.graph`` -> ``thx.graph.basic``, ``theano.X`` -> ``thx.X``
otherwise).  It only affects the running process; nothing is installed.
``thx run script.py`` does it before running the script.

Names Theano has and thx lacks fail with :class:`NotSupportedError` (an
``ImportError``) naming the Theano name, for modules
(``import theano.tensor.fourier``) and for known Theano functions
(``T.nnet.SparseBlockGemv``, ``from theano.tensor.nnet import SparseBlockGemv``).  Any other
missing attribute of a thx module raises :class:`TheanoAttributeError` (an
``AttributeError``) that says the same.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

__all__ = ["install_theano_alias", "uninstall_theano_alias", "NotSupportedError",
           "TheanoAttributeError", "theano_name_to_thx"]


class NotSupportedError(ImportError):
    """A Theano module or function that thx does not support yet."""


class TheanoAttributeError(AttributeError):
    """A name a thx module lacks, reached from Theano code (it may be one thx does not support)."""


# Theano modules whose thx counterpart has another name; any other theano.X is thx.X.
RENAMES = {
    "theano.gof": "thx.graph",
    "theano.gof.graph": "thx.graph.basic",
    "theano.gof.fg": "thx.graph.fg",
    "theano.gof.op": "thx.graph.op",
    "theano.gof.type": "thx.graph.type",
    "theano.gof.utils": "thx.graph.basic",
    "theano.graph": "thx.graph",
    "theano.compile.function_module": "thx.compile.function",
    "theano.compile.sharedvalue": "thx.compile.sharedvalue",
    "theano.compile.mode": "thx.compile.mode",
    "theano.compile.io": "thx.compile.function",
    "theano.tensor.sharedvar": "thx.tensor.sharedvar",
    "theano.tensor.raw_random": "thx.tensor.shared_randomstreams",
    "theano.tensor.nnet.nnet": "thx.tensor.nnet",
    "theano.tensor.nnet.sigm": "thx.tensor.nnet",
    "theano.configparser": "thx.config",
    "theano.configdefaults": "thx.config",
    "theano.sandbox.linalg.ops": "thx.sandbox.linalg",
    "theano.tensor.nnet.ctc": "thx.scan.ctc",
    "theano.sparse.basic": "thx.sparse",  # Theano's ops all lived in sparse/basic.py
}

# Theano functions thx does not implement yet, by thx module: reaching one raises
# NotSupportedError, which also survives ``from module import name``.
KNOWN_MISSING = {
    "thx.tensor.nnet": {
        "graph_merge_softmax_with_crossentropy_softmax", "SparseBlockGemv",
        "SparseBlockOuter", "sparse_block_dot",
    },
    "thx.tensor": {
        "fourier", "io", "blas", "DiffOp", "CpuContiguous",
        "tensordot_grad",
    },
    "thx.tensor.extra_ops": {"CpuContiguous", "DiffOp", "RepeatOp",
                             "CumsumOp", "CumprodOp"},
    "thx": {"gpuarray", "typed_list"},
    "thx.printing": {"hex_digest", "position_independent_str"},
    "thx.gradient": {"hessian_times_vector"},
}

_ORIGINAL_GETATTR = "_thx_original_getattr"


def theano_name_to_thx(name: str) -> str:
    """The thx module name for a Theano module name.

    Examples
    --------
    >>> theano_name_to_thx('theano.tensor.nnet')
    'thx.tensor.nnet'
    >>> theano_name_to_thx('theano.gof.graph')
    'thx.graph.basic'
    """
    if name in RENAMES:
        return RENAMES[name]
    head, _, rest = name.partition(".")
    if head != "theano":
        raise ValueError(f"not a Theano module name: {name!r}")
    return "thx" + ("." + rest if rest else "")


def _theano_name(thx_name: str) -> str:
    """Best Theano spelling of a thx module name (for messages)."""
    plain = "theano" + thx_name[3:]
    if theano_name_to_thx(plain) == thx_name:
        return plain
    return next((t for t, target in RENAMES.items() if target == thx_name), plain)


def _not_supported(theano_name: str, detail: str) -> NotSupportedError:
    return NotSupportedError(
        f"{theano_name} is not supported by thx yet ({detail}). thx implements Theano's graphs, "
        f"tensor operations, gradients, printing, scan and function on JAX; C/GPU back ends and "
        f"some libraries (typed lists, the GPU back end) are not available.",
        name=theano_name)


# ---------------------------------------------------------------------------- the finder

_ADDED_PATH = "_thx_alias_added_path"


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already-imported thx module for a ``theano`` name.

    Every alias is a package (the import system gives a plain module an
    empty ``__path__``), so that ``import theano.tensor.nnet.conv`` reaches
    the finder and gets its clear error instead of "... is not a package".
    """

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__
        self.had_path = hasattr(module, "__path__")

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        # The import system set module.__spec__ to the alias spec: give thx its own back.
        module.__spec__ = self.spec
        if not self.had_path:
            setattr(module, _ADDED_PATH, True)


class TheanoAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder resolving ``theano`` and ``theano.*`` to thx modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if fullname != "theano" and not fullname.startswith("theano."):
            return None
        thx_name = theano_name_to_thx(fullname)
        try:
            found = importlib.util.find_spec(thx_name)
        except ModuleNotFoundError:
            found = None
        if found is None or found.origin is None:  # origin None: a bare directory, no module
            raise _not_supported(fullname, f"thx has no module {thx_name}")
        module = importlib.import_module(thx_name)
        _hook_missing_names(module)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=True)


_finder = TheanoAliasFinder()


def _hook_missing_names(module: types.ModuleType) -> None:
    """Give ``module`` a ``__getattr__`` that explains names thx lacks (keeping any it had)."""
    if _ORIGINAL_GETATTR in vars(module):
        return
    original = vars(module).get("__getattr__")
    setattr(module, _ORIGINAL_GETATTR, original)

    def __getattr__(name: str) -> Any:
        if original is not None:
            try:
                return original(name)
            except AttributeError:
                pass
        theano_name = f"{_theano_name(module.__name__)}.{name}"
        if name.startswith("__"):
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        sub = f"{module.__name__}.{name}"
        spellings = ["theano" + module.__name__[3:]] + [t for t, target in RENAMES.items()
                                                         if target == module.__name__]
        renamed = next((RENAMES[f"{t}.{name}"] for t in spellings if f"{t}.{name}" in RENAMES), None)
        if renamed is not None and renamed != sub:  # theano.gof -> thx.graph, T.raw_random ...
            child = importlib.import_module(renamed)
            _hook_missing_names(child)
            return child
        if vars(module).get("__path__") and importlib.util.find_spec(sub) is not None:
            child = importlib.import_module(sub)  # theano.X.sub is importable as an attribute
            _hook_missing_names(child)
            return child
        if name in KNOWN_MISSING.get(module.__name__, ()):
            raise _not_supported(theano_name, f"{module.__name__} has no {name!r}")
        raise TheanoAttributeError(
            f"module {module.__name__!r} has no attribute {name!r}: if {theano_name} is a Theano "
            f"name, thx does not support it yet")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]


def install_theano_alias() -> TheanoAliasFinder:
    """Make ``import theano`` (and ``theano.*``) give thx, in this process only.

    Returns
    -------
    TheanoAliasFinder
        The finder placed first on ``sys.meta_path`` (installing twice is harmless).

    Raises
    ------
    RuntimeError
        If a real Theano is already imported.

    Examples
    --------
    >>> import thx
    >>> thx.install_theano_alias()  # doctest: +ELLIPSIS
    <thx.alias.TheanoAliasFinder object at ...>
    >>> import theano, theano.tensor as T
    >>> theano is thx, T is thx.tensor
    (True, True)
    >>> T.nnet.SparseBlockGemv
    Traceback (most recent call last):
    ...
    thx.alias.NotSupportedError: theano.tensor.nnet.SparseBlockGemv is not supported by thx yet ...
    >>> thx.uninstall_theano_alias()
    """
    real = sys.modules.get("theano")
    if real is not None and not getattr(real, "__name__", "").startswith("thx"):
        raise RuntimeError(f"A real Theano is already imported ({getattr(real, '__file__', real)}); "
                           f"the thx alias must be installed before anything imports theano.")
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for name, module in list(sys.modules.items()):
        if (name == "thx" or name.startswith("thx.")) and isinstance(module, types.ModuleType):
            _hook_missing_names(module)
    return _finder


def uninstall_theano_alias() -> None:
    """Undo :func:`install_theano_alias`: remove the finder, the ``theano`` modules and the hooks."""
    while _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
        if getattr(sys.modules[name], "__name__", "").startswith("thx"):
            del sys.modules[name]
    for name, module in list(sys.modules.items()):
        if (name == "thx" or name.startswith("thx.")) and vars(module).pop(_ADDED_PATH, False):
            del module.__path__
        if (name == "thx" or name.startswith("thx.")) and _ORIGINAL_GETATTR in vars(module):
            original = vars(module)[_ORIGINAL_GETATTR]
            delattr(module, _ORIGINAL_GETATTR)
            if original is None:
                del module.__getattr__
            else:
                module.__getattr__ = original
