"""Check batches of random recipes: thx (optimized, unoptimized) against JAX.

For every recipe of a batch the checked quantities are its value, the
gradient of ``sum(proj * out)`` w.r.t. each float input (``T.grad`` vs
``jax.grad``), the R operator along random tangents (``T.Rop`` vs
``jax.jvp``) and the L operator with a random cotangent (``T.Lop`` vs
``jax.vjp``).  All recipes of a batch go into ONE ``thx.function`` and ONE
``jax.jit``, which keeps the cost per graph to a few milliseconds; the
oracle usually takes the three products from ``jax.jacfwd``'s Jacobians
(see ``Case.jax_ref``).
"""

from __future__ import annotations

import os
import pickle

import numpy as np

import thx
import thx.tensor as T
from thx.graph.basic import ancestors
from tests.oracle import numpy_eval, scaled_allclose

from tests.reliability.graphgen import Recipe, replay


class Case:
    """The thx side of one recipe: symbolic inputs, outputs and their values."""

    def __init__(self, r: Recipe, gi: int) -> None:
        self.r = r
        rng = np.random.RandomState(1000 + gi)
        out = r.vars[r.output]
        anc = set(ancestors([out]))
        self.used = [k for k in range(r.n_in) if r.vars[k] in anc]
        self.float_in = [k for k in self.used if r.inputs[k].kind == "float"]
        xs = [r.vars[k] for k in self.float_in]
        self.out = out
        odt = out.dtype
        out_shape = np.shape(r_value(r))
        self.proj = rng.uniform(0.5, 1.5, size=out_shape).astype(odt)
        cost = T.sum(T.constant(self.proj) * out)
        self.tangent_vars = [x.type(f"{x.name}_t") for x in xs]
        self.cot_var = out.type(f"{r.inputs[0].name}_cot")
        self.tangents = [rng.normal(size=r.inputs[k].shape).astype(r.inputs[k].dtype)
                         for k in self.float_in]
        self.cot = rng.normal(size=out_shape).astype(odt)
        if xs:
            grads = T.grad(cost, xs, disconnected_inputs="ignore")
            rop = T.Rop(out, xs, self.tangent_vars, disconnected_outputs="ignore")
            lops = T.Lop(out, xs, self.cot_var, disconnected_inputs="ignore")
        else:
            grads, rop, lops = [], None, []
        self.outputs = [out] + list(grads) + ([rop] if rop is not None else []) + list(lops)
        self.labels = (["value"] + [f"grad[{r.inputs[k].name}]" for k in self.float_in]
                       + (["Rop"] if rop is not None else [])
                       + [f"Lop[{r.inputs[k].name}]" for k in self.float_in])
        self.inputs = [r.vars[k] for k in self.used] + self.tangent_vars + [self.cot_var]
        self.values = [r.inputs[k].value for k in self.used] + self.tangents + [self.cot]
        self.loose = any(i.dtype == "float32" for i in r.inputs) or any(
            s.params.get("out") == "float32" for s in r.steps)

    # -- the JAX oracle for this recipe (traced inside the batch's jax.jit)
    def jax_ref(self, vals, direct: bool = False):
        """JAX's value and derivatives.

        ``direct``: ``jax.grad``, ``jax.jvp`` and ``jax.vjp`` themselves.  Otherwise the
        value and the Jacobians from ``jax.jacfwd`` (a vmapped ``jax.jvp``), from which
        the same three products are taken in NumPy (``derive``): about a third of the
        XLA program, and XLA compile time is what bounds how many graphs a run checks.
        """
        import jax
        import jax.numpy as jnp
        r = self.r
        n_used = len(self.used)
        given = dict(zip(self.used, vals[:n_used]))
        tang = vals[n_used:n_used + len(self.float_in)]
        cot = vals[-1]
        base = [given.get(k, r.inputs[k].value) for k in range(r.n_in)]

        def f(*fv):
            ins = list(base)
            for k, v in zip(self.float_in, fv):
                ins[k] = v
            return replay(r, "jnp", ins)[r.output]

        fv = tuple(given[k] for k in self.float_in)
        if not fv:
            return [f()]
        argnums = tuple(range(len(fv)))
        if not direct:
            jac, value = jax.jacfwd(lambda *a: (f(*a), f(*a)), argnums=argnums, has_aux=True)(*fv)
            return [value] + list(jac)
        value = f(*fv)
        proj = jnp.asarray(self.proj)
        grads = jax.grad(lambda *a: jnp.sum(proj * f(*a)), argnums=argnums)(*fv)
        jvp = jax.jvp(f, fv, tuple(tang))[1]
        _, pullback = jax.vjp(f, *fv)
        lops = pullback(cot)
        return [value] + list(grads) + [jvp] + list(lops)

    def derive(self, ref):
        """grad, Rop and Lop from the value and the Jacobians ``d out / d input``."""
        value, jacs = ref[0], ref[1:]
        if not jacs:
            return [value]
        nd = np.ndim(value)
        proj = self.proj.astype("float64")
        cot = self.cot.astype("float64")
        grads = [np.tensordot(proj, j, axes=nd) for j in jacs]
        rop = sum(np.tensordot(j, t.astype("float64"), axes=np.ndim(t))
                  for j, t in zip(jacs, self.tangents))
        lops = [np.tensordot(cot, j, axes=nd) for j in jacs]
        return [value] + grads + [rop] + lops


def r_value(r: Recipe):
    """The output's concrete shape, from a NumPy replay."""
    return replay(r, "np", [i.value for i in r.inputs])[r.output]


def tolerances(loose: bool):
    return (2e-3, 2e-3) if loose else (1e-6, 1e-8)


def compare(case: Case, got: list, ref: list, where: str, gi: int) -> None:
    rtol, atol = tolerances(case.loose)
    assert len(got) == len(ref), f"{where}: {len(got)} results, JAX has {len(ref)}"
    for label, a, e in zip(case.labels, got, ref):
        a, e = np.asarray(a), np.asarray(e)
        if not scaled_allclose(a, e, rtol, atol):
            raise AssertionError(
                f"{where}: graph {gi}, {label} differs from JAX\n"
                f"thx ({a.dtype}{list(a.shape)}): {np.array2string(a, precision=6)}\n"
                f"jax ({e.dtype}{list(e.shape)}): {np.array2string(e, precision=6)}\n"
                f"recipe:\n{case.r.describe()}")


# (not xla_backend_optimization_level=0: with jaxlib 0.10 it computed NaNs for a scan over an
# empty array that the default level computes right)
FAST_COMPILE = {"xla_llvm_disable_expensive_passes": True}
TIMES = {"build": 0.0, "jax": 0.0, "thx_graph": 0.0, "thx_lowered": 0.0}


def check_batch(recipes: list[Recipe], lower: bool = True, compile_unoptimized: bool = False,
                direct_oracle: bool = False) -> int:
    """Check every recipe of the batch against JAX; returns how many graphs were checked.

    Always: the optimized graph (FAST_RUN rewrites) and the unoptimized graph,
    both evaluated by the ops' NumPy ``perform``.  ``lower``: also run the
    optimized graph through its ``jax.jit`` lowering (the real call path).
    ``compile_unoptimized``: also lower and run ``Mode(optimizer=None)``.
    """
    import jax
    import time
    if os.environ.get("THX_FUZZ_SAVE"):  # keep the batch about to be checked (for crashes)
        with open(os.environ["THX_FUZZ_SAVE"], "wb") as fh:
            pickle.dump(recipes, fh)
    t0 = time.perf_counter()
    cases = [Case(r, gi) for gi, r in enumerate(recipes)]
    ins = [v for c in cases for v in c.inputs]
    vals = [v for c in cases for v in c.values]
    outs = [o for c in cases for o in c.outputs]
    TIMES["build"] += time.perf_counter() - t0

    def ref_all(all_vals):
        res, pos = [], 0
        for c in cases:
            res.append(c.jax_ref(all_vals[pos:pos + len(c.values)], direct=direct_oracle))
            pos += len(c.values)
        return res

    t0 = time.perf_counter()
    with jax.enable_x64(True):
        args = [np.asarray(v) for v in vals]
        # no expensive LLVM passes: the oracle runs once, its compile time is the cost (a
        # thread compiling it while thx's side runs saved nothing: tracing holds the GIL)
        ref = jax.jit(ref_all).lower(args).compile(FAST_COMPILE)(args)
        ref = [[np.asarray(x) for x in rs] for rs in ref]
    if not direct_oracle:
        ref = [c.derive(rs) for c, rs in zip(cases, ref)]
    TIMES["jax"] += time.perf_counter() - t0

    def split(flat):
        res, pos = [], 0
        for c in cases:
            res.append(flat[pos:pos + len(c.outputs)])
            pos += len(c.outputs)
        return res

    def check(got, where):
        for gi, (c, g) in enumerate(zip(cases, split(got))):
            compare(c, g, ref[gi], where, gi)

    t0 = time.perf_counter()
    f = thx.function(ins, outs, on_unused_input="ignore")  # rewrites run here; XLA on first call
    fg = f.maker.fgraph
    check(numpy_eval(fg.outputs, dict(zip(fg.inputs, vals))), "optimized graph, NumPy perform")
    check(numpy_eval(outs, dict(zip(ins, vals))), "unoptimized graph, NumPy perform")
    TIMES["thx_graph"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    if lower:
        check(f(*vals), "optimized (FAST_RUN), lowered to jax.jit")
    if compile_unoptimized:
        g = thx.function(ins, outs, on_unused_input="ignore", mode=thx.Mode(optimizer=None))
        check(g(*vals), "unoptimized (Mode(optimizer=None)), lowered to jax.jit")
    TIMES["thx_lowered"] += time.perf_counter() - t0
    return len(cases)
