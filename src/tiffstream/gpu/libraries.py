"""NVIDIA's C libraries from their pip wheels (the ``nvidia`` namespace package), loaded through ctypes with the
signatures of the functions we call; every function returns a C ``int`` status."""

from __future__ import annotations

import ctypes
import pathlib
from typing import Any

from ..errors import BackendUnavailableError

__all__ = ["load"]


def load(pattern: str, signatures: dict[str, list[Any]], missing: str, sonames: tuple[str, ...] = ()) -> ctypes.CDLL:
    """The first library matching ``pattern`` below the ``nvidia`` namespace package, else the first of ``sonames``
    the system's loader finds, with ``signatures`` (name -> argument types) bound; ``BackendUnavailableError``
    saying ``missing`` when there is none."""
    try:
        import nvidia
    except ImportError:
        folders: list[str] = []
    else:
        folders = list(nvidia.__path__)
    found = None
    for folder in folders:
        candidates = sorted(pathlib.Path(folder).glob(pattern))
        if candidates:
            found = ctypes.CDLL(str(candidates[0]))
            break
    for name in () if found is not None else sonames:
        try:
            found = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if found is None:
        raise BackendUnavailableError(missing)
    for name, argtypes in signatures.items():
        function = getattr(found, name)
        function.argtypes = argtypes
        function.restype = ctypes.c_int
    return found
