"""Classic Theano 1.0 programs run unchanged by ``thx run``, checked epoch by epoch against NumPy.

Each ``scripts/<name>.py`` is a plain Theano script (``import theano``); it writes its per-epoch
costs/errors as JSON to ``argv[1]``.  ``reference/<name>.py`` re-implements the same algorithm in
NumPy (hand-derived backward passes, same initialisation and data order) and its ``run(got)``
returns the values the script must have produced.  Where the script draws random numbers inside
the graph (RandomStreams), it also returns the draws and the reference consumes them, so the
comparison stays exact.  A thx gap makes the test fail; see GAPS.md for the minimal repros.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROGRAMS = ['logreg', 'mlp', 'dae', 'cae', 'rbm', 'lenet', 'elman', 'lstm', 'hmc', 'rnnrbm',
            'linesearch', 'gp', 'sparse_logreg']
RTOL = 1e-8


def run_script(name, tmp_path):
    """Run ``scripts/<name>.py`` by ``python -m thx run`` in a fresh process; return its JSON."""
    out = tmp_path / f'{name}.json'
    env = {k: v for k, v in os.environ.items() if k not in ('THX_FLAGS', 'THEANO_FLAGS', 'THXRC')}
    env['PYTHONPATH'] = str(ROOT) + os.pathsep + env.get('PYTHONPATH', '')
    env['THEANO_FLAGS'] = 'floatX=float64'
    r = subprocess.run([sys.executable, '-m', 'thx', 'run', str(HERE / 'scripts' / f'{name}.py'),
                        str(out)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    if r.returncode != 0:
        pytest.fail(f'thx run {name}.py failed (exit {r.returncode}):\n{r.stderr[-3000:]}',
                    pytrace=False)
    return json.loads(out.read_text())


def assert_same(got, want, path='result'):
    """``got`` equals ``want``: same structure, numbers equal to ``RTOL`` relative."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f'{path}: expected a dict, got {type(got).__name__}'
        assert set(got) == set(want), f'{path}: keys {sorted(got)} != {sorted(want)}'
        for k in want:
            assert_same(got[k], want[k], f'{path}[{k!r}]')
    elif isinstance(want, (list, tuple)) and (not want or not isinstance(want[0], (int, float))):
        assert isinstance(got, list) and len(got) == len(want), \
            f'{path}: length {len(got) if isinstance(got, list) else got!r} != {len(want)}'
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f'{path}[{i}]')
    elif want is None or isinstance(want, (str, bool)):
        assert got == want, f'{path}: {got!r} != {want!r}'
    else:
        g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        assert g.shape == w.shape, f'{path}: shape {g.shape} != {w.shape}'
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=1e-12, err_msg=path)


@pytest.mark.parametrize('name', PROGRAMS)
def test_program_matches_numpy_reference(name, tmp_path):
    got = run_script(name, tmp_path)
    reference = importlib.import_module(f'tests.programs.reference.{name}')
    want = reference.run(got)
    assert_same(got, want)
    assert got['epochs'], 'the script recorded no epoch'


def test_assert_same_catches_a_difference():
    assert_same({'a': [1.0, 2.0]}, {'a': [1.0, 2.0 + 1e-12]})
    with pytest.raises(AssertionError):
        assert_same({'a': [1.0, 2.0]}, {'a': [1.0, 2.0 + 1e-6]})
    with pytest.raises(AssertionError):
        assert_same({'a': [{'x': 1}]}, {'a': [{'x': 1}, {'x': 2}]})
