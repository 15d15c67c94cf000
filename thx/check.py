"""Check thx's symbolic gradients against ``jax.grad`` of the lowered cost.

:func:`check_against_jax` compares, at one point, the gradient graph
``thx.grad`` builds (rewritten and lowered like any compiled function) with
``jax.grad`` applied to the lowered *cost* graph: an independent derivative
of the same forward computation.  A mismatch names the variable and the
errors (:class:`GradientMismatchError`).

With ``config.check_gradients = 'jax'``, every compiled function whose
outputs or updates contain a gradient (a variable ``thx.grad`` returned,
tagged ``tag.grad_of = (cost, wrt)``) runs this check once, on its first
call, at the values of that call.  ``thx check script.py`` turns the flag
on for a script and prints :data:`CHECKED` at the end.

:func:`verify_grad` (Theano's ``theano.gradient.verify_grad``) and
:class:`numeric_grad` compare a gradient with central finite differences
instead; they compile functions, so they live here, above ``thx.compile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import thx.tensor as T
from thx.compile.function import COMPILE_HOOKS, Function, function
from thx.config import config
from thx.graph.basic import Constant, Variable, ancestors, clone_replace, graph_inputs
from thx.graph.fg import MissingInputError
from thx import gradient
from thx.gradient import GradientError, grad

__all__ = ["check_against_jax", "GradientMismatchError", "GradientCheckReport", "GradientCheck",
           "CHECKED", "verify_grad", "numeric_grad"]

# Every report made by the first-call checks (config.check_gradients = 'jax'), in order.
CHECKED: list[GradientCheckReport] = []


@dataclass
class GradientCheck:
    """One ``wrt`` of a gradient check.

    ``max_rel_err`` is the largest ``|thx - jax| / max(|thx|, |jax|)``;
    ``passed`` means ``numpy.allclose(thx, jax, rtol, atol)``.  ``skipped``
    says why a check could not run (then ``passed`` is True).  ``convention``
    names a known convention difference (e.g. ``abs'(0)``: Theano 0, JAX 1) that
    explains the difference from plain ``jax.grad``; thx then matched ``jax.grad``
    of the cost rewritten to Theano's convention, and ``passed`` is True.
    """

    wrt: str
    shape: tuple
    max_abs_err: float
    max_rel_err: float
    passed: bool
    skipped: str = ""
    convention: str = ""


class GradientCheckReport:
    """The result of :func:`check_against_jax`: one :class:`GradientCheck` per ``wrt``.

    Attributes
    ----------
    cost : str
        How the cost prints.
    rows : list of GradientCheck
    rtol, atol : float
    function : str
        Name of the compiled function that triggered the check ('' if none).
    """

    def __init__(self, cost: str, rows: list[GradientCheck], rtol: float, atol: float,
                 function: str = "") -> None:
        self.cost, self.rows, self.rtol, self.atol, self.function = cost, rows, rtol, atol, function

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, k: int) -> GradientCheck:
        return self.rows[k]

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        head = (f"gradient of {self.cost} against jax.grad "
                f"(rtol={self.rtol:g}, atol={self.atol:g})")
        return head + "\n" + format_table(self.table_rows())

    def table_rows(self) -> list[list[str]]:
        out = [["wrt", "shape", "max abs err", "max rel err", "passed"]]
        for r in self.rows:
            if r.skipped:
                out.append([r.wrt, str(r.shape), "-", "-", f"skipped: {r.skipped}"])
            else:
                verdict = "yes" if r.passed else "NO"
                if r.convention:
                    verdict += f" (convention: {r.convention})"
                out.append([r.wrt, str(r.shape), f"{r.max_abs_err:.3g}", f"{r.max_rel_err:.3g}",
                            verdict])
        return out

    __repr__ = __str__


def format_table(rows: list[list[str]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


class GradientMismatchError(GradientError):
    """thx's symbolic gradient and ``jax.grad`` disagree; ``.report`` has the details."""

    def __init__(self, report: GradientCheckReport) -> None:
        Exception.__init__(self)
        self.report = report

    def __str__(self) -> str:
        bad = [r for r in self.report.rows if not r.passed]
        lines = [f"thx's gradient of {self.report.cost} w.r.t. {r.wrt} differs from jax.grad: "
                 f"max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g} "
                 f"(rtol={self.report.rtol:g}, atol={self.report.atol:g})" for r in bad]
        return "\n".join(lines) + "\n" + str(self.report)


def _label(v: Variable, width: int = 40) -> str:
    if v.name:
        return v.name
    from thx.printing import pp
    try:
        s = pp(v)
    except Exception:  # printing must never hide the check's result
        s = str(v)
    return s if len(s) <= width else s[: width - 3] + "..."


def _compare(name: str, ours: Any, ref: Any, rtol: float, atol: float) -> GradientCheck:
    a = np.asarray(ours, dtype="float64")
    b = np.asarray(ref, dtype="float64")
    if a.shape != b.shape:
        return GradientCheck(name, b.shape, np.inf, np.inf, False,
                             f"thx gave shape {a.shape}, jax.grad {b.shape}")
    err = np.abs(a - b)
    den = np.maximum(np.abs(a), np.abs(b))
    rel = np.divide(err, den, out=np.zeros_like(err), where=den > 0)
    return GradientCheck(name, a.shape, float(err.max(initial=0.0)), float(rel.max(initial=0.0)),
                         bool(np.allclose(a, b, rtol=rtol, atol=atol)))


def _missing_inputs(exprs: Sequence[Variable], values: dict) -> list[Variable]:
    """The non-constant, non-shared roots of ``exprs`` that ``values`` lacks."""
    return [v for v in graph_inputs(exprs) if v not in values
            and not isinstance(v, Constant) and not hasattr(v, "get_value")]


def check_against_jax(cost: Variable, wrt: Variable | Sequence[Variable], values: dict,
                      rtol: float = 1e-6, atol: float = 1e-8,
                      raise_on_mismatch: bool = True,
                      consider_constant: Sequence[Variable] | None = None) -> GradientCheckReport:
    """Compare ``thx.grad(cost, wrt)`` with ``jax.grad`` of the lowered ``cost`` at ``values``.

    Parameters
    ----------
    cost : scalar Variable
    wrt : Variable or list of Variable
        Inputs of the cost or intermediate variables of its graph.
    values : dict
        ``{variable: value}`` for the inputs of the cost's graph (shared
        variables default to their current value).
    rtol, atol : float
        Tolerances of ``numpy.allclose(thx, jax)``.
    raise_on_mismatch : bool
        Raise :class:`GradientMismatchError` when a gradient differs.
    consider_constant : list of Variable, optional
        As for ``thx.grad``: both sides treat these as constants (``jax.lax.stop_gradient``).

    Returns
    -------
    GradientCheckReport

    Raises
    ------
    GradientMismatchError
        When a gradient differs beyond the tolerances (if ``raise_on_mismatch``).
    MissingInputError
        When ``values`` lacks an input of the cost.

    Examples
    --------
    >>> import thx.tensor as T
    >>> from thx.gradient import check_against_jax
    >>> x = T.dvector('x')
    >>> report = check_against_jax(T.sum(T.tanh(x) * x), x, {x: [0.5, -1.0]})
    >>> report.passed
    True
    >>> print(report)  # doctest: +ELLIPSIS
    gradient of ... against jax.grad (rtol=1e-06, atol=1e-08)
    wrt  shape  max abs err  max rel err  passed
    x    (2,)   ...          ...          yes
    """
    import thx.lowering  # noqa: F401  (imports JAX keeping numpy.random's state)
    import jax

    from thx.rewriting.mode import get_mode
    from thx.graph.fg import FunctionGraph
    from thx.lowering.linker import build_closure, x64
    from thx.rewriting import optimize
    from thx.tensor.type import discrete_dtypes

    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    missing = _missing_inputs([cost] + wrt_list, values)
    if missing:
        raise MissingInputError(f"check_against_jax: no value given for "
                                f"{', '.join(map(str, missing))}, input(s) of the cost; pass "
                                f"them in `values`")
    roots = [v for v in graph_inputs([cost] + wrt_list) if not isinstance(v, Constant)]
    root_vals = [v.type.filter(np.asarray(values[v] if v in values else v.get_value(borrow=True)),
                               allow_downcast=True) for v in roots]

    # thx: the symbolic gradient (rewritten as thx.function would), and the wrt values.
    consider = list(consider_constant or [])
    grads = grad(cost, wrt_list, consider_constant=consider, disconnected_inputs="ignore")
    fg = FunctionGraph(roots, list(grads) + wrt_list)
    optimize(fg, get_mode(None))
    with x64(True):
        outs = jax.jit(build_closure(fg))(*root_vals)
    ours, wrt_vals = outs[: len(wrt_list)], [np.asarray(v) for v in outs[len(wrt_list):]]

    # jax: grad of the lowered cost.  An intermediate wrt w becomes w + d with d a new input
    # (value 0): d cost / d d is d cost / d w, and the other wrts still reach the cost through w.
    float_pos = [k for k, w in enumerate(wrt_list) if w.dtype not in discrete_dtypes]
    deltas = {wrt_list[k]: wrt_list[k].type() for k in float_pos if wrt_list[k] not in roots}
    frozen = {c: gradient.consider_constant(c) for c in consider if c not in deltas}
    perturbed = clone_replace([cost], {**frozen, **{w: w + d for w, d in deltas.items()}})[0]
    inputs = roots + list(deltas.values())
    base = list(root_vals) + [np.zeros_like(wrt_vals[wrt_list.index(w)]) for w in deltas]
    pos = [inputs.index(deltas.get(wrt_list[k], wrt_list[k])) for k in float_pos]

    def jax_grads(cost_graph):
        cost_fn = build_closure(FunctionGraph(inputs, [cost_graph]))

        def cost_of(*varied):
            args = list(base)
            for p, v in zip(pos, varied):
                args[p] = v
            return cost_fn(*args)[0]

        with x64(True):
            refs = jax.grad(cost_of, argnums=tuple(range(len(pos))))(*[base[p] for p in pos]) \
                if pos else ()
        ref_of = dict(zip(float_pos, refs))
        return [ref_of[k] if k in ref_of else np.zeros(np.shape(wrt_vals[k]))
                for k in range(len(wrt_list))]

    refs = jax_grads(perturbed)
    rows = [_compare(_label(w, 20), ours[k], refs[k], rtol, atol) for k, w in enumerate(wrt_list)]
    if not all(r.passed for r in rows):
        rows = _recheck_with_conventions(rows, perturbed, jax_grads, ours, wrt_list, rtol, atol)
    report = GradientCheckReport(_label(cost), rows, rtol, atol)
    if raise_on_mismatch and not report.passed:
        raise GradientMismatchError(report)
    return report


# ---------------------------------------------------------------------------- conventions

def _abs_as_theano(fgraph_outputs: list[Variable]) -> tuple[list[Variable], list[str]]:
    """``abs(x) -> x * sign(x)``: the same values, and JAX then differentiates it as Theano
    does (``abs'(0) = sign(0) = 0``; ``jax.grad(jnp.abs)(0.)`` is 1)."""
    found = [v for v in ancestors(fgraph_outputs)
             if v.owner is not None and getattr(getattr(v.owner.op, "scalar_op", None), "name", "") == "abs"]
    if not found:
        return fgraph_outputs, []
    replace = {v: v.owner.inputs[0] * T.sgn(v.owner.inputs[0]) for v in found}
    return clone_replace(fgraph_outputs, replace), ["abs'(0): Theano 0, JAX 1"]


# Each rule rewrites the cost so that JAX's derivative follows Theano's convention at the
# points where the two differ, without changing the cost's value.
CONVENTIONS = [_abs_as_theano]


def _recheck_with_conventions(rows, cost, jax_grads, ours, wrt_list, rtol, atol):
    """Rows that differ from ``jax.grad`` but match it once the cost follows Theano's
    conventions pass, with the convention named."""
    outputs, notes = [cost], []
    for rule in CONVENTIONS:
        outputs, note = rule(outputs)
        notes += note
    if not notes:
        return rows
    refs = jax_grads(outputs[0])
    out = []
    for k, r in enumerate(rows):
        if not r.passed:
            again = _compare(r.wrt, ours[k], refs[k], rtol, atol)
            if again.passed:
                r = GradientCheck(r.wrt, r.shape, r.max_abs_err, r.max_rel_err, True,
                                  convention="; ".join(notes))
        out.append(r)
    return out


# ---------------------------------------------------------------------------- first-call checks

_TOLERANCES = {"float64": (1e-6, 1e-8), "float32": (1e-4, 1e-6), "float16": (1e-2, 1e-3)}


def tagged_gradients(exprs: Sequence[Variable]) -> dict[tuple, list[Variable]]:
    """``{(cost, consider_constant): [wrt, ...]}`` for the gradients ``thx.grad`` made that
    ``exprs`` use."""
    found: dict[tuple, list[Variable]] = {}
    for v in ancestors(exprs):
        mark = getattr(v.tag, "grad_of", None)
        if mark is None:
            continue
        key = (mark[0], tuple(mark[2]) if len(mark) > 2 else ())
        if mark[1] not in found.setdefault(key, []):
            found[key].append(mark[1])
    return found


def check_on_first_call(f: Any, exprs: Sequence[Variable]) -> None:
    """Make the compiled function ``f`` check the gradients in ``exprs`` on its first call.

    ``f`` changes class for that one call only, so later calls (and
    functions without gradients) run the plain ``Function.__call__``.
    """
    pending = tagged_gradients(exprs)
    if pending and type(f) is Function:
        f._gradient_checks = pending
        f.__class__ = _CheckingFunction


def _check_hook(f: Any, exprs: Sequence[Variable]) -> None:
    if config.check_gradients != "off":  # verify gradients once, on the first call
        check_on_first_call(f, exprs)


COMPILE_HOOKS.append(_check_hook)


def _checking_call(self, *args: Any, **kwargs: Any) -> Any:
    self.__class__ = Function  # check once, whatever happens
    values = _argument_values(self, args, kwargs)
    reports = [_check_one(self, cost, wrts, values, consider)
               for (cost, consider), wrts in self._gradient_checks.items()]
    del self._gradient_checks
    CHECKED.extend(reports)
    bad = next((r for r in reports if not r.passed), None)
    if bad is not None:
        raise GradientMismatchError(bad)
    return self(*args, **kwargs)


class _CheckingFunction(Function):
    """A Function before its first call, when that call checks gradients."""

    __call__ = _checking_call


def _fname(f: Any) -> str:
    return f.name or "<unnamed>"


def _through_givens(f: Any, cost: Variable, wrts: list[Variable],
                    consider: Sequence[Variable]) -> tuple[Variable, list[Variable], list[Variable]]:
    """The cost, wrts and constants as ``f`` computes them: with ``f``'s ``givens`` applied
    (the minibatch ``x -> data[i * bs:(i + 1) * bs]`` of every tutorial)."""
    from thx.compile.function import _normalize_givens
    givens = _normalize_givens(f._spec.get("givens"))
    if not givens:
        return cost, wrts, list(consider)
    exprs = [cost] + list(wrts) + list(consider)
    new = clone_replace(exprs, givens)
    # a wrt (or constant) that givens replace is the replacement's own variable in f
    new = [givens.get(v, n) for v, n in zip(exprs, new)]
    return new[0], new[1:1 + len(wrts)], new[1 + len(wrts):]


def _check_one(f: Any, cost: Variable, wrts: list[Variable], values: dict,
               consider: Sequence[Variable] = ()) -> GradientCheckReport:
    rtol, atol = _TOLERANCES.get(getattr(cost, "dtype", "float64"), _TOLERANCES["float64"])
    label = _label(cost)
    cost, wrts, consider = _through_givens(f, cost, wrts, consider)
    missing = _missing_inputs([cost] + wrts, values)
    if missing:  # the cost needs a variable that is not an input of the function
        why = f"needs {', '.join(map(str, missing))}, not an input of the function"
        report = GradientCheckReport(label, [GradientCheck(_label(w, 20), (), 0.0, 0.0, True,
                                                           why) for w in wrts], rtol, atol)
    else:
        report = check_against_jax(cost, wrts, values, rtol, atol, raise_on_mismatch=False,
                                   consider_constant=consider)
        report.cost = label
    report.function = _fname(f)
    return report


def _argument_values(f: Any, args: tuple, kwargs: dict) -> dict[Variable, Any]:
    """The values the call ``f(*args, **kwargs)`` gives its inputs (checked like the call does)."""
    values: dict[Variable, Any] = {}
    for k, spec in enumerate(f.maker.inputs):
        if k < len(args):
            v = args[k]
        elif spec.name is not None and spec.name in kwargs:
            v = kwargs[spec.name]
        elif k in f._containers:
            v = f._containers[k]
        elif spec.value is not None:
            v = spec.value
        else:
            continue  # the call itself reports the missing argument
        values[spec.variable] = f._check(k, v)
    return values


# ------------------------------------------------------------------------ finite differences

class numeric_grad:
    """Central finite-difference gradient of a function of NumPy arrays (Theano's helper).

    Parameters
    ----------
    f : callable
        Takes ``len(pt)`` arrays, returns a scalar.
    pt : list of ndarray
    eps : float, optional
    """

    type_eps = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}

    def __init__(self, f, pt, eps: float | None = None, out_type=None) -> None:
        # C order: reshape(-1) below must be a view (a Fortran-ordered point was never perturbed)
        pt = [np.array(p, dtype=p.dtype if hasattr(p, "dtype") else "float64", order="C") for p in pt]
        self.gf = []
        for k, p in enumerate(pt):
            e = eps or self.type_eps.get(str(p.dtype), 1e-7)
            g = np.zeros_like(p, dtype="float64")
            flat = p.reshape(-1)
            gflat = g.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + e
                fp = float(np.asarray(f(*pt)))
                flat[j] = orig - e
                fm = float(np.asarray(f(*pt)))
                flat[j] = orig
                gflat[j] = (fp - fm) / (2 * e)
            self.gf.append(g)

    @staticmethod
    def abs_rel_err(a, b):
        abs_err = np.abs(a - b)
        rel_err = abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8)
        return abs_err, rel_err

    def max_err(self, g_pt, abs_tol: float, rel_tol: float):
        """``(arg, position, abs_err, rel_err)`` of the worst element."""
        worst = (0, 0, 0.0, 0.0)
        worst_score = -np.inf
        for k, (a, b) in enumerate(zip(g_pt, self.gf)):
            a = np.asarray(a, dtype="float64")
            if a.shape != b.shape:
                raise ValueError(f"argument {k}: analytic gradient shape {a.shape} != numeric {b.shape}")
            ae, re = self.abs_rel_err(a, b)
            score = np.minimum(ae / abs_tol, re / rel_tol)
            if score.size:
                pos = int(np.argmax(score))
                if score.flat[pos] > worst_score:
                    worst_score = score.flat[pos]
                    worst = (k, pos, float(ae.flat[pos]), float(re.flat[pos]))
        return worst + (worst_score,)


def verify_grad(fun, pt, n_tests: int = 2, rng=None, eps: float | None = None, out_type=None,
                abs_tol: float | None = None, rel_tol: float | None = None, mode=None,
                cast_to_output_type: bool = False, no_debug_ref: bool = True) -> None:
    """Check ``grad`` of ``fun`` against finite differences at ``pt`` (Theano's signature).

    ``fun`` takes symbolic tensors (one per element of ``pt``) and returns a
    tensor; a random projection of it gives the scalar cost.

    Raises
    ------
    GradientError
        When the symbolic and numeric gradients differ beyond tolerance.

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.gradient import verify_grad
    >>> verify_grad(lambda x: T.tanh(x) * x, [np.array([0.3, -1.2])], rng=np.random.RandomState(0))
    """
    rng = rng if rng is not None else np.random.RandomState(42)
    pt = [np.array(p) for p in pt]
    for k, p in enumerate(pt):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad can work only with floating point inputs; argument {k} has "
                            f"dtype {p.dtype}")
    tensor_pt = [T.TensorType(str(p.dtype), (False,) * p.ndim)(f"input {k}") for k, p in enumerate(pt)]
    o = fun(*tensor_pt)
    if isinstance(o, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single tensor")
    o = T.as_tensor_variable(o)
    f_o = function(tensor_pt, o, on_unused_input="ignore")
    o_val = np.asarray(f_o(*pt))
    dtype = o.dtype if o.dtype in ("float32", "float64") else "float64"
    big = dtype == "float64"
    abs_tol = abs_tol if abs_tol is not None else (1e-4 if big else 1e-2)
    rel_tol = rel_tol if rel_tol is not None else (1e-4 if big else 1e-2)
    for _ in range(n_tests):
        proj = np.asarray(rng.rand(*o_val.shape) + 0.5, dtype=dtype)  # rand() of () is a float
        t_r = T.constant(proj)
        cost = T.sum(t_r * o)
        f_cost = function(tensor_pt, cost, on_unused_input="ignore")
        g = grad(cost, tensor_pt, disconnected_inputs="ignore")
        f_g = function(tensor_pt, g, on_unused_input="ignore")
        analytic = f_g(*pt)
        num = numeric_grad(f_cost, pt, eps)
        k, pos, ae, re, score = num.max_err(analytic, abs_tol, rel_tol)
        if score > 1:
            raise GradientError(k, pos, pt[k].shape, float(np.asarray(analytic[k]).flat[pos]),
                                float(num.gf[k].flat[pos]), ae, re, abs_tol, rel_tol)


verify_grad.E_grad = GradientError  # type: ignore[attr-defined]

