"""``theano.function_dump``: pickle the arguments of a ``function`` call, to rebuild it elsewhere."""

from __future__ import annotations

import pickle
from typing import Any

__all__ = ["function_dump"]


def function_dump(filename: str, inputs: Any, outputs: Any = None, mode: Any = None,
                  updates: Any = None, givens: Any = None, no_default_updates: bool = False,
                  accept_inplace: bool = False, name: str | None = None,
                  rebuild_strict: bool = True, allow_input_downcast: bool | None = None,
                  profile: Any = None, on_unused_input: str | None = None,
                  extra_tag_to_remove: Any = None) -> None:
    """Write the arguments of ``thx.function(...)`` to ``filename`` (a pickle), graph and all.

    Replace ``thx.function(...)`` by ``thx.function_dump('f.pkl', ...)`` to
    make a reproducible case: the file holds a dict of ``function``'s keyword
    arguments (shared variables with their current values), and
    ``thx.function(**pickle.load(open('f.pkl', 'rb')))`` compiles it again.

    Parameters
    ----------
    filename : str
    inputs, outputs, mode, updates, givens, no_default_updates, accept_inplace, name,
    rebuild_strict, allow_input_downcast, profile, on_unused_input
        As for ``thx.function``.
    extra_tag_to_remove : list of str, optional
        Names of ``tag`` attributes to drop from the variables before pickling.

    Examples
    --------
    >>> import os, pickle, tempfile, thx, thx.tensor as T
    >>> x = T.dscalar('x')
    >>> path = os.path.join(tempfile.mkdtemp(), 'f.pkl')
    >>> thx.function_dump(path, [x], x * 2)
    >>> with open(path, 'rb') as fh:
    ...     d = pickle.load(fh)
    >>> thx.function(**d)(3.0)
    array(6.)
    """
    if not isinstance(filename, str):
        raise TypeError(f"function_dump: filename must be a str, got {type(filename).__name__}")
    spec = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                no_default_updates=no_default_updates, accept_inplace=accept_inplace, name=name,
                rebuild_strict=rebuild_strict, allow_input_downcast=allow_input_downcast,
                profile=profile, on_unused_input=on_unused_input)
    removed = []
    if extra_tag_to_remove:
        from thx.graph.basic import Variable, ancestors
        roots = [v for v in _variables(spec) if isinstance(v, Variable)]
        for v in ancestors(roots):
            for tag in extra_tag_to_remove:
                if hasattr(v.tag, tag):
                    removed.append((v, tag, getattr(v.tag, tag)))
                    delattr(v.tag, tag)
    try:
        with open(filename, "wb") as fh:
            pickle.dump(spec, fh, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for v, tag, value in removed:
            setattr(v.tag, tag, value)


def _variables(obj: Any):
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        else:
            yield getattr(o, "variable", o)  # In / Out wrap a variable
