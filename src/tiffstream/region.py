"""Region: a rectangle of an image to decode (nvImageCodec's ``Region``, a frozen value); it may reach
outside the image, where the decoded image holds ``out_of_bounds_samples``."""

from __future__ import annotations

__all__ = ["Region"]


class Region:
    """Rows ``start_y:end_y`` and columns ``start_x:end_x`` of an image (end exclusive).

    Built as ``Region(start_y, start_x, end_y, end_x, out_of_bounds_sample=0)``, as
    ``Region(start=(y, x), end=(y, x))`` or ``Region((y, x), (y, x))``, or empty as ``Region()`` (the whole
    image, ``ndim == 0``). A region may start before or end past the image (nvImageCodec 0.9): pixels outside
    it are ``out_of_bounds_sample``; it must overlap the image.
    """

    __slots__ = ("_end", "_fill", "_start")
    _start: tuple[int, ...]
    _end: tuple[int, ...]
    _fill: float

    def __init__(
        self,
        start_y: int | tuple[int, int] | None = None,
        start_x: int | tuple[int, int] | None = None,
        end_y: float | None = None,
        end_x: int | None = None,
        out_of_bounds_sample: float = 0,
        *,
        start: tuple[int, int] | None = None,
        end: tuple[int, int] | None = None,
    ) -> None:
        if start is None and isinstance(start_y, (tuple, list)):  # Region(start, end[, sample])
            start, end = tuple(start_y), start_x  # type: ignore[assignment]
            if end_y is not None:
                out_of_bounds_sample = end_y
        if isinstance(out_of_bounds_sample, bool) or not isinstance(out_of_bounds_sample, (int, float)):
            raise TypeError(f"out_of_bounds_sample must be a number, got {out_of_bounds_sample!r}")
        object.__setattr__(self, "_fill", out_of_bounds_sample)
        start_t: tuple[object, ...]
        end_t: tuple[object, ...]
        if start is not None or end is not None:
            if start is None or end is None:
                raise TypeError("Region needs both start and end")
            start_t, end_t = tuple(start), tuple(end)
        elif start_y is None and start_x is None and end_y is None and end_x is None:
            start_t = end_t = ()
        else:
            start_t, end_t = (start_y, start_x), (end_y, end_x)
        if not start_t and not end_t:
            object.__setattr__(self, "_start", ())
            object.__setattr__(self, "_end", ())
            return
        if len(start_t) != 2 or len(end_t) != 2:
            raise ValueError(f"Region takes 2-D start and end, got {start_t} and {end_t}")
        for value in (*start_t, *end_t):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Region coordinates must be integers, got {value!r}")
        y0, x0, y1, x1 = (int(v) for v in (*start_t, *end_t))  # type: ignore[call-overload]
        if y1 <= y0 or x1 <= x0:
            raise ValueError(f"Region end {(y1, x1)} must be past its start {(y0, x0)}")
        object.__setattr__(self, "_start", (y0, x0))
        object.__setattr__(self, "_end", (y1, x1))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Region is immutable")

    @property
    def start(self) -> tuple[int, ...]:
        return self._start

    @property
    def end(self) -> tuple[int, ...]:
        return self._end

    @property
    def ndim(self) -> int:
        """2, or 0 for the empty region (the whole image)."""
        return len(self._start)

    @property
    def out_of_bounds_samples(self) -> list[float]:
        """The value of pixels outside the image, per component (nvImageCodec 0.9 lists five)."""
        return [self._fill] * 5

    @property
    def out_of_bounds_sample(self) -> float:
        return self._fill

    def bounds_within(self, height: int, width: int) -> tuple[int, int, int, int] | None:
        """(y0, x0, y1, x1): the part inside a ``height`` x ``width`` image; None for the whole image
        (the empty region)."""
        if not self._start:
            return None
        return max(self.start_y, 0), max(self.start_x, 0), min(self.end_y, height), min(self.end_x, width)

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
        """Raise ``ValueError`` unless the region overlaps a ``height`` x ``width`` image."""
        bounds = self.bounds_within(height, width)
        if bounds is not None and (bounds[2] <= bounds[0] or bounds[3] <= bounds[1]):
            raise ValueError(f"{self!r} lies outside the {height}x{width} image")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Region) and (self._start, self._end, self._fill) == (
            other._start,
            other._end,
            other._fill,
        )

    def __hash__(self) -> int:
        return hash((self._start, self._end, self._fill))

    def __repr__(self) -> str:
        fill = f", out_of_bounds_sample={self._fill}" if self._fill else ""
        return f"Region(start={self._start}, end={self._end}{fill})"
