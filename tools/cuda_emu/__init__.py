"""Our CUDA kernels compiled for the CPU (``cuda_emu.h``: threads for a block's threads, barriers for its
synchronisation), to check what they compute where no GPU is; never for speed.

``build(kernel, host_code, directory)`` compiles ``src/tiffstream/gpu/cuda/<kernel>`` with ``common.cuh`` and
``host_code`` (``extern "C"`` functions that call ``emu_launch``) into a shared library and loads it.
``extern __shared__`` arrays become pointers into one buffer of the process. Needs ``g++`` (C++20).
``decode_chunks`` runs a kernel of the decoders' form on byte strings.
"""

from __future__ import annotations

import ctypes
import os
import pathlib
import re
import shutil
import subprocess
from typing import Any

import numpy as np

__all__ = ["addresses", "build", "decode_chunks", "pointers", "require_compiler"]

HERE = pathlib.Path(__file__).resolve().parent
CUDA = HERE.parents[1] / "src" / "tiffstream" / "gpu" / "cuda"
_DYNAMIC = re.compile(r"extern __shared__ (?:__align__\(\d+\) )?(\w+) (\w+)\[\];")


def require_compiler() -> None:
    """Skip the calling test module where no g++ is (fail it in CI, whose .ci/run installs one)."""
    import pytest

    if shutil.which("g++") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs g++ to run the GPU kernels on the CPU (.ci/run installs it)", pytrace=False)
        pytest.skip("no g++ to build the GPU kernels for the CPU", allow_module_level=True)


def pointers(*arrays: np.ndarray) -> list[ctypes.c_void_p]:
    """Each array's address, as a kernel's pointer argument."""
    return [ctypes.c_void_p(array.ctypes.data) for array in arrays]


def addresses(buffers: list[np.ndarray]) -> np.ndarray:
    """A per-chunk table of buffer addresses (``const u64*`` of the kernels)."""
    return np.array([buffer.ctypes.data for buffer in buffers], np.uint64)


def decode_chunks(
    function: Any, streams: list[bytes], capacities: list[int], *extra: Any
) -> tuple[list[int], list[bytes]]:
    """Run ``function(sources, sizes, outputs, capacities, written, count, *extra)`` (the decoders' form) on
    ``streams``: each chunk's ``written`` and its output (``capacity`` bytes, 7 where nothing was written)."""
    inputs = [np.frombuffer(stream, np.uint8).copy() for stream in streams]
    outs = [np.full(capacity, 7, np.uint8) for capacity in capacities]
    sizes = np.array([data.size for data in inputs], np.int64)
    written = np.full(len(streams), -99, np.int64)
    table = (addresses(inputs), sizes, addresses(outs), np.array(capacities, np.int64), written)
    function(*pointers(*table), ctypes.c_longlong(len(streams)), *extra)
    return written.tolist(), [out.tobytes() for out in outs]


def source(kernel: str, host_code: str, edits: dict[str, str] | None = None) -> str:
    """The C++ text: the stand-in, common.cuh, the kernel file (``edits``: exact replacements, each of which
    must apply once) and the host code."""
    text = (CUDA / kernel).read_text()
    for old, new in (edits or {}).items():
        if text.count(old) != 1:
            raise ValueError(f"{kernel}: {old!r} occurs {text.count(old)} times, not once")
        text = text.replace(old, new)
    text = _DYNAMIC.sub(r"\1* \2 = (\1*)emu_dynamic_shared;", text.replace('#include "common.cuh"', ""))
    return "\n".join(['#include "cuda_emu.h"', (CUDA / "common.cuh").read_text(), text, host_code])


def build(kernel: str, host_code: str, directory: pathlib.Path, edits: dict[str, str] | None = None) -> ctypes.CDLL:
    """Compile and load ``kernel`` with ``host_code`` (see ``source``) in ``directory``."""
    cpp, library = directory / f"{kernel}.cpp", directory / f"{kernel}.so"
    cpp.write_text(source(kernel, host_code, edits))
    command = ["g++", "-std=c++20", "-O1", "-fPIC", "-shared", "-Wno-unknown-pragmas", f"-I{HERE}", "-o", str(library)]
    subprocess.run([*command, str(cpp), "-lpthread"], check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(library))
