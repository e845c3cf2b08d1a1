"""Series of files tifffile wrote with its "shaped" JSON description (``{"shape": [...], "axes": ...}``).

Each series starts at a page carrying the description and spans as many pages as its shape needs; a
series whose data tifffile stored in one run after its first page is read from there (its other pages
are never parsed). Each SubIFD of the first page starts a series of its own, folded in as a pyramid level.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from .model import Images, Level, Series, pyramidize

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["shaped_description", "shaped_series"]


def shaped_description(page: TiffPage) -> dict[str, Any] | None:
    """The metadata of a tifffile "shaped" description (JSON, or the old ``shape=(...)``), or None."""
    text = page.description
    if not text or '"mibi.' in text:
        return None
    if text.startswith("shape="):
        try:
            return {"shape": [int(v) for v in text[7:-1].split(",") if v.strip()]}
        except ValueError:
            return None
    if not (text.startswith("{") and '"shape":' in text):
        return None
    try:
        meta = json.loads(text)
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("shape"), list):
        return None
    if not all(isinstance(n, int) and n >= 0 for n in meta["shape"]):
        return None
    return meta


def tiles_into(page_shape: Sequence[int], shape: Sequence[int]) -> bool:
    """Whether pages of ``page_shape`` fill ``shape`` exactly, their axes aligned with its last ones."""
    page_size, size = math.prod(page_shape), math.prod(shape)
    if page_size == 0 or size == 0:
        return page_size == size
    if size % page_size:
        return False
    rest = list(reversed(shape))
    position, page_product, product = 0, 1, 1
    for n in reversed(page_shape):
        page_product *= n
        for m in rest[position:]:
            position += 1
            product *= m
            if n == m or page_product == product:
                break
            if m != 1 and product != page_product:
                return False
    return True


def reshaped_axes(axes: str, shape: Sequence[int], new_shape: Sequence[int]) -> str:
    """Axis letters for ``new_shape`` (same size as ``shape``): kept where a size carries over, else Q."""
    if math.prod(shape) != math.prod(new_shape):
        raise ValueError(f"cannot reshape {tuple(shape)} to {tuple(new_shape)}")
    pad = max(0, len(shape) - len(new_shape))
    target = (*new_shape, *(1,) * pad)
    i, product, kept_product, letters = len(shape) - 1, 1, 1, []
    for n in reversed(target):
        product *= n
        while i > 0 and shape[i] == 1 and n != 1:
            i -= 1
        if n == shape[i] and product == kept_product * shape[i]:
            kept_product *= shape[i]
            letters.append(axes[i])
            i -= 1
        else:
            letters.append("Q")
    return "".join(reversed(letters[pad:]))


def shaped_series(tiff: TiffFile) -> list[Series] | None:
    """The series of a shaped file; None when a series' first page lacks a usable description."""
    found: list[Series] = []
    pages = tiff.pages
    if not _detect(tiff, len(pages), pages.__getitem__, found, main=True):
        return None
    pyramidize(found, reduced=True)
    return found


def _detect(
    tiff: TiffFile,
    count: int,
    page_at: Callable[[int], TiffPage],
    found: list[Series],
    *,
    main: bool,
    above: frozenset[int] = frozenset(),
) -> bool:
    """Series of ``count`` pages described by tifffile's shaped JSON, then their SubIFD levels (``above``: the
    keyframes the recursion came through; a SubIFD that points back at one is no shaped layout)."""
    index = 0
    while index < count:
        keyframe = page_at(index if main else 0)
        if keyframe.offset in above:
            return False
        meta = shaped_description(keyframe)
        if meta is None:
            return False
        reshape = tuple(meta["shape"])
        page_size = math.prod(keyframe.shape)
        size = math.prod(reshape)
        npages, rest = divmod(size, page_size) if size and page_size else (1, 0)
        if rest:
            return False
        truncated = meta.get("truncated", None if not keyframe.subifd_offsets else False)
        axes = meta.get("axes") if isinstance(meta.get("axes"), str) else None
        shape = reshape if axes is not None and len(axes) == len(reshape) else None
        span = [keyframe]
        contiguous = False
        if 1 < npages <= count - index:
            if truncated:
                npages = 1
            else:
                following = page_at(index + 1)
                if (
                    keyframe.is_contiguous
                    and keyframe.offset + size * keyframe.dtype.itemsize < following.offset
                    and not keyframe.subifd_offsets
                ):
                    contiguous = True
                else:
                    span = [keyframe] + [page_at(j) for j in range(index + 1, index + npages)]
        elif npages > 1:
            contiguous = keyframe.is_contiguous
        found.append(_series(tiff, span, axes if shape is not None else None, reshape, meta, contiguous))
        index += npages
        for level, _ in enumerate(keyframe.subifd_offsets):
            subs = [_subifd(tiff, page, level, len(keyframe.subifd_offsets)) for page in span]
            if any(sub is None for sub in subs):
                return False
            inside = above | {keyframe.offset}
            if not _detect(tiff, len(subs), subs.__getitem__, found, main=False, above=inside):  # type: ignore[arg-type]
                return False
    return True


def _subifd(tiff: TiffFile, page: TiffPage, level: int, expected: int) -> TiffPage | None:
    from ..ifd import parse_ifd

    offsets = page.subifd_offsets
    if len(offsets) < expected or offsets[level] < 8:
        return None
    return tiff.page_type(parse_ifd(tiff.source, tiff.header, offsets[level]), level, is_subifd=True)


def _series(
    tiff: TiffFile,
    pages: list[TiffPage],
    axes: str | None,
    reshape: tuple[int, ...],
    meta: dict[str, Any],
    contiguous: bool,
) -> Series:
    keyframe = pages[0]
    fits = tiles_into(keyframe.shape, reshape)
    if not fits or axes is None:
        shape, axes = keyframe.shape, keyframe.axes
        if len(pages) > 1:
            shape, axes = (len(pages), *shape), "Q" + axes
        if not fits:
            reshape = shape
    else:
        shape = reshape
    size, resize = math.prod(shape), math.prod(reshape)
    if keyframe.is_contiguous and size and resize > size and resize % size == 0:
        shape, axes = (resize // size, *shape), "Q" + axes
    try:
        axes = reshaped_axes(axes, shape, reshape)
        shape = reshape
    except ValueError:
        pass
    count = max(len(pages), math.prod(shape) // max(math.prod(keyframe.shape), 1)) if contiguous else len(pages)
    images = Images(count, pages.__getitem__, contiguous=contiguous) if contiguous else Images.of(pages)
    name = str(meta.get("name", ""))
    return Series(Level(tiff, images, shape, axes, keyframe, name=name, squeeze=False), "shaped", name)
