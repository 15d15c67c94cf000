"""Benchmarks: thx against hand-written JAX (and PyTensor where installed).

``python -m bench`` runs them all and prints a table of compile and call
times with thx / JAX ratios (``bench/run.py``); the workloads are in
``bench/workloads.py``.  ``bench_optimizer.py`` and ``bench_jacobian.py`` are
standalone benchmarks of the rewriter and of the tutorial's Jacobian.
"""
