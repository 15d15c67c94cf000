"""Differential fuzzing: random expression graphs, thx against JAX.

Each hypothesis example is a batch of ``BATCH`` random graphs (see
``graphgen.py``) drawn from every op family: elementwise unary/binary ops with
broadcasting, reductions with axes and keepdims, dot, reshape / flatten /
transpose / dimshuffle, indexing (constant, symbolic and integer-array
indices), set/inc_subtensor, switch, join/stack, casts, and scan (recurrent
and map-like, forwards and backwards), over float64 and float32 inputs with
integer operands and index inputs.  For every graph thx's value, ``T.grad``,
``T.Rop`` and ``T.Lop`` are compared with JAX's, on:

* the optimized graph (FAST_RUN rewrites), evaluated by the ops' NumPy code;
* the unoptimized graph, evaluated the same way;
* every ``LOWER_EVERY``-th batch: the real call path, ``thx.function``
  lowered to ``jax.jit`` (and every second such batch ``Mode(optimizer=None)``
  lowered too).

The oracle is one ``jax.jit`` per batch: ``jax.jacfwd`` (value and Jacobians,
from which the gradient, JVP and VJP are taken), and on every
``LOWER_EVERY``-th batch (another one) ``jax.grad`` / ``jax.jvp`` / ``jax.vjp``
themselves.

``THX_FUZZ_EXAMPLES`` sets the number of graphs (default 1000; a nightly
run uses e.g. 20000, see docs/reliability.md).
"""

from __future__ import annotations

import math
import os
import time

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.reliability import fuzz
from tests.reliability.graphgen import HypothesisChooser, RandomChooser, generate

N_GRAPHS = int(os.environ.get("THX_FUZZ_EXAMPLES", "1000"))
BATCH = 50
LOWER_EVERY = 4
N_BATCHES = max(1, math.ceil(N_GRAPHS / BATCH))


def test_random_graphs_match_jax():
    state = {"batches": 0, "graphs": 0, "distinct": set()}
    t_start = time.perf_counter()

    @settings(derandomize=True, max_examples=N_BATCHES, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        b = state["batches"]
        # One drawn seed per graph, mixed with the batch number: hypothesis builds new
        # examples by mutating earlier ones, and graphs drawn choice by choice repeat often.
        seeds = data.draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=BATCH, max_size=BATCH))
        recipes = [generate(RandomChooser(hash((s, b, i))), tag=f"b{b}g{i}")
                   for i, s in enumerate(seeds)]
        state["distinct"].update(r.describe(names=False) for r in recipes)
        # (hypothesis' first example is its simplest: lower from the second one on)
        n = fuzz.check_batch(recipes, lower=b % LOWER_EVERY == 1,
                             compile_unoptimized=b % (2 * LOWER_EVERY) == 1,
                             direct_oracle=b % LOWER_EVERY == 3)
        state["batches"] += 1
        state["graphs"] += n

    check()
    elapsed = time.perf_counter() - t_start
    times = ", ".join(f"{k} {v:.1f}s" for k, v in fuzz.TIMES.items())
    print(f"\nthx vs JAX fuzz: {state['graphs']} random graphs checked ({len(state['distinct'])} "
          f"distinct) in {state['batches']} batches, {elapsed:.1f}s ({times})")
    assert state["graphs"] >= N_GRAPHS
    assert len(state["distinct"]) >= 0.9 * N_GRAPHS


@settings(derandomize=True, max_examples=int(os.environ.get("THX_FUZZ_SHRINKABLE", "25")),
          deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_single_graphs_drawn_choice_by_choice(data):
    """One graph per example, every structural choice drawn by hypothesis: a failure
    shrinks to a minimal graph (the batched test above reports its graph as is)."""
    r = generate(HypothesisChooser(data), tag="h")
    assert fuzz.check_batch([r], lower=False) == 1
