"""Region: a rectangle of an image to decode (nvImageCodec's ``Region``, a frozen value)."""

from __future__ import annotations

__all__ = ["Region"]


class Region:
    """Rows ``start_y:end_y`` and columns ``start_x:end_x`` of an image (end exclusive).

    Built as ``Region(start_y, start_x, end_y, end_x)`` or, as nvImageCodec also allows,
    ``Region(start=(y, x), end=(y, x))``.
    """

    __slots__ = ("_end", "_start")
    _start: tuple[int, int]
    _end: tuple[int, int]

    def __init__(
        self,
        start_y: int | tuple[int, int] | None = None,
        start_x: int | tuple[int, int] | None = None,
        end_y: int | None = None,
        end_x: int | None = None,
        *,
        start: tuple[int, int] | None = None,
        end: tuple[int, int] | None = None,
    ) -> None:
        if start is None and isinstance(start_y, (tuple, list)):
            start, end = tuple(start_y), start_x  # type: ignore[assignment]
        start_t: tuple[object, ...]
        end_t: tuple[object, ...]
        if start is not None or end is not None:
            if start is None or end is None:
                raise TypeError("Region needs both start and end")
            start_t, end_t = tuple(start), tuple(end)
        else:
            start_t, end_t = (start_y, start_x), (end_y, end_x)
        if len(start_t) != 2 or len(end_t) != 2:
            raise ValueError(f"Region takes 2-D start and end, got {start_t} and {end_t}")
        for value in (*start_t, *end_t):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Region coordinates must be integers, got {value!r}")
        y0, x0, y1, x1 = (int(v) for v in (*start_t, *end_t))  # type: ignore[call-overload]
        if y0 < 0 or x0 < 0:
            raise ValueError(f"Region start {(y0, x0)} is negative")
        if y1 <= y0 or x1 <= x0:
            raise ValueError(f"Region end {(y1, x1)} must be past its start {(y0, x0)}")
        object.__setattr__(self, "_start", (y0, x0))
        object.__setattr__(self, "_end", (y1, x1))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Region is immutable")

    @property
    def start(self) -> tuple[int, int]:
        return self._start

    @property
    def end(self) -> tuple[int, int]:
        return self._end

    @property
    def ndim(self) -> int:
        return 2

    @property
    def start_y(self) -> int:
        return self._start[0]

    @property
    def start_x(self) -> int:
        return self._start[1]

    @property
    def end_y(self) -> int:
        return self._end[0]

    @property
    def end_x(self) -> int:
        return self._end[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self.end_y - self.start_y, self.end_x - self.start_x

    def check_within(self, height: int, width: int) -> None:
        """Raise ``ValueError`` unless the region lies inside a ``height`` x ``width`` image."""
        if self.end_y > height or self.end_x > width:
            raise ValueError(f"{self!r} extends past the {height}x{width} image")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Region) and (self._start, self._end) == (other._start, other._end)

    def __hash__(self) -> int:
        return hash((self._start, self._end))

    def __repr__(self) -> str:
        return f"Region(start={self._start}, end={self._end})"
