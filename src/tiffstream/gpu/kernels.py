"""Compile and cache the CUDA kernels in ``cuda/*.cu`` (NVRTC through ``cupy.RawModule``), per device."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import cupy as cp

__all__ = ["kernel", "launch_per_chunk"]

_SOURCE = pathlib.Path(__file__).with_name("cuda") / "tiff.cu"


@functools.cache
def _module(device: int) -> Any:
    with cp.cuda.Device(device):
        return cp.RawModule(code=_SOURCE.read_text(), options=("-std=c++14",))


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
