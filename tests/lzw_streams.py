"""LZW streams that probe the kernels of ``gpu/cuda/lzw.cu`` (on a GPU: tests/gpu/test_gpu_lzw.py; on the CPU
stand-in: tests/test_gpu_kernels_on_cpu.py): segments of libtiff's and imagecodecs' lengths, early and empty
segments, long strings, outputs that fill before the codes end or end early, truncated and invalid streams,
the old style."""

from __future__ import annotations

import imagecodecs
import numpy as np
from _tiffbuild import lzw_with_clears, old_style_lzw

rng = np.random.default_rng(11)
NOISY = np.clip(rng.normal(128, 4, 65536), 0, 255).astype(np.uint8).tobytes()
SMOOTH = (np.add.outer(np.arange(256), np.arange(256)) // 5 % 256).astype(np.uint8).tobytes()


def _invalid_in_segment_four(stream: bytes) -> bytes:
    broken = bytearray(stream)
    broken[len(stream) // 2 : len(stream) // 2 + 3] = b"\xff\xff\xff"  # a 12-bit code past the table
    return bytes(broken)


STREAMS = {  # name: (stream, output capacity)
    "imagecodecs": (imagecodecs.lzw_encode(NOISY), 65536),
    "full segments": (lzw_with_clears(NOISY, []), 65536),
    "early clears": (lzw_with_clears(NOISY, [515, 1075]), 65536),
    "empty segments": (lzw_with_clears(NOISY, [1, 0, 2, 700, 0]), 65536),
    "smooth": (lzw_with_clears(SMOOTH, [300]), 65536),
    "long strings": (lzw_with_clears(bytes(65536), [10]), 65536),
    "fills early": (lzw_with_clears(NOISY, []), 40000),
    "room to spare": (lzw_with_clears(NOISY[:50001], [900]), 65536),
    "truncated": (lzw_with_clears(NOISY, [])[:20000], 65536),
    "invalid code": (_invalid_in_segment_four(lzw_with_clears(NOISY, [])), 65536),
    "old style": (old_style_lzw(NOISY[:30000]), 30000),
    "tiny": (lzw_with_clears(b"abcabcabc", []), 9),
    "one segment": (lzw_with_clears(NOISY[:3000], []), 3000),
}
UNDECODABLE = ("truncated", "invalid code")  # imagecodecs raises for these; the kernels must agree with each other
