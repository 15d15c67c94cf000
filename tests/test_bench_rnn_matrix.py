"""``python -m bench.rnn_matrix --quick`` on a few rows: thx and hand-written JAX agree.

Behaviour only (the rows run, the gradients and costs match JAX's, the report
and the peak-RSS subprocess work); timings are printed by the benchmark, never
asserted.
"""

import numpy as np

from bench.rnn_matrix import BEGIN, END, cases, format_report, peak_rss, run, write_docs


def test_matrix_covers_every_layout_and_cell():
    names = [c.name for c in cases(quick=True)]
    assert len(names) == 15 and len(set(names[:12])) == 12
    assert any("taps [-2, -1]" in n for n in names)
    long = [c for c in cases(quick=False) if c.steps == 1000]
    assert [(c.cell, c.batched) for c in long] == [("lstm", True), ("lstm", False)]


def test_quick_rows_agree_with_jax():
    only = ["gru, batched state, weights left", "lstm, vector state, weights right", "taps"]
    result = run(quick=True, only=only)
    rows = result["rows"]
    assert len(rows) == 4  # the vector LSTM twice: the matrix's row and the long one
    for r in rows:
        assert r.error is None, f"{r.case.name}: {r.error}"
        assert r.agree, f"{r.case.name}: thx and JAX differ (max rel. error {r.max_rel_err:.2e})"
        assert r.thx_grad > 0 and r.jax_fwd > 0 and r.xla_mem["thx"] > 0 and r.xla_mem["jax"] > 0
    report = format_report(result)
    assert "| tanh, 2 sequences, taps [-2, -1] |" in report


def test_peak_rss_child_reports_a_plausible_figure():
    k = next(i for i, c in enumerate(cases(quick=True)) if c.cell == "tanh" and not c.batched)
    peak = peak_rss(k, quick=True, side="jax")
    assert np.isfinite(peak) and -(2 ** 24) < peak < 2 ** 30


def test_write_docs_replaces_only_its_block(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# P\n\nbefore\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    write_docs("new", page)
    assert page.read_text() == f"# P\n\nbefore\n\n{BEGIN}\nnew\n{END}\n\nafter\n"


_ALLOCATE = """
import ctypes, json
from bench import heap
libc = ctypes.CDLL(None)
libc.malloc.restype = libc.calloc.restype = libc.realloc.restype = ctypes.c_void_p
libc.malloc.argtypes, libc.free.argtypes = [ctypes.c_size_t], [ctypes.c_void_p]
libc.calloc.argtypes, libc.realloc.argtypes = [ctypes.c_size_t] * 2, [ctypes.c_void_p, ctypes.c_size_t]
old = libc.malloc(3 << 20)              # before the reset: neither it nor its free is counted
heap.reset()
a = libc.malloc(1 << 20)
b = libc.calloc(2, 1 << 19)             # 1 MiB
libc.free(old)
c = libc.realloc(a, 2 << 20)            # 1 MiB -> 2 MiB: 3 MiB alive
libc.free(b)                            # 2 MiB alive
d = libc.malloc(1 << 19)                # 2.5 MiB alive
libc.free(c); libc.free(d)
print(json.dumps({"peak": heap.peak()}))
"""


def test_heap_probe_counts_what_is_alive_at_once(c_compiler):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from bench import heap
    env = heap.environment()
    assert env is not None
    root = Path(heap.__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-c", _ALLOCATE], env=env, cwd=root, capture_output=True,
                         text=True, check=True)
    peak = json.loads(res.stdout.strip().splitlines()[-1])["peak"]
    # 3 MiB from the test's own buffers at the realloc (the interpreter's own allocations of 4 KB
    # or more made meanwhile, if any, are alive too: a few KB)
    assert 3 << 20 <= peak < (3 << 20) + (64 << 10)


def test_peak_heap_child_reports_the_gradients_buffers(c_compiler):
    from bench.rnn_matrix import peak_heap
    # the full-size vector tanh RNN (the quick sizes' buffers are below the probe's 4 KB floor)
    k = next(i for i, c in enumerate(cases(quick=False)) if c.cell == "tanh" and not c.batched)
    case = cases(quick=False)[k]
    thx, jax = peak_heap(k, quick=False, side="thx"), peak_heap(k, quick=False, side="jax")
    D, H, T = case.n_in, case.hidden, case.steps
    weights = 8 * (H * D + H * H)  # the gradients of W and U (float64), a call's outputs
    states = 8 * T * H  # both sides keep the 100 states for the backward pass
    assert weights + states <= thx < 2 ** 24 and weights + states <= jax < 2 ** 24
