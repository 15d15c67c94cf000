"""``thx.sandbox``: Theano's sandbox modules that thx provides (``rng_mrg``, ``linalg``).

``theano.sandbox.cuda`` and the other GPU modules have no thx counterpart:
JAX picks the device (``THX_FLAGS=device=cuda``).
"""
