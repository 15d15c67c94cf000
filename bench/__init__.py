"""Benchmarks: thx against hand-written JAX (and PyTensor where installed).

``python -m bench`` runs them all and prints a table of compile and call
times with thx / JAX ratios (``bench/run.py``); the workloads are in
``bench/workloads.py``.  ``bench_optimizer.py``, ``bench_jacobian.py`` and
``bench_trace.py`` are standalone benchmarks of the rewriter, of the tutorial's
Jacobian and of recording node traces and test values while building graphs.
"""
