"""``tiffstream.distributed``: decode many files, pages and slide patches on a dask.distributed cluster
(one task per batch; each worker on its own GPU under dask-cuda). See ``integrations.distributed``."""

from __future__ import annotations

from .integrations.distributed import decode_batches, decode_pages, read_patches, submit_pages

__all__ = ["decode_batches", "decode_pages", "read_patches", "submit_pages"]
