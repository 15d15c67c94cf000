"""thx.config: typed flags with Theano's names.

Sources, lowest priority first: the defaults, ``~/.thxrc`` (Theano's
``.theanorc`` format; ``$THXRC`` names another file), ``THEANO_FLAGS``,
``THX_FLAGS``, then assignments in code (``thx.config.floatX = 'float32'``).
Every flag remembers where its value came from (``thx info`` prints it).
"""

from __future__ import annotations

import configparser
import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """An unknown flag, or a value a flag does not accept."""


@dataclass
class _Flag:
    name: str
    doc: str
    default: Any
    choices: tuple | None = None
    convert: Callable[[str], Any] | None = None
    on_set: Callable[[Any], None] | None = None  # applies a new value (e.g. to JAX)


def _bool(s: Any) -> bool:
    if isinstance(s, bool):
        return s
    v = str(s).strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {s!r}")


def _count(s: Any) -> int:
    v = int(s)
    if v < 0:
        raise ValueError(f"not a count (an integer >= 0): {s!r}")
    return v


def _limit(s: Any) -> int:
    v = int(s)
    if v < -1:
        raise ValueError(f"not a frame limit (-1, 0 or a positive count): {s!r}")
    return v


def _tags(s: Any) -> tuple[str, ...]:
    if isinstance(s, (list, tuple)):
        return tuple(s)
    return tuple(t for t in str(s).replace(":", " ").split() if t)


def _buckets(s: Any) -> str | tuple[int, ...]:
    """``shape_buckets``: 'pow2', 'off', or increasing sizes (a list, or '8,16,64')."""
    if isinstance(s, str) and s.strip().lower() in ("pow2", "off"):
        return s.strip().lower()
    sizes = [int(v) for v in (s.replace(",", " ").split() if isinstance(s, str) else s)]
    if not sizes or any(b <= 0 for b in sizes):
        raise ValueError(f"shape_buckets must be 'pow2', 'off' or positive sizes, got {s!r}")
    return tuple(sorted(sizes))


def _mesh(s: Any) -> str:
    """``mesh``: '' or ``name:size`` pairs ('data:2,model:2'), normalised to that spelling."""
    if isinstance(s, dict):
        s = ",".join(f"{k}:{v}" for k, v in s.items())
    axes = [a.strip() for a in str(s).replace(" ", ",").split(",") if a.strip()]
    names = []
    for a in axes:
        name, _, size = a.partition(":")
        if not name.isidentifier() or not size.isdigit() or int(size) < 1 or name in names:
            raise ValueError(f"mesh must be axis:size pairs with distinct names, such as "
                             f"'data:2,model:2', got {s!r}")
        names.append(name)
    return ",".join(axes)


# Flags whose values contain commas: in THX_FLAGS, 'mesh=data:2,model:2' keeps 'model:2'.
_LIST_FLAGS = ("mesh",)


# ---------------------------------------------------------------- raise / warn / ignore
POLICIES = ("raise", "warn", "ignore")


def check_policy(keyword: str, value: str) -> None:
    """Raise ValueError naming ``keyword`` unless ``value`` is 'raise', 'warn' or 'ignore'."""
    if value not in POLICIES:
        raise ValueError(f"Invalid value for keyword {keyword!r}: {keyword} must be 'raise', 'warn' "
                         f"or 'ignore', got {value!r}")


def apply_policy(policy: str, error: type[Exception], msg: str, stacklevel: int = 1) -> None:
    """Do what ``policy`` says about a problem: raise ``error(msg)``, warn ``msg``, or nothing.

    ``stacklevel`` counts from the caller, as ``warnings.warn``'s does.

    Examples
    --------
    >>> apply_policy("ignore", ValueError, "unused input")
    """
    if policy == "raise":
        raise error(msg)
    if policy == "warn":
        warnings.warn(msg, stacklevel=stacklevel + 1)


_FLAGS = [
    _Flag("device", "JAX platform for compiled functions", "cpu",
          ("cpu", "cuda", "gpu", "tpu") + tuple(f"cuda{i}" for i in range(16))
          + tuple(f"gpu{i}" for i in range(16))),
    _Flag("floatX", "dtype of float constants and plain constructors (T.matrix ...)", "float64",
          ("float64", "float32", "float16")),
    _Flag("mode", "default compilation mode", "FAST_RUN",
          ("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "ProfileMode", "PROFILE_MODE",
           "NanGuardMode", "JAX")),
    _Flag("optimizer", "rewrite set applied by thx.function", "fast_run",
          ("fast_run", "fast_compile", "merge", "None", "o4", "o3", "o2", "o1", "unsafe")),
    _Flag("optimizer_including", "extra rewrite tags to include (colon-separated)", (), None, _tags),
    _Flag("optimizer_excluding", "rewrite tags to exclude (colon-separated)", (), None, _tags),
    _Flag("optimizer_requiring", "rewrite tags required (colon-separated)", (), None, _tags),
    _Flag("optimizer_verbose", "print each rewrite as it is applied", False, None, _bool),
    _Flag("print_constants", "how pp prints constants: 'theano' -> TensorConstant{2}, 'short' -> 2",
          "theano", ("theano", "short")),
    _Flag("on_unused_input", "what function() does with an unused input", "raise",
          ("raise", "warn", "ignore")),
    _Flag("cast_policy", "how Python literals get their dtype", "custom", ("custom", "numpy+floatX")),
    _Flag("scan_map_lowering", "lower map-like scans to jax.vmap ('auto') or lax.scan ('scan')",
          "auto", ("auto", "scan")),
    _Flag("shape_buckets", "pad varying input axes to buckets ('pow2', 'off', or sizes), see "
          "docs/shapes.md", "pow2", None, _buckets),
    _Flag("check_index", "check inside compiled functions that integer indices are in range "
          "(IndexError as NumPy); False skips the check for speed (out-of-range reads clamp)",
          True, None, _bool),
    _Flag("check_gradients", "verify each compiled gradient against jax.grad on first call",
          "off", ("off", "jax")),
    _Flag("recompile_warn_threshold", "warn (once per function) when a function has compiled for "
          "more distinct static values or input shapes than this (0: never)", 10, None, int),
    _Flag("compile_cache_size", "compiled graphs kept for reuse by thx.function (each holds its "
          "XLA executable, about 1 MB for a small graph; 0 = no cache)", 32, None, _count),
    # applied by thx/lowering/linker.py (config.watch), the layer that imports JAX
    _Flag("cpu_devices", "simulate this many CPU devices (JAX's jax_num_cpu_devices; 0 = JAX's "
          "default); takes effect before JAX's backend starts, see docs/distributed.md", 0, None,
          _count),
    _Flag("mesh", "named device mesh over the devices, in order: 'data:4' or 'data:2,model:2' "
          "('' = none; data_parallel alone uses 'data:<all devices>')", "", None, _mesh),
    _Flag("data_parallel", "shard the leading axis of every function's array inputs and givens "
          "minibatches over the 'data' mesh axis", False, None, _bool),
    _Flag("compiledir", "directory for JAX's persistent compilation cache ('' = off)", "", None, str),
    _Flag("linker", "accepted for compatibility; thx always links through jax.jit", "jax",
          ("jax", "cvm", "vm", "c", "py", "c|py", "cvm_nogc", "vm_nogc", "c|py_nogc")),
    _Flag("profile", "profile every function (f.profile; summaries printed at exit), see "
          "docs/debugging.md", False, None, _bool),
    _Flag("profile_optimizer", "with profile: time and applications per rewrite in the summary",
          False, None, _bool),
    _Flag("profile_memory", "with profile: XLA's memory plan and node output sizes in the summary", False,
          None, _bool),
    _Flag("profiling__min_memory_size", "smallest node output (bytes) listed by profile_memory", 1024, None,
          _count),
    _Flag("profiling__n_apply", "Apply nodes listed in a profile summary", 20, None, _count),
    _Flag("profiling__n_ops", "ops and op classes listed in a profile summary", 20, None, _count),
    _Flag("NanGuardMode__nan_is_error", "NanGuardMode's default for nan_is_error", True, None, _bool),
    _Flag("NanGuardMode__inf_is_error", "NanGuardMode's default for inf_is_error", True, None, _bool),
    _Flag("NanGuardMode__big_is_error", "NanGuardMode's default for big_is_error", True, None, _bool),
    _Flag("NanGuardMode__action", "what NanGuardMode does on a bad value", "raise",
          ("raise", "warn", "pdb")),
    _Flag("exception_verbosity", "detail of error messages: 'high' adds a debugprint of the "
          "failing node's graph (docs/debugging.md)", "low", ("low", "high")),
    _Flag("traceback__limit", "stack frames of user code recorded where each node is created "
          "and shown when it fails (-1: all, 0: none)", 8, None, _limit),
    _Flag("compute_test_value", "evaluate test values (var.tag.test_value) as the graph is built: "
          "'raise'/'warn'/'pdb' on an error, 'ignore' skips nodes missing one", "off",
          ("off", "ignore", "warn", "raise", "pdb")),
    _Flag("allow_gc", "accepted for compatibility", True, None, _bool),
    _Flag("warn_float64", "what to do when a float64 variable is created", "ignore",
          ("ignore", "warn", "raise", "pdb")),
    _Flag("deterministic", "accepted for compatibility", "default", ("default", "more")),
    _Flag("openmp", "accepted for compatibility", False, None, _bool),
    _Flag("blas__ldflags", "accepted for compatibility", "", None, str),
    _Flag("gpuarray__preallocate", "accepted for compatibility", 0.0, None, float),
    _Flag("lib__cnmem", "accepted for compatibility", 0.0, None, float),
    _Flag("nvcc__fastmath", "accepted for compatibility", False, None, _bool),
]

# Theano 1.0's [warn] flags: warnings about results older Theano versions got wrong.  thx never
# had those bugs, so it never warns; the flags exist so that Theano code and .theanorc files that
# set them work.  Defaults follow Theano's rule: warn about bugs fixed after ignore_bug_before,
# comparing version strings as Theano does.
_IGNORE_BUG_BEFORE = "0.8"
_WARN_FLAGS = [  # name, version that fixed the bug (None: off by default), what it was
    ("argmax_pushdown_bug", "0.3", "the local_argmax_pushdown optimization (fixed May 2010)"),
    ("gpusum_01_011_0111_bug", "0.3", "GpuSum patterns 01, 011, 0111 on dimensions > 4096"),
    ("sum_sum_bug", "0.3", "two consecutive sums generated bad code (fixed August 2010)"),
    ("sum_div_dimshuffle_bug", "0.3", "sum of a division of dimshuffled tensors (fixed August 2010)"),
    ("subtensor_merge_bug", "0.5", "indexing a subtensor with negative stride (x[a:b:-1][c])"),
    ("gpu_set_subtensor1", "0.6", "set_subtensor(x[int vector], v) moved to the GPU"),
    ("vm_gc_bug", None, "a garbage-collection bug of the vm linker in an unreleased version"),
    ("signal_conv2d_interface", "0.7", "the interface change of signal.conv2d (June 2014)"),
    ("reduce_join", "0.7", "Reduce(Join(axis=0, a, b)) rewritten without checking the axis"),
    ("inc_set_subtensor1", "0.7", "inc/set_subtensor with advanced indexing by an int vector/matrix"),
    ("round", "0.9", "round() changed its default mode to half_to_even"),
    ("inc_subtensor1_opt", "0.10", "inc_subtensor(zeros[idx], x)[idx] optimised wrongly"),
]
_FLAGS.append(_Flag("warn__ignore_bug_before", "warn about bugs fixed after this Theano version "
                    "('None': all, 'all': none)", _IGNORE_BUG_BEFORE,
                    ("None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8", "0.8.1",
                     "0.8.2", "0.9", "0.10", "1.0")))
_FLAGS.extend(_Flag(f"warn__{name}", f"accepted for compatibility (Theano warned about {what})",
                    fixed is not None and not _IGNORE_BUG_BEFORE >= fixed, None, _bool)
              for name, fixed, what in _WARN_FLAGS)


class _Section:
    """``config.warn``, ``config.blas`` ...: the flags ``section__*`` read and set as attributes."""

    def __init__(self, config: "Config", prefix: str) -> None:
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, f"{self._prefix}__{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._config.set(f"{self._prefix}__{name}", value, "code")

    def __dir__(self):
        return [k[len(self._prefix) + 2:] for k in self._config._flags
                if k.startswith(self._prefix + "__")]


class Config:
    """The flag registry; read and set flags as attributes.

    Examples
    --------
    >>> import thx
    >>> thx.config.floatX in ('float64', 'float32', 'float16')
    True
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {f.name: f for f in _FLAGS})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_sources", {})
        for f in _FLAGS:
            self._values[f.name] = f.default
            self._sources[f.name] = "default"

    # ---------------------------------------------------------------- access
    def _canonical(self, name: str) -> str:
        key = name.replace(".", "__")
        if key not in self._flags:
            valid = ", ".join(sorted(self._flags, key=str.lower))
            raise ConfigError(f"Unknown thx flag {name!r}. Valid flags: {valid}")
        return key

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[self._canonical(name)]
        except ConfigError as e:
            if any(k.startswith(name + "__") for k in self._flags):
                return _Section(self, name)  # config.warn.round, config.blas.ldflags
            raise AttributeError(str(e)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.set(name, value, "code")

    def set(self, name: str, value: Any, source: str = "code") -> None:
        """Set flag ``name`` to ``value`` (validated), remembering ``source``."""
        key = self._canonical(name)
        flag = self._flags[key]
        if value is None and key == "optimizer":
            value = "None"
        if flag.convert is not None:
            try:
                value = flag.convert(value)
            except (TypeError, ValueError) as e:
                raise ConfigError(f"Bad value {value!r} for thx flag {name!r}: {e}") from None
        if flag.choices is not None and value not in flag.choices:
            raise ConfigError(f"Bad value {value!r} for thx flag {name!r}. "
                              f"Valid values: {', '.join(map(str, flag.choices))}")
        self._values[key] = value
        self._sources[key] = source
        if flag.on_set is not None:
            flag.on_set(value)

    def watch(self, name: str, on_set: Callable[[Any], None]) -> None:
        """Call ``on_set(value)`` now and whenever flag ``name`` is set.

        How a higher layer applies a flag it owns (the lowering layer points
        JAX's compilation cache at ``compiledir``) without config importing it.
        """
        key = self._canonical(name)
        self._flags[key].on_set = on_set
        on_set(self._values[key])

    def source(self, name: str) -> str:
        """Where the current value of ``name`` came from."""
        return self._sources[self._canonical(name)]

    def items(self) -> Iterator[tuple[str, Any, str]]:
        """``(name, value, source)`` for every flag."""
        for k in self._flags:
            yield k, self._values[k], self._sources[k]

    def doc(self, name: str) -> str:
        return self._flags[self._canonical(name)].doc

    @contextlib.contextmanager
    def change_flags(self, **kwargs: Any) -> Iterator[None]:
        """Temporarily set flags: ``with config.change_flags(floatX='float32'): ...``."""
        old = {self._canonical(k): (self._values[self._canonical(k)], self._sources[self._canonical(k)])
               for k in kwargs}
        try:
            for k, v in kwargs.items():
                self.set(k, v, "change_flags")
            yield
        finally:
            for k, (v, s) in old.items():
                self._values[k] = v
                self._sources[k] = s
                if self._flags[k].on_set is not None:  # a watched flag is applied again
                    self._flags[k].on_set(v)

    # ---------------------------------------------------------------- loading
    def load(self, environ: dict | None = None) -> None:
        """Read ``~/.thxrc``, ``THEANO_FLAGS`` and ``THX_FLAGS``."""
        environ = os.environ if environ is None else environ
        rc = environ.get("THXRC") or os.path.expanduser("~/.thxrc")
        if os.path.isfile(rc):
            for k, v in parse_rc(rc):
                self._load_one(k, v, f"rc file {rc}")
        for var in ("THEANO_FLAGS", "THX_FLAGS"):
            for k, v in parse_flags(environ.get(var, ""), var):
                self._load_one(k, v, var)

    def _load_one(self, name: str, value: str, source: str) -> None:
        try:
            self.set(name, value, source)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None


def change_flags(args: Any = (), **kwargs: Any):
    """Set flags temporarily: a context manager, and a decorator (Theano's ``theano.change_flags``).

    Parameters
    ----------
    args : dict, optional
        ``{flag: value}``, for flag names that are not Python identifiers (``'warn.round'``).
    **kwargs
        ``flag=value``.

    Examples
    --------
    >>> import thx
    >>> with thx.change_flags(floatX='float32'):
    ...     print(thx.config.floatX)
    float32
    >>> @thx.change_flags(print_constants='short')
    ... def show():
    ...     return thx.config.print_constants
    >>> show()
    'short'
    """
    flags = dict(args or {})
    flags.update(kwargs)
    return config.change_flags(**flags)


def parse_flags(text: str, where: str = "THX_FLAGS") -> list[tuple[str, str]]:
    """Split Theano's ``key=value,key2=value2`` syntax."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item and out and out[-1][0] in _LIST_FLAGS:
            out[-1] = (out[-1][0], f"{out[-1][1]},{item}")
            continue
        if "=" not in item:
            raise ConfigError(f"{where}: expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def parse_rc(path: str) -> list[tuple[str, str]]:
    """Read a ``.theanorc``-style file: ``[global]`` keys, ``[section]`` keys as ``section__key``."""
    cp = configparser.ConfigParser()
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(path)
    out = []
    for section in cp.sections():
        for k, v in cp.items(section):
            out.append((k if section == "global" else f"{section}__{k}", v))
    return out


def _report_cleanly(error: ConfigError) -> None:
    """If ``error`` (a bad flag, found at import) ends the program, print it in one line."""
    previous = sys.excepthook

    def hook(exc_type, value, tb):
        if value is error:
            print(f"thx: {type(value).__name__}: {value}", file=sys.stderr)
        else:
            previous(exc_type, value, tb)

    sys.excepthook = hook


config = Config()
try:
    config.load()
except ConfigError as _error:
    _report_cleanly(_error)
    raise
