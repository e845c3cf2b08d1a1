"""Compile and cache the CUDA kernels in ``cuda/*.cu`` (NVRTC through ``cupy.RawModule``), per device.

The files are joined into one source here rather than through ``#include``: CuPy's compile cache is keyed on
the source text, so an included file that changed would not be recompiled.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import cupy as cp

__all__ = ["kernel", "launch_per_chunk"]

_FOLDER = pathlib.Path(__file__).with_name("cuda")
_COMMON = '#include "common.cuh"'


def source() -> str:
    """Every kernel's CUDA C: the common header, then each ``.cu`` file without its include of it."""
    files = sorted(_FOLDER.glob("*.cu"))
    return "\n".join([(_FOLDER / "common.cuh").read_text()] + [f.read_text().replace(_COMMON, "") for f in files])


@functools.cache
def _module(device: int) -> Any:
    with cp.cuda.Device(device):
        return cp.RawModule(code=source(), options=("-std=c++14",))


def kernel(name: str) -> Any:
    """The compiled kernel ``name`` for the current device."""
    return _module(cp.cuda.Device().id).get_function(name)


def launch_per_chunk(
    name: str, nchunks: int, work: int, args: tuple[Any, ...], threads: int = 256, per_block: int | None = None
) -> None:
    """Launch ``name`` with blockIdx.y/z over ``nchunks`` chunks and enough x-blocks for ``work`` items each
    (``per_block`` items a block; default one per thread)."""
    if nchunks == 0 or work <= 0:
        return
    blocks_x = min(max(1, -(-work // (per_block or threads))), 65535)
    y = min(nchunks, 65535)
    z = -(-nchunks // y)
    kernel(name)((blocks_x, y, z), (threads,), args)
