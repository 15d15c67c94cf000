"""``python -m bench.hessian --quick``: every Hessian/Jacobian row runs and agrees with JAX
(``bench.hessian.run`` asserts ``allclose`` against ``jax.hessian`` / ``jax.jacrev``)."""

from bench.hessian import ROWS, format_report, run


def test_quick_rows_agree_with_jax_and_report():
    rows = run([10], quick=True)
    assert [r["name"] for r in rows] == ROWS
    assert all(r["thx"] > 0 and r["jax"] > 0 and r["jax_copy"] > 0 for r in rows)
    assert "| hessian x**2 sin | 10 |" in format_report(rows, "?")
