"""``MRG_RandomStreams`` (Theano's ``theano.sandbox.rng_mrg``), drawn with ``jax.random``.

Theano's MRG31k3p generator existed to draw random numbers on the GPU; JAX's
counter-based generator already does, so thx gives ``MRG_RandomStreams``
the ``RandomStreams`` machinery with the MRG signatures (``size`` first,
``nstreams`` accepted and ignored, ``normal(truncate=...)``, ``rstate``).
The numbers differ from Theano's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.tensor import shared_randomstreams as _rs
from thx.tensor.shared_randomstreams import RandomStreams

__all__ = ["MRG_RandomStreams"]


class MRG_RandomStreams(RandomStreams):
    """Random streams with the signatures of Theano's MRG generator.

    Parameters
    ----------
    seed : int
        Seeds the generator that gives each new random variable its own seed.

    Examples
    --------
    >>> import thx
    >>> srng = MRG_RandomStreams(seed=12345)
    >>> u = srng.uniform((3,), low=2.0, high=3.0)
    >>> v = thx.function([], u)()
    >>> bool(((2.0 <= v) & (v < 3.0)).all()), v.dtype
    (True, dtype('float64'))
    """

    def __init__(self, seed: int = 12345) -> None:
        super().__init__(seed)

    @property
    def rstate(self) -> tuple:
        """The state that seeds future random variables (copy it to share streams)."""
        return self.gen_seedgen.get_state()

    @rstate.setter
    def rstate(self, state: Any) -> None:
        self.gen_seedgen = np.random.RandomState()
        self.gen_seedgen.set_state(state)

    def uniform(self, size: Any, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,
                dtype: str | None = None, nstreams: Any = None, **kwargs: Any) -> Any:
        """Uniform samples on ``[low, high)``."""
        return self.gen(_rs.uniform, size, low, high, ndim=ndim, dtype=dtype)

    def normal(self, size: Any, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,
               dtype: str | None = None, nstreams: Any = None, truncate: bool = False,
               **kwargs: Any) -> Any:
        """Normal samples; ``truncate=True`` redraws values beyond two deviations."""
        return self.gen(_rs.normal, size, avg, std, ndim=ndim, dtype=dtype, truncate=truncate)

    def truncated_normal(self, size: Any, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,
                         dtype: str | None = None, nstreams: Any = None) -> Any:
        """Normal samples within two deviations of ``avg``."""
        return self.normal(size, avg, std, ndim, dtype, truncate=True)

    def binomial(self, size: Any = None, n: Any = 1, p: Any = 0.5, ndim: int | None = None,
                 dtype: str = "int64", nstreams: Any = None, **kwargs: Any) -> Any:
        """Successes in ``n`` trials of probability ``p``."""
        return self.gen(_rs.binomial, size, n, p, ndim=ndim, dtype=dtype)

    def multinomial(self, size: Any = None, n: Any = 1, pvals: Any = None, ndim: int | None = None,
                    dtype: str = "int64", nstreams: Any = None, **kwargs: Any) -> Any:
        """Counts of ``n`` draws; ``pvals`` is a matrix with one distribution per row."""
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial: you have to specify pvals")
        return self.gen(_rs.multinomial, size, n, pvals, ndim=ndim, dtype=dtype)

    def choice(self, size: Any = 1, a: Any = 2, replace: bool = True, p: Any = None,
               ndim: int | None = None, dtype: str = "int64", nstreams: Any = None,
               **kwargs: Any) -> Any:
        """Elements of ``range(a)`` (or of ``a``) with probabilities ``p``."""
        size = (size,) if isinstance(size, (int, np.integer)) else size
        return self.gen(_rs.choice, size, a, replace, p, ndim=ndim, dtype=dtype)
