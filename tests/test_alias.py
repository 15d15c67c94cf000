"""install_theano_alias: ``import theano`` and its submodules give thx; missing names say so."""

import importlib
import sys

import pytest

import thx
from thx.alias import NotSupportedError, TheanoAttributeError


@pytest.fixture
def alias():
    thx.install_theano_alias()
    try:
        yield
    finally:
        thx.uninstall_theano_alias()


def test_theano_modules_are_thx_modules(alias):
    import theano
    import theano.tensor as T
    from theano import function, pp
    from theano.ifelse import ifelse
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    from theano.tensor.shared_randomstreams import RandomStreams
    import theano.gof.graph
    import theano.tensor.nnet
    import theano.gradient
    assert theano is thx and T is thx.tensor and theano.gradient is thx.gradient
    assert (function, pp) == (thx.function, thx.pp)
    assert ifelse is thx.ifelse.ifelse and RandomStreams is thx.tensor.shared_randomstreams.RandomStreams
    assert MRG_RandomStreams is importlib.import_module("thx.sandbox.rng_mrg").MRG_RandomStreams
    assert sys.modules["theano.gof.graph"] is importlib.import_module("thx.graph.basic")
    assert theano.tensor.nnet.sigmoid is thx.tensor.nnet.sigmoid
    assert thx.tensor.__spec__.name == "thx.tensor"  # the alias leaves thx's own spec alone
    x = T.dscalar("x")
    assert function([x], T.grad(x ** 2, x))(4.0) == 8.0


def test_missing_theano_names_say_thx_lacks_them(alias):
    import theano.tensor as T
    with pytest.raises(NotSupportedError, match=r"^theano\.tensor\.fourier is not supported by thx yet"):
        import theano.tensor.fourier  # noqa: F401
    with pytest.raises(NotSupportedError, match=r"^theano\.sandbox\.cuda is not supported by thx yet"):
        import theano.sandbox.cuda  # noqa: F401
    with pytest.raises(NotSupportedError, match=r"^theano\.tensor\.elemwise\.foo is not supported"):
        import theano.tensor.elemwise.foo  # noqa: F401  (a submodule of a thx plain module)
    with pytest.raises(NotSupportedError, match=r"^theano\.tensor\.nnet\.SparseBlockGemv is not supported"):
        T.nnet.SparseBlockGemv
    with pytest.raises(ImportError, match=r"^theano\.tensor\.nnet\.SparseBlockGemv is not supported"):
        from theano.tensor.nnet import SparseBlockGemv  # noqa: F401
    with pytest.raises(TheanoAttributeError, match="has no attribute 'no_such_thing'.*theano.tensor"):
        T.no_such_thing
    assert not hasattr(T, "no_such_thing")  # still an AttributeError for hasattr/getattr
    assert getattr(T, "__wrapped__", None) is None


def test_uninstall_restores_everything():
    before = vars(thx.tensor).get("__getattr__")
    thx.install_theano_alias()
    import theano.tensor.elemwise  # noqa: F401
    assert vars(thx.tensor).get("__getattr__") is not before
    assert thx.tensor.elemwise.__path__ == []
    thx.uninstall_theano_alias()
    assert "theano" not in sys.modules and thx.alias._finder not in sys.meta_path
    assert vars(thx.tensor).get("__getattr__") is before
    assert "_thx_original_getattr" not in vars(thx.tensor)
    assert not hasattr(thx.tensor.elemwise, "__path__")  # a plain module again
    with pytest.raises(ModuleNotFoundError):
        import theano  # noqa: F401,F811


def test_known_missing_lists_only_names_thx_lacks():
    """A name that thx implements must not stay on the list of Theano names it lacks."""
    import importlib

    from thx.alias import KNOWN_MISSING
    present = {mod: sorted(n for n in names if n in vars(importlib.import_module(mod)))
               for mod, names in KNOWN_MISSING.items()}
    assert not any(present.values()), f"implemented but listed as missing: {present}"
