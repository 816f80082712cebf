"""Restricted loading of skeleton annotation pickles.

``pickle.load`` runs whatever callable a file names, so opening a downloaded
annotation file with it (as ``mmengine.load`` does) can execute arbitrary
code. Skeleton annotation files only ever need numpy arrays, numpy scalars
and plain Python containers, so :func:`safe_load_pickle` admits exactly the
globals those need and refuses every other one *before* it is called.

Both numpy layouts are accepted: files written with numpy 1.x name
``numpy.core.multiarray._reconstruct``, files written with numpy 2.x name
``numpy._core.multiarray._reconstruct``; either is resolved to the installed
numpy, so a numpy 1 pickle loads under numpy 2 (and vice versa) without the
``numpy.core`` deprecation shim.
"""
import _codecs
import importlib
import io
import os
import os.path as osp
import pickle
from typing import Any, Callable, Union

import numpy as np

__all__ = ['UnsafePickleError', 'PickleLoadError', 'safe_load_pickle',
           'safe_loads_pickle']

# The private numpy package that holds ``multiarray``/``numeric`` in the
# *installed* numpy (renamed ``numpy._core`` in numpy 2.0).
_NUMPY_CORE = ('numpy._core'
               if int(np.__version__.split('.')[0]) >= 2 else 'numpy.core')

# (submodule of numpy's core package, name) -> why it is safe.
_NUMPY_CORE_GLOBALS = {
    ('multiarray', '_reconstruct'): 'rebuilds an ndarray (pickle protocols '
                                    '0-4)',
    ('multiarray', 'scalar'): 'rebuilds a numpy scalar from raw bytes',
    ('numeric', '_frombuffer'): 'rebuilds an ndarray (pickle protocol 5)',
}
_NUMPY_TOP_GLOBALS = ('ndarray', 'dtype')
_BUILTIN_GLOBALS = ('set', 'frozenset', 'bytearray', 'complex')


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global that is not needed by numpy arrays or plain
    containers (e.g. ``os.system``); nothing it names was called."""


class PickleLoadError(pickle.UnpicklingError):
    """A pickle file is truncated, corrupt or not a pickle at all."""


def _latin1_encode(obj: str, encoding: str = 'latin1') -> bytes:
    # Protocols 0-2 store ``bytes`` (e.g. numpy's raw array data) as
    # ``_codecs.encode(text, 'latin1')``; nothing else needs ``_codecs``.
    if encoding not in ('latin1', 'latin-1', 'iso-8859-1'):
        raise UnsafePickleError(
            f'_codecs.encode is only admitted for latin1, got {encoding!r}.')
    return _codecs.encode(obj, encoding)


def _resolve_allowed(module: str, name: str) -> Union[Callable, None]:
    """Return the object a safe ``module.name`` refers to, else ``None``."""
    if module == 'numpy' and name in _NUMPY_TOP_GLOBALS:
        return getattr(np, name)
    for prefix in ('numpy.core.', 'numpy._core.'):
        if module.startswith(prefix):
            sub = module[len(prefix):]
            if (sub, name) in _NUMPY_CORE_GLOBALS:
                # Resolve in the installed numpy, whichever layout the file
                # was written with.
                return getattr(
                    importlib.import_module(f'{_NUMPY_CORE}.{sub}'), name)
            return None
    if module in ('builtins', '__builtin__') and name in _BUILTIN_GLOBALS:
        return getattr(__import__('builtins'), name)
    if module == 'collections' and name == 'OrderedDict':
        from collections import OrderedDict
        return OrderedDict
    if module == '_codecs' and name == 'encode':
        return _latin1_encode
    return None


class _RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` is an allowlist."""

    def __init__(self, file, source: str) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        obj = _resolve_allowed(module, name)
        if obj is None:
            raise UnsafePickleError(
                f'Refused to load {self._source}: it references the global '
                f'"{module}.{name}", which is neither a numpy array '
                f'component nor a plain container. Loading it with plain '
                f'pickle would call that object (arbitrary code execution); '
                f'only load such a file if you trust its origin.')
        return obj


def _load(file, source: str) -> Any:
    try:
        return _RestrictedUnpickler(file, source).load()
    except UnsafePickleError as exc:
        if source in str(exc):
            raise
        raise UnsafePickleError(f'Refused to load {source}: {exc}') from None
    except Exception as exc:  # truncated / corrupt data fails in many ways
        raise PickleLoadError(
            f'Could not read {source}: the file is truncated, corrupt or '
            f'not a pickle ({type(exc).__name__}: {exc}).') from exc


def safe_load_pickle(path: Union[str, os.PathLike]) -> Any:
    """Load a pickle file that may only contain numpy arrays and containers.

    Admitted globals: ``numpy.ndarray``, ``numpy.dtype``, numpy's
    ``_reconstruct``, ``scalar`` and ``_frombuffer`` (under ``numpy.core.*``
    and ``numpy._core.*``), ``collections.OrderedDict``, ``set``,
    ``frozenset``, ``bytearray``, ``complex`` and latin1
    ``_codecs.encode`` (bytes in protocols 0-2, e.g. ``mmengine.dump``).

    Args:
        path (str | PathLike): The pickle file.

    Returns:
        The unpickled object (for annotation files a ``dict`` or ``list``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafePickleError: The file names any other global (nothing named
            in it has been called).
        PickleLoadError: The file is truncated or corrupt.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        if osp.exists(path):
            raise IsADirectoryError(f'Annotation file {path} is not a file.')
        raise FileNotFoundError(f'Annotation file {path} does not exist.')
    with open(path, 'rb') as f:
        return _load(f, path)


def safe_loads_pickle(data: bytes, source: str = '<bytes>') -> Any:
    """Like :func:`safe_load_pickle` for in-memory ``data``; ``source``
    names it in error messages."""
    return _load(io.BytesIO(data), source)
