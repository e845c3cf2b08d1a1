"""dask.distributed helpers: decode pages of many files, and patches of many slides, on a cluster.

Everything sent to workers is small: paths or URLs, page numbers, patch locations; workers open the files
themselves (positioned reads; fsspec range requests for URLs). Work goes in batches, one task per batch, so
a worker decodes a batch's images together (one ``Decoder`` call: on its GPU, all chunks in one pipeline).
On a dask-cuda ``LocalCUDACluster`` each worker sees its own GPU as device 0 (``CUDA_VISIBLE_DEVICES``), so
``device="cuda"`` decodes on the worker's GPU; results stay there as CuPy arrays until gathered, or are
copied to the host (``to_host=True``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..decoder import Decoder
from ..enums import BackendKind
from ..reader import TiffReader, imread

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["decode_batches", "decode_pages", "read_patches", "submit_pages"]

Device = Literal["cpu", "cuda"]


def _decode(path: str, page: int, level: int) -> np.ndarray:
    return imread(path, page, series=0 if level else None, level=level or None)


def submit_pages(client: Any, items: Sequence[tuple[str, int]], *, level: int = 0) -> list[Any]:
    """One future per (path, page): each decodes that page (``level``: a pyramid level) on a worker."""
    return [client.submit(_decode, path, page, level, pure=True) for path, page in items]


def decode_pages(client: Any, items: Sequence[tuple[str, int]], *, level: int = 0) -> list[np.ndarray]:
    """Decode every (path, page) on the cluster and gather the arrays, in order."""
    return client.gather(submit_pages(client, items, level=level))


def _batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, got {size}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _decode_batch(items: list[tuple[str, int]], device: Device, to_host: bool) -> list[Any]:
    """One task: the pages ``items`` decoded in one ``Decoder`` call (the worker's GPU for ``"cuda"``)."""
    kinds = [BackendKind.HYBRID_CPU_GPU] if device == "cuda" else [BackendKind.CPU_ONLY]
    readers: dict[str, TiffReader] = {}
    try:
        planned = []
        for path, page in items:
            reader = readers.get(path) or readers.setdefault(path, TiffReader(path))
            planned.append((reader.pages[page].plan, reader.source, None))
        with Decoder(backends=kinds) as decoder:
            decoded = decoder.decode_plans(planned)
    finally:
        for reader in readers.values():
            reader.close()
    if device == "cuda" and not to_host:
        import cupy

        return [cupy.asarray(array) for array in decoded]
    return [array.get() if hasattr(array, "get") else array for array in decoded]


def decode_batches(
    client: Any,
    items: Sequence[tuple[str, int]],
    *,
    batch_size: int = 64,
    device: Device = "cpu",
    to_host: bool = True,
    gather: bool = True,
) -> list[Any]:
    """Decode every (path, page), ``batch_size`` pages a task: the arrays in order (``gather``), or one future
    per batch holding its list of arrays. ``device="cuda"``: each worker's GPU; ``to_host=False`` leaves the
    results there (CuPy arrays) for a following step on the same worker."""
    futures = [
        client.submit(_decode_batch, batch, device, to_host, pure=False) for batch in _batches(items, batch_size)
    ]
    if not gather:
        return futures
    return [array for batch in client.gather(futures) for array in batch]


def _read_patch_batch(
    path: str, locations: list[tuple[int, int]], level: int, size: tuple[int, int], device: Device, to_host: bool
) -> Any:
    """One task: ``read_regions`` of one slide for a batch of locations."""
    from ..slide import OpenSlide

    with OpenSlide(path) as slide:
        patches = slide.read_regions(locations, level, size, device=device)
    return patches.get() if to_host and hasattr(patches, "get") else patches


def read_patches(
    client: Any,
    path: str,
    locations: Sequence[tuple[int, int]],
    level: int,
    size: tuple[int, int],
    *,
    batch_size: int = 64,
    device: Device = "cpu",
    to_host: bool = True,
    gather: bool = True,
) -> Any:
    """Patches of one slide (``read_region``'s arguments), ``batch_size`` a task: one ``(N, h, w, 4)`` uint8
    array (``gather``), or one future per batch of ``(n, h, w, 4)`` arrays (CuPy on the workers' GPUs with
    ``device="cuda"`` and ``to_host=False``)."""
    futures = [
        client.submit(_read_patch_batch, path, batch, level, tuple(size), device, to_host, pure=False)
        for batch in _batches([tuple(location) for location in locations], batch_size)
    ]
    if not gather:
        return futures
    batches = client.gather(futures)
    return np.concatenate(batches) if batches else np.zeros((0, size[1], size[0], 4), np.uint8)
