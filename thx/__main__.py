"""The ``thx`` command (also ``python -m thx``).

``thx run [--profile] [--processes N] script.py [args]`` (or ``thx script.py [args]``)
    Run a Theano script unchanged: ``import theano`` gives thx.  ``--profile``
    sets the ``profile`` flag: each function's profile is printed at exit.
    ``--processes N`` runs N local processes of it, joined by
    ``thx.distributed.initialize`` (docs/distributed.md).
``thx info``
    Versions, JAX devices, the selected device, and every flag with its source.
``thx check script.py [args]``
    Run a script with ``check_gradients=jax``: each compiled gradient is
    compared with ``jax.grad`` on its first call; prints a table at the end.
``thx tutorial``
    The "Derivatives in Theano" tutorial, each result beside JAX's.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

import thx
from thx.config import config


def run_script(path: str, args: Sequence[str] = ()) -> None:
    """Run the Python script ``path`` as ``__main__`` with ``theano`` resolved to thx.

    ``sys.argv`` becomes ``[path, *args]`` and the script's directory is put
    first on ``sys.path``, as ``python script.py`` does.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"thx run: no such script: {path}")
    thx.install_theano_alias()
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")


# ---------------------------------------------------------------------------- info

def info(out: TextIO | None = None) -> int:
    """Print versions, devices and flags; return 1 if ``config.device`` is unavailable."""
    import thx.lowering  # noqa: F401  (imports JAX keeping numpy.random's state)
    import jax
    import jaxlib

    from thx.check import format_table
    from thx.compile.function import _backend

    out = out or sys.stdout
    print(f"thx {thx.__version__} ({os.path.dirname(thx.__file__)})", file=out)
    print(f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, numpy {np.__version__}", file=out)
    print("JAX devices:", file=out)
    for d in jax.devices():
        print(f"  {d.platform}:{d.id}  {d.device_kind}", file=out)
    try:
        platform = _backend()
    except RuntimeError as e:
        print(str(e), file=sys.stderr)
        return 1
    selected = jax.devices(platform)[0] if platform else jax.devices()[0]
    print(f"selected device: {selected.platform}:{selected.id} "
          f"(device={config.device}, from {config.source('device')})", file=out)
    if config.mesh or config.data_parallel or jax.process_count() > 1:
        from thx.lowering.sharding import describe
        print(f"mesh: {describe()} (process {jax.process_index()} of {jax.process_count()}, "
              f"{jax.device_count()} devices)", file=out)
    print("flags:", file=out)
    rows = [["name", "value", "source"]] + [[k, str(v), s] for k, v, s in config.items()]
    print(textwrap.indent(format_table(rows), "  "), file=out)
    return 0


# ---------------------------------------------------------------------------- check

def check_script(path: str, args: Sequence[str] = (), out: TextIO | None = None) -> int:
    """Run a script with ``check_gradients=jax``; print every check; 1 if one failed."""
    from thx.check import CHECKED, format_table

    out = out or sys.stdout
    start = len(CHECKED)
    try:
        with config.change_flags(check_gradients="jax"):
            run_script(path, args)
    finally:
        reports = CHECKED[start:]
        print(f"\nthx check: {sum(len(r) for r in reports)} gradient(s) checked against jax.grad",
              file=out)
        if reports:
            rows = [["function", "cost"] + reports[0].table_rows()[0]]
            for r in reports:
                rows += [[r.function, r.cost] + row for row in r.table_rows()[1:]]
            print(format_table(rows), file=out)
    return 0 if all(r.passed for r in reports) else 1


# ---------------------------------------------------------------------------- tutorial

# (title, Theano code, thx result expression, JAX code, JAX result expression, needs scan)
TUTORIAL = [
    ("Computing gradients: d(x**2)/dx",
     """\
import theano
import theano.tensor as T
from theano import pp
x = T.dscalar('x')
y = x ** 2
gy = T.grad(y, x)
f = theano.function([x], gy)""",
     "[f(4), f(94.2)]",
     "g = jax.grad(lambda x: x ** 2)",
     "[g(4.0), g(94.2)]", False),
    ("The gradient of the logistic function",
     """\
x = T.dmatrix('x')
s = T.sum(1 / (1 + T.exp(-x)))
gs = T.grad(s, x)
dlogistic = theano.function([x], gs)""",
     "dlogistic([[0, 1], [-1, -2]])",
     "g = jax.grad(lambda x: jnp.sum(1 / (1 + jnp.exp(-x))))",
     "g(jnp.array([[0., 1.], [-1., -2.]]))", False),
    ("Computing the Jacobian (scan)",
     """\
x = T.dvector('x')
y = x ** 2
J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x),
                         sequences=T.arange(y.shape[0]), non_sequences=[y, x])
f = theano.function([x], J, updates=updates)""",
     "f([4, 4])",
     "J = jax.jacrev(lambda x: x ** 2)",
     "J(jnp.array([4., 4.]))", True),
    ("Computing the Hessian (scan)",
     """\
x = T.dvector('x')
y = x ** 2
cost = y.sum()
gy = T.grad(cost, x)
H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x),
                         sequences=T.arange(gy.shape[0]), non_sequences=[gy, x])
f = theano.function([x], H, updates=updates)""",
     "f([4, 4])",
     "H = jax.jacrev(jax.grad(lambda x: jnp.sum(x ** 2)))",
     "H(jnp.array([4., 4.]))", True),
    ("R-operator: Jacobian times a vector",
     """\
W = T.dmatrix('W')
V = T.dmatrix('V')
x = T.dvector('x')
y = T.dot(x, W)
JV = T.Rop(y, W, V)
f = theano.function([W, V, x], JV)""",
     "f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1])",
     "x = jnp.array([0., 1.])\n"
     "jvp = lambda W, V: jax.jvp(lambda W: jnp.dot(x, W), (W,), (V,))[1]",
     "jvp(jnp.ones((2, 2)), 2 * jnp.ones((2, 2)))", False),
    ("L-operator: a vector times the Jacobian",
     """\
W = T.dmatrix('W')
v = T.dvector('v')
x = T.dvector('x')
y = T.dot(x, W)
VJ = T.Lop(y, W, v)
f = theano.function([v, x], VJ)""",
     "f([2, 2], [0, 1])",
     "x = jnp.array([0., 1.])\n"
     "vjp = lambda W, v: jax.vjp(lambda W: jnp.dot(x, W), W)[1](v)[0]",
     "vjp(jnp.ones((2, 2)), jnp.array([2., 2.]))", False),
    ("Hessian times a vector, with grad",
     """\
x = T.dvector('x')
v = T.dvector('v')
y = T.sum(x ** 2)
gy = T.grad(y, x)
vH = T.grad(T.sum(gy * v), x)
f = theano.function([x, v], vH)""",
     "f([4, 4], [2, 2])",
     "hvp = lambda x, v: jax.jvp(jax.grad(lambda x: jnp.sum(x ** 2)), (x,), (v,))[1]",
     "hvp(jnp.array([4., 4.]), jnp.array([2., 2.]))", False),
    ("Hessian times a vector, with the R-operator",
     """\
x = T.dvector('x')
v = T.dvector('v')
y = T.sum(x ** 2)
gy = T.grad(y, x)
Hv = T.Rop(gy, x, v)
f = theano.function([x, v], Hv)""",
     "f([4, 4], [2, 2])",
     "hvp = lambda x, v: jax.jvp(jax.grad(lambda x: jnp.sum(x ** 2)), (x,), (v,))[1]",
     "hvp(jnp.array([4., 4.]), jnp.array([2., 2.]))", False),
]


def _has_scan() -> bool:
    import importlib
    try:
        return hasattr(importlib.import_module("thx.scan"), "scan")
    except ImportError:
        return False


def _show(v: Any) -> str:
    return np.array2string(np.asarray(v), precision=8, separator=", ") if not isinstance(v, list) \
        else "[" + ", ".join(_show(e) for e in v) + "]"


def _hanging(prefix: str, text: str) -> str:
    """``prefix + text`` with the text's later lines aligned under its first."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


def tutorial(out: TextIO | None = None) -> int:
    """Run the tutorial's derivative examples beside JAX; return 1 if a result differs."""
    import thx.lowering  # noqa: F401  (imports JAX keeping numpy.random's state)
    import jax
    import jax.numpy as jnp

    from thx.lowering.linker import x64

    out = out or sys.stdout
    installed = "theano" not in sys.modules
    thx.install_theano_alias()
    scan = _has_scan()
    ns: dict[str, Any] = {}
    failures = 0
    try:
        for k, (title, code, expr, jax_code, jax_expr, needs_scan) in enumerate(TUTORIAL, 1):
            print(f"\n[{k}] {title}", file=out)
            if needs_scan and not scan:
                print("    (skipped: thx.scan is not available in this build)", file=out)
                continue
            print(textwrap.indent(code, "    >>> ", lambda line: True).replace(
                "\n    >>>     ", "\n    ...     "), file=out)
            exec(code, ns)
            ours = eval(expr, ns)
            if k == 1:  # the tutorial's pp(gy), in both constant styles
                print(f"    >>> pp(gy)\n    {thx.pp(ns['gy'])!r}", file=out)
                with config.change_flags(print_constants="short"):
                    print(f"    >>> pp(gy)  # print_constants='short' (Theano < 0.9)\n"
                          f"    {thx.pp(ns['gy'])!r}", file=out)
            jns: dict[str, Any] = {"jax": jax, "jnp": jnp}
            with x64(True):
                exec(jax_code, jns)
                ref = eval(jax_expr, jns)
                ref = [np.asarray(r) for r in ref] if isinstance(ref, list) else np.asarray(ref)
            same = all(np.allclose(a, b) for a, b in zip(ours if isinstance(ours, list) else [ours],
                                                          ref if isinstance(ref, list) else [ref]))
            failures += not same
            print(_hanging(f"    thx: {expr} = ", _show(ours)), file=out)
            print(textwrap.indent(jax_code, "    jax: "), file=out)
            print(_hanging(f"    jax: {jax_expr} = ", _show(ref)), file=out)
            print(f"    {'same result' if same else 'DIFFERENT RESULTS'}", file=out)
    finally:
        if installed:
            thx.uninstall_theano_alias()
    return 1 if failures else 0


# ---------------------------------------------------------------------------- main

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thx", description="thx: Theano's front end on JAX.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a Theano script unchanged (import theano gives thx)")
    r.add_argument("--processes", type=int, default=0, metavar="N",
                   help="run N local processes of the script, joined by thx.distributed")
    r.add_argument("--profile", action="store_true", help="profile every function; summaries at exit")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("info", help="versions, JAX devices, the selected device, flags and sources")
    c = sub.add_parser("check", help="run a script, checking every gradient against jax.grad")
    c.add_argument("script")
    c.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("tutorial", help="the 'Derivatives in Theano' examples beside JAX's results")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``thx`` command; returns the exit status.

    Examples
    --------
    >>> main(['info'])  # doctest: +ELLIPSIS
    thx ...
    jax ..., jaxlib ...
    JAX devices:
      cpu:0  cpu
    selected device: cpu:0 (device=cpu, from ...)
    flags:
      name ... value ... source
      device ... cpu ...
    ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in ("run", "info", "check", "tutorial") and not argv[0].startswith("-"):
        argv.insert(0, "run")  # `thx script.py` is `thx run script.py`
    args = _parser().parse_args(argv)
    if args.command == "run":
        if args.profile:
            config.profile = True
            if args.processes:  # the processes read their flags from the environment
                os.environ["THX_FLAGS"] = ",".join(filter(None, [os.environ.get("THX_FLAGS"),
                                                                 "profile=True"]))
        if args.processes:
            return thx.distributed.launch(args.script, args.args, args.processes)
        if os.environ.get(thx.distributed.ENV_PROCESS_ID) is not None:  # one of launch's processes
            thx.distributed.initialize()
        run_script(args.script, args.args)
        return 0
    if args.command == "info":
        return info()
    if args.command == "check":
        return check_script(args.script, args.args)
    return tutorial()


if __name__ == "__main__":
    sys.exit(main())
