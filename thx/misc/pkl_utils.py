"""Theano's ``theano.misc.pkl_utils``: pickle an object to a zip file whose NumPy arrays are
stored as ``.npy`` members (``dump``/``load``), named after the shared variables holding them.

The file is a zip with one member ``pkl`` (the pickle) and one ``.npy`` member per array, so
``numpy.load('model.zip')['W']`` reads a named shared variable's value without thx.  A shared
variable's value is saved as the NumPy array it holds (a value living on the device is fetched),
and loading gives back shared variables with their values, as ordinary pickling does.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import defaultdict
from typing import Any, BinaryIO

import numpy as np

from thx.graph.basic import Variable
from thx.tensor.sharedvar import SharedVariable

__all__ = ["dump", "load", "PersistentNdarrayID", "PersistentSharedVariableID", "PersistentNdarrayLoad",
           "StripPickler", "CompatUnpickler", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = pickle.DEFAULT_PROTOCOL


def _write_member(zip_file: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
    zip_file.writestr(name, buf.getvalue())


class PersistentNdarrayID:
    """Persists every ``numpy.ndarray`` met while pickling as a member ``array_<k>`` of
    ``zip_file``; the persistent id is ``'ndarray.<member>'``."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip_file = zip_file
        self.count = 0
        self.seen: dict[int, str] = {}
        self._keep: list[Any] = []  # the arrays seen: their ids must stay theirs while pickling

    def _resolve_name(self, obj: np.ndarray) -> str:
        name = f"array_{self.count}"
        self.count += 1
        return name

    def __call__(self, obj: Any) -> str | None:
        if type(obj) is np.ndarray and obj.dtype != object:
            if id(obj) not in self.seen:
                name = self._resolve_name(obj)
                _write_member(self.zip_file, name, obj)
                self.seen[id(obj)] = f"ndarray.{name}"
                self._keep.append(obj)
            return self.seen[id(obj)]
        return None


class PersistentSharedVariableID(PersistentNdarrayID):
    """As :class:`PersistentNdarrayID`, naming a shared variable's array after the variable
    (``W``, then ``W_2``, ``W_3`` for duplicates).

    Parameters
    ----------
    zip_file : zipfile.ZipFile
    allow_unnamed : bool
        Unnamed shared variables are saved as ``array_<k>`` (else ValueError).
    allow_duplicates : bool
        Several shared variables may share a name (else ValueError).
    """

    def __init__(self, zip_file: zipfile.ZipFile, allow_unnamed: bool = True,
                 allow_duplicates: bool = True) -> None:
        super().__init__(zip_file)
        self.name_counter: dict[str, int] = defaultdict(int)
        self.ndarray_names: dict[int, str] = {}
        self.allow_unnamed = allow_unnamed
        self.allow_duplicates = allow_duplicates

    def name_array(self, var: SharedVariable, array: Any) -> None:
        """Record that ``array`` (about to be pickled) is ``var``'s value."""
        if var.name:
            if var.name == "pkl":
                raise ValueError("can't pickle shared variable with name `pkl`")
            if array is not None:
                self.ndarray_names[id(array)] = var.name
                self._keep.append(array)
        elif not self.allow_unnamed:
            raise ValueError(f"unnamed shared variable, {var}")

    def _resolve_name(self, obj: np.ndarray) -> str:
        name = self.ndarray_names.get(id(obj))
        if name is None:
            return super()._resolve_name(obj)
        count = self.name_counter[name]
        self.name_counter[name] += 1
        if count:
            if not self.allow_duplicates:
                raise ValueError(f"multiple shared variables with the name `{name}` found")
            name = f"{name}_{count + 1}"
        return name


class _ZipPickler(pickle.Pickler):
    """A pickler whose ``persistent_id`` is ``persistent``; a shared variable's state is taken
    once so that the array it pickles can be named after it."""

    def __init__(self, f: BinaryIO, protocol: int, persistent: Any) -> None:
        super().__init__(f, protocol=protocol)
        self._protocol = pickle.HIGHEST_PROTOCOL if protocol is None or protocol < 0 else protocol
        self._persistent = persistent

    def persistent_id(self, obj: Any) -> Any:
        return self._persistent(obj)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, SharedVariable) and hasattr(self._persistent, "name_array"):
            rv = obj.__reduce_ex__(max(2, self._protocol))
            state = rv[2] if len(rv) > 2 else None
            self._persistent.name_array(obj, state.get("_stored") if isinstance(state, dict) else None)
            return rv
        return NotImplemented


def dump(obj: Any, file_handler: BinaryIO, protocol: int = DEFAULT_PROTOCOL,
         persistent_id: Any = PersistentSharedVariableID) -> None:
    """Pickle ``obj`` to the zip file ``file_handler``, its arrays as ``.npy`` members.

    Examples
    --------
    >>> import io, numpy as np, thx
    >>> foo_1 = thx.shared(np.array(0), name='foo')
    >>> foo_2 = thx.shared(np.array(1), name='foo')
    >>> buf = io.BytesIO()
    >>> dump((foo_1, foo_2, np.array(2)), buf)
    >>> sorted(np.load(io.BytesIO(buf.getvalue())).keys())
    ['array_0', 'foo', 'foo_2', 'pkl']
    >>> a, b, c = load(io.BytesIO(buf.getvalue()))
    >>> a.get_value(), b.get_value(), c
    (array(0), array(1), array(2))
    """
    with zipfile.ZipFile(file_handler, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zip_file:
        buf = io.BytesIO()
        _ZipPickler(buf, protocol, persistent_id(zip_file)).dump(obj)
        zip_file.writestr("pkl", buf.getvalue())


class PersistentNdarrayLoad:
    """Reads the arrays :class:`PersistentNdarrayID` wrote (each once)."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip_file = zip_file
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, persid: str) -> np.ndarray:
        kind, name = persid.split(".", 1)
        if kind != "ndarray":
            raise pickle.UnpicklingError(f"pkl_utils.load: unknown persistent id {persid!r} (thx "
                                         f"reads NumPy arrays; GPU arrays are Theano's)")
        if name not in self.cache:
            with self.zip_file.open(name) as f:
                self.cache[name] = np.lib.format.read_array(f, allow_pickle=False)
        return self.cache[name]


class _ZipUnpickler(pickle.Unpickler):
    def __init__(self, f: BinaryIO, persistent: Any) -> None:
        super().__init__(f)
        self._persistent = persistent

    def persistent_load(self, pid: Any) -> Any:
        return self._persistent(pid)


def load(f: BinaryIO, persistent_load: Any = PersistentNdarrayLoad) -> Any:
    """The object :func:`dump` wrote to the zip file ``f``."""
    with zipfile.ZipFile(f, "r") as zip_file:
        return _ZipUnpickler(io.BytesIO(zip_file.read("pkl")), persistent_load(zip_file)).load()


class StripPickler(pickle._Pickler):  # type: ignore[name-defined]  (Python's: its save() is called per object)
    """A pickler that leaves out the debugging tags of variables (``trace``, ``test_value`` and
    ``extra_tag_to_remove``), for smaller files (Theano's; thx puts the tags back on the
    variables after pickling them, where Theano deleted them).

    Examples
    --------
    >>> import io, thx.tensor as T
    >>> x = T.dvector('x')
    >>> StripPickler(io.BytesIO(), protocol=-1).dump(x * 2)
    """

    def __init__(self, file: BinaryIO, protocol: int = 0, extra_tag_to_remove: list | None = None) -> None:
        super().__init__(file, protocol)
        self.tag_to_remove = ["trace", "test_value"] + list(extra_tag_to_remove or [])

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:  # type: ignore[override]
        tag = getattr(obj, "tag", None) if isinstance(obj, Variable) else None
        removed = {}
        if tag is not None and hasattr(tag, "__dict__"):
            removed = {k: tag.__dict__.pop(k) for k in self.tag_to_remove if k in tag.__dict__}
        try:
            return super().save(obj, save_persistent_id)
        finally:
            if removed:
                tag.__dict__.update(removed)


class CompatUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """An unpickler for files written by Python 2 (give ``encoding='latin1'``), as Theano's."""
