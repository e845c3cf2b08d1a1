"""A cache of decoded slide tiles with a byte limit, shared by threads (OpenSlide keeps one per slide)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Hashable

    import numpy as np

__all__ = ["DEFAULT_CACHE_BYTES", "TileCache"]

DEFAULT_CACHE_BYTES = 64 << 20


class TileCache:
    """Least recently used tiles up to ``capacity`` bytes; a tile larger than that is not kept."""

    def __init__(self, capacity: int = DEFAULT_CACHE_BYTES) -> None:
        self.capacity = capacity
        self._tiles: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: Hashable, tile: np.ndarray) -> None:
        if tile.nbytes > self.capacity:
            return
        with self._lock:
            old = self._tiles.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._tiles[key] = tile
            self._bytes += tile.nbytes
            while self._bytes > self.capacity:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= dropped.nbytes

    @property
    def nbytes(self) -> int:
        return self._bytes
