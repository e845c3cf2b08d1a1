"""The contract between the ``Decoder`` and its backends (CPU and GPU): start a batch, add images, finish.

``Decoder`` picks a backend per image (``supports``), starts one batch per backend and call, ``add``s each image
(plan, byte source, region; the handle it gets back is the image's place in ``finish``'s list), then
``finish``es the batches: a list of arrays (numpy or device arrays, as ``on_device`` says). A backend may start
decoding as images come; ``close`` lets its buffers go after an error. A failure inside ``finish`` is an
``ImageFailed`` naming the handle, so the decoder can say which image of the call it was.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

from .errors import TiffError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from types import ModuleType

    from .plan import DecodePlan
    from .source import ByteSource

__all__ = ["Bounds", "Claims", "DecodeBackend", "DecodeBatch", "ImageFailed"]

Bounds = tuple[int, int, int, int]  # y0, x0, y1, x1
Claims = Counter  # output bytes allocated so far per source (by id) in one call: the files must justify them


class ImageFailed(Exception):
    """Image ``handle`` of a batch failed while the batch finished; ``error`` says why."""

    def __init__(self, handle: int, error: TiffError) -> None:
        super().__init__(str(error))
        self.handle = handle
        self.error = error


class DecodeBatch(Protocol):
    """Images being decoded together by one backend."""

    @property
    def array_module(self) -> ModuleType:
        """numpy or cupy: what ``finish`` returns arrays of."""
        ...

    def add(self, plan: DecodePlan, source: ByteSource, region: Bounds | None) -> int:
        """Take one image (checks and allocation happen now); returns its handle."""
        ...

    @property
    def failures(self) -> dict[int, TiffError]:
        """Images that failed in ``finish(keep_going=True)``, by handle."""
        ...

    def finish(self, keep_going: bool = False) -> list[Any]:
        """Decode what is left; one array per handle, in order (``ImageFailed`` for a failed image, or with
        ``keep_going`` None for it and its error in ``failures``)."""
        ...

    def close(self) -> None:
        """Abandon the batch after an error: wait for work in flight and let its buffers go."""
        ...

    def ordered(self) -> AbstractContextManager[Any]:
        """Where work on the results must run to follow the batch (the caller's CUDA stream on a GPU)."""
        ...


class DecodeBackend(Protocol):
    """A place images decode: the CPU's threads, or a GPU."""

    @property
    def name(self) -> str:
        """Unique among the decoder's backends ("cpu", "gpu")."""
        ...

    @property
    def on_device(self) -> bool:
        """Whether its arrays live on a GPU."""
        ...

    def supports(self, plan: DecodePlan) -> str | None:
        """None when this backend decodes ``plan``; else why not."""
        ...

    def start(self, claims: Claims[int], stream: Any = None) -> DecodeBatch:
        """A new batch (``stream``: the caller's CUDA stream, GPU backends only)."""
        ...
