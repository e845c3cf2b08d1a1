"""The CPU backend behind the decoder's contract (``backends.py``): every chunk of every image of a batch is
one task on the decoder's thread pool; images are prepared (checked, allocated) as they are added."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backends import ImageFailed
from ..errors import DecodeError, TiffError
from .backend import prepare, run_tasks

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import ThreadPoolExecutor

    from ..backends import Bounds, Claims
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["CpuBackend", "CpuBatch"]


class CpuBackend:
    """Chunks decoded by imagecodecs on ``pool`` (``workers`` threads; None: in the caller's thread)."""

    name = "cpu"
    on_device = False

    def __init__(self, workers: int, pool: Callable[[], ThreadPoolExecutor | None]) -> None:
        self.workers = workers
        self._pool = pool

    def supports(self, plan: DecodePlan) -> str | None:
        return None

    def start(self, claims: Claims[int], stream: Any = None) -> CpuBatch:
        return CpuBatch(self.workers, self._pool(), claims)


class CpuBatch:
    """Images of one call for the CPU: their outputs and decode tasks, run together by ``finish``."""

    array_module = np

    def __init__(self, workers: int, pool: ThreadPoolExecutor | None, claims: Claims[int]) -> None:
        self._workers = workers
        self._pool = pool
        self._claims = claims
        self._outputs: list[np.ndarray | None] = []
        self._tasks: list[Callable[[], None]] = []
        self.failures: dict[int, TiffError] = {}  # handle -> why, for images that failed (keep_going)

    def add(self, plan: DecodePlan, source: ByteSource, region: Bounds | None) -> int:
        key = id(source)
        out, tasks = prepare(plan, source, region=region, workers=self._workers, claimed=self._claims[key])
        self._claims[key] += out.nbytes
        handle = len(self._outputs)
        self._outputs.append(out)
        self._tasks += [_labelled(handle, source.name, task) for task in tasks]
        return handle

    def finish(self, keep_going: bool = False) -> list[np.ndarray | None]:
        """Run every task; ``keep_going``: a failed image is None (its error in ``failures``), the others decode."""
        tasks, self._tasks = self._tasks, []  # their closures hold the outputs: they go with the batch
        if keep_going:
            tasks = [self._recorded(task) for task in tasks]
        run_tasks(tasks, self._pool)
        outputs, self._outputs = self._outputs, []
        return [None if handle in self.failures else out for handle, out in enumerate(outputs)]

    def _recorded(self, task: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                task()
            except ImageFailed as failure:
                self.failures.setdefault(failure.handle, failure.error)

        return run

    def close(self) -> None:
        self._tasks, self._outputs = [], []

    def ordered(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


def _labelled(handle: int, name: str, task: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            task()
        except TiffError as exc:
            raise ImageFailed(handle, exc) from exc
        except Exception as exc:  # an unexpected failure still names the image
            raise ImageFailed(handle, DecodeError(f"{type(exc).__name__}: {exc}", path=name)) from exc

    return run
