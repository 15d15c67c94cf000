"""The ``thx`` command: run, info, check, tutorial (subprocesses where the process matters)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np

import thx
from thx.__main__ import TUTORIAL, main

ROOT = str(Path(__file__).resolve().parents[1])
# The subprocesses run in tmp_path, where Python would import the *installed* thx (an editable
# install of another checkout, possibly mid-merge: "No module named 'thx.compile.function'").
# PYTHONPATH makes them import the thx under test.
ENV = {k: v for k, v in os.environ.items() if k not in ("THX_FLAGS", "THEANO_FLAGS", "THXRC")}
ENV["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")


def test_subprocesses_import_the_thx_under_test(tmp_path):
    r = _run([sys.executable, "-c", "import thx; print(thx.__file__)"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).resolve() == Path(thx.__file__).resolve()


def _run(args, tmp_path, env=None):
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**ENV, **(env or {})})


def test_run_executes_a_theano_script_unchanged(tmp_path):
    script = tmp_path / "logistic.py"
    script.write_text(textwrap.dedent("""\
        import sys
        import numpy
        import theano
        import theano.tensor as T
        from theano import function, pp
        from theano.ifelse import ifelse
        from theano.tensor.shared_randomstreams import RandomStreams
        x = T.dmatrix('x')
        s = T.sum(1 / (1 + T.exp(-x)))
        dlogistic = function([x], theano.gradient.grad(s, x))
        print(repr(dlogistic([[0, 1], [-1, -2]]).tolist()))
        a = T.dscalar('a')
        print(function([a], ifelse(T.lt(a, 0), -a, T.nnet.sigmoid(a)))(-3.0))
        print(function([], RandomStreams(seed=1).uniform((3,)))().shape, sys.argv[1:])
        """))
    r = _run([sys.executable, "-m", "thx", "run", str(script), "--lr", "0.1"], tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    x = np.array([[0, 1], [-1, -2]], dtype=float)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(eval(lines[0]), s * (1 - s))
    assert lines[1] == "3.0" and lines[2] == "(3,) ['--lr', '0.1']"


def test_run_reports_theano_names_thx_lacks(tmp_path):
    script = tmp_path / "fourier.py"
    script.write_text("import theano\nfrom theano.tensor import fourier\n")
    r = _run([sys.executable, "-m", "thx", "run", str(script)], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith(
        "thx.alias.NotSupportedError: theano.tensor.fourier is not supported by thx yet")


def test_info_lists_versions_devices_and_flag_sources(capsys):
    with thx.config.change_flags(floatX="float32"):
        assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"jax {jax.__version__}" in out and f"thx {thx.__version__}" in out
    assert "  cpu:0  cpu" in out and "selected device: cpu:0 (device=cpu, from" in out
    flag_lines = {line.split()[0]: line.split() for line in out.split("flags:")[1].splitlines()[2:]}
    assert set(flag_lines) == {name for name, _, _ in thx.config.items()}
    assert flag_lines["floatX"][1:] == ["float32", "change_flags"]


def test_info_fails_clearly_for_a_missing_device(tmp_path):
    console = Path(sys.executable).parent / "thx"  # the installed console script
    r = _run([str(console), "info"], tmp_path, {"THX_FLAGS": "device=cuda"})
    assert r.returncode == 1
    assert "device=cuda was requested" in r.stderr and "Available platforms: cpu" in r.stderr


def test_check_prints_every_gradient_and_fails_on_a_wrong_one(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""\
        import numpy, jax.numpy as jnp
        import theano, theano.tensor as T
        from theano.gof.graph import Apply
        from theano.gof.op import Op
        from thx.lowering.registry import register

        class Cube(Op):  # x ** 3 with a wrong gradient (2 x**2 instead of 3 x**2)
            def make_node(self, x):
                x = T.as_tensor_variable(x)
                return Apply(self, [x], [x.type()])
            def L_op(self, inputs, outputs, grads):
                return [grads[0] * 2 * inputs[0] ** 2]
        register(Cube)(lambda op, node: lambda x: x ** 3)

        x = T.dvector('x')
        w = theano.shared(numpy.array([0.5, -0.5]), name='w')
        cost = T.sum(T.tanh(x * w))
        train = theano.function([x], cost, updates=[(w, w - 0.1 * T.grad(cost, w))], name='train')
        train([1.0, 2.0])
        f = theano.function([x], T.grad(T.sum(Cube()(x)), x), name='cube_grad')
        f([1.0, 2.0])
        """))
    r = _run([sys.executable, "-m", "thx", "check", str(script)], tmp_path)
    assert r.returncode == 1
    assert "GradientMismatchError: thx's gradient of sum(Cube(x)) w.r.t. x differs" in r.stderr
    table = r.stdout.split("thx check: 2 gradient(s) checked against jax.grad\n")[1].splitlines()
    assert table[0].split() == ["function", "cost", "wrt", "shape", "max", "abs", "err", "max",
                                "rel", "err", "passed"]
    assert table[1].split()[0] == "train" and table[1].split()[-1] == "yes"
    cube = table[2].split()
    assert cube[0] == "cube_grad" and cube[-1] == "NO"
    # thx says 2 x**2, jax.grad 3 x**2: the worst absolute error is 4 (at x = 2), relative 1/3.
    assert float(cube[-3]) == 4.0 and abs(float(cube[-2]) - 1 / 3) < 1e-3


def test_tutorial_matches_jax(capsys):
    assert main(["tutorial"]) == 0
    out = capsys.readouterr().out
    assert "'((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))'" in out
    assert ("'((fill((x ** TensorConstant{2}), TensorConstant{1.0}) * TensorConstant{2}) * "
            "(x ** (TensorConstant{2} - TensorConstant{1})))'") in out
    assert "DIFFERENT" not in out and "skipped" not in out
    assert out.count("same result") == len(TUTORIAL)  # scan examples included
    assert "theano" not in sys.modules  # the alias is gone again
