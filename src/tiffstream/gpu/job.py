"""GpuJob: one image of a GPU batch (its plan, where its bytes are, the region) and, once decoded, its output."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import cupy as cp
    import numpy as np

    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["GpuJob"]


@dataclass
class GpuJob:
    """One image to decode: its plan, where its bytes are, the region, and (after decoding) the output."""

    plan: DecodePlan
    source: ByteSource
    region: tuple[int, int, int, int] | None = None
    out: cp.ndarray | None = None

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return self.plan.bounds(self.region)

    @functools.cached_property
    def chunks(self) -> np.ndarray:
        """The plan's chunk table rows that overlap the region."""
        return self.plan.table_in(*self.bounds)
