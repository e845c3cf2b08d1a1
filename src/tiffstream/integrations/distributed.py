"""dask.distributed helpers: decode pages of many files on a cluster.

Everything sent to workers is small: a path or URL and page numbers. Workers open the files themselves
(positioned reads; fsspec range requests for URLs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..reader import imread

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["decode_pages", "submit_pages"]


def _decode(path: str, page: int, level: int) -> np.ndarray:
    return imread(path, page, series=0 if level else None, level=level or None)


def submit_pages(client: Any, items: Sequence[tuple[str, int]], *, level: int = 0) -> list[Any]:
    """One future per (path, page): each decodes that page (``level``: a pyramid level) on a worker."""
    return [client.submit(_decode, path, page, level, pure=True) for path, page in items]


def decode_pages(client: Any, items: Sequence[tuple[str, int]], *, level: int = 0) -> list[np.ndarray]:
    """Decode every (path, page) on the cluster and gather the arrays, in order."""
    return client.gather(submit_pages(client, items, level=level))
