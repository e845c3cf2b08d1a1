"""Our CUDA kernels compiled for the CPU (``cuda_emu.h``: threads for a block's threads, barriers for its
synchronisation), to check what they compute where no GPU is; never for speed.

``build(kernel, host_code, directory)`` compiles ``src/tiffstream/gpu/cuda/<kernel>`` with ``common.cuh`` and
``host_code`` (``extern "C"`` functions that call ``emu_launch``) into a shared library and loads it.
``extern __shared__`` arrays become pointers into one buffer of the process. Needs ``g++`` (C++20).
"""

from __future__ import annotations

import ctypes
import pathlib
import re
import shutil
import subprocess

__all__ = ["available", "build"]

HERE = pathlib.Path(__file__).resolve().parent
CUDA = HERE.parents[1] / "src" / "tiffstream" / "gpu" / "cuda"
_DYNAMIC = re.compile(r"extern __shared__ (?:__align__\(\d+\) )?(\w+) (\w+)\[\];")


def available() -> bool:
    """Whether a C++ compiler is here to build the kernels."""
    return shutil.which("g++") is not None


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
