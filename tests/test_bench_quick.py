"""``python -m bench --quick``: every workload runs under thx and hand-written JAX and agrees.

Only behaviour is checked (the run completes, the results match JAX's, the
second compile is a cache hit, the report renders); timings are printed by
the benchmark, never asserted.
"""

from bench.run import BEGIN, END, format_report, run, write_docs
from bench.workloads import WORKLOADS


def test_quick_benchmark_runs_and_agrees_with_jax():
    result = run(quick=True, pytensor=False, log=lambda line: None)
    rows = result["rows"]
    assert [r.name for r in rows] == [w.name for w in WORKLOADS for _ in w.quick_sizes]
    for r in rows:
        assert r.error is None, f"{r.name} {r.size}: {r.error}"
        assert r.agree, f"{r.name} {r.size}: thx and JAX differ (max rel. error {r.max_rel_err:.2e})"
        assert r.cache_hit, f"{r.name} {r.size}: compiling the same graph again was not a cache hit"
        assert r.thx_call > 0 and r.jax_call > 0 and r.thx_compile > 0 and r.jax_compile > 0
    assert [s.nodes for s in result["scaling"]] == [30, 90]
    report = format_report(result)
    assert "| scalar_grad | scalar |" in report
    assert "time per node at 90 nodes / at 30 nodes" in report


def test_write_docs_replaces_only_the_measured_block(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nprose before\n\n{BEGIN}\nold table\n{END}\n\nprose after\n")
    write_docs("new table", page)
    assert page.read_text() == (f"# Performance\n\nprose before\n\n{BEGIN}\nnew table\n{END}\n\n"
                                f"prose after\n")
    fresh = tmp_path / "new.md"
    write_docs("a table", fresh)
    assert BEGIN in fresh.read_text() and "a table" in fresh.read_text()
