"""``tiffstream info [FILE]``: the series (kind, axes, shape, levels, associated images, vendor metadata)
and the tree of pages and SubIFDs (FILE defaults to the sample in the package)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from .. import open as open_tiff
from .. import sample_path
from ..tiff.tags import (
    Compression,
    ExtraSample,
    FileType,
    FillOrder,
    Orientation,
    Photometric,
    PlanarConfig,
    Predictor,
    ResolutionUnit,
    SampleFormat,
)

if TYPE_CHECKING:
    from ..tiff.file import TiffFile
    from ..tiff.page import TiffPage

__all__ = ["add_parser", "describe", "run"]


# tags whose values are enumerations: shown as NAME (value)
_ENUM_TAGS = {
    254: FileType,
    259: Compression,
    262: Photometric,
    266: FillOrder,
    274: Orientation,
    284: PlanarConfig,
    296: ResolutionUnit,
    317: Predictor,
    338: ExtraSample,
    339: SampleFormat,
}
_METADATA_SHOWN = 6  # vendor metadata items in the text summary


def _name(value: int) -> str:
    return str(getattr(value, "name", value))


def plural(count: int, word: str) -> str:
    """``1 page``, ``2 pages``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _enum_text(code: int, value: Any) -> Any:
    enum = _ENUM_TAGS.get(code)
    if enum is None:
        return value
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    names = []
    for item in values:
        try:
            names.append(f"{enum(int(item)).name} ({int(item)})")
        except (ValueError, TypeError):
            names.append(str(item))
    return names[0] if len(names) == 1 else ", ".join(names)


def _series_summary(tif: TiffFile) -> list[dict[str, Any]]:
    result = []
    for series in tif.series:
        entry: dict[str, Any] = {
            "index": series.index,
            "kind": series.kind,
            "name": series.name,
            "axes": series.axes,
            "shape": list(series.shape),
            "dtype": str(series.dtype),
            "levels": [list(level.shape) for level in series.levels],
        }
        if series.metadata:
            entry["metadata"] = {key: _tag_text(value) for key, value in series.metadata.items()}
        result.append(entry)
    return result


def _page_summary(page: TiffPage, with_tags: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"offset": page.offset}
    info.update(
        shape=list(page.shape),
        dtype=str(page.dtype),
        compression=_name(page.compression),
        photometric=_name(page.photometric),
        predictor=_name(page.predictor),
        planar=_name(page.planar_config),
        layout="tiles" if page.is_tiled else "strips",
        chunk_shape=list(page.chunk_shape),
        chunks=len(page.plan.table),
    )
    if page.is_reduced:
        info["reduced"] = True
    if with_tags:
        info["tags"] = {tag.name: _tag_text(_enum_text(tag.code, tag.value)) for tag in page.tags}
    return info


def _tag_text(value: Any, limit: int = 80) -> Any:
    if isinstance(value, bytes):
        value = f"<{len(value)} bytes>"
    elif hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (tuple, list)) and len(value) > 8:
        value = f"{list(value[:8])[:-1]}... ({len(value)} values)"
    if isinstance(value, str):
        value = " ".join(value.split())  # one line, whatever the tag holds
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


def describe(tif: TiffFile, *, max_pages: int, with_tags: bool) -> dict[str, Any]:
    """A JSON-ready summary: header, the first ``max_pages`` pages with their SubIFDs, and OME."""
    pages: list[dict[str, Any]] = []
    iterator = iter(tif.pages)
    for page in iterator:
        if len(pages) >= max_pages:
            break
        entry = _page_summary(page, with_tags)
        entry["subifds"] = [_page_summary(sub, with_tags) for sub in page.subifds]
        pages.append(entry)
    result: dict[str, Any] = {
        "file": tif.name,
        "byteorder": "little" if tif.byteorder == "<" else "big",
        "bigtiff": tif.is_bigtiff,
        "num_pages": len(tif.pages),
        "series": _series_summary(tif),
        "pages": pages,
        "pages_truncated": len(pages) < len(tif.pages),
    }
    ome = tif.ome
    if ome is not None:
        result["ome"] = [
            {
                "image": image.name or image.id,
                "type": image.pixels.type,
                "dimension_order": image.pixels.dimension_order,
                "size": {axis: getattr(image.pixels, f"size_{axis.lower()}") for axis in "XYZCT"},
                "physical_size": [
                    image.pixels.physical_size_x,
                    image.pixels.physical_size_y,
                    image.pixels.physical_size_z,
                ],
                "channels": [ch.name for ch in image.pixels.channels],
            }
            for image in ome.images
        ]
    return result


def _print_tree(summary: dict[str, Any], out: Any) -> None:
    kind = "BigTIFF" if summary["bigtiff"] else "TIFF"
    pages = plural(summary["num_pages"], "page")
    print(f"{summary['file']}: {kind}, {summary['byteorder']}-endian, {pages}", file=out)
    for series in summary["series"]:
        shape = "x".join(str(n) for n in series["shape"])
        name = f" {series['name']!r}" if series["name"] else ""
        levels = series["levels"]
        print(f"series {series['index']}{name}: {series['kind']}, {series['axes']} {shape} {series['dtype']}", file=out)
        if len(levels) > 1:
            sizes = ", ".join("x".join(str(n) for n in level) for level in levels[1:])
            print(f"  {plural(len(levels) - 1, 'level')} below: {sizes}", file=out)
        metadata = series.get("metadata", {})
        if metadata:
            items = list(metadata.items())
            shown = "; ".join(f"{key}={value}" for key, value in items[:_METADATA_SHOWN])
            more = f" (+{len(items) - _METADATA_SHOWN} more in --json)" if len(items) > _METADATA_SHOWN else ""
            print(f"  metadata: {shown}{more}", file=out)

    def line(prefix: str, page: dict[str, Any]) -> str:
        shape = "x".join(str(s) for s in page["shape"])
        chunk = "x".join(str(s) for s in page["chunk_shape"])
        return (
            f"{prefix} @{page['offset']}: {shape} {page['dtype']} {page['photometric']}, {page['compression']}"
            f" (predictor {page['predictor']}), {plural(page['chunks'], page['layout'][:-1])} of {chunk}"
        )

    for index, page in enumerate(summary["pages"]):
        print(line(f"page {index}", page), file=out)
        for level, sub in enumerate(page["subifds"], start=1):
            print(line(f"  subifd {level}", sub), file=out)
        for name, value in page.get("tags", {}).items():
            print(f"    {name}: {value}", file=out)
    hidden = summary["num_pages"] - len(summary["pages"])
    if hidden > 0:
        print(f"... {plural(hidden, 'more page')} (use --max-pages)", file=out)
    for image in summary.get("ome", []):
        size = " ".join(f"{k}={v}" for k, v in image["size"].items())
        channels = ", ".join(str(c) for c in image["channels"]) or "-"
        print(
            f"OME image {image['image']!r}: {image['type']} {image['dimension_order']} {size};"
            f" physical size {image['physical_size']}; channels {channels}",
            file=out,
        )


def run(args: argparse.Namespace) -> int:
    """``tiffstream info``: print the tree (or JSON) of a file's pages and SubIFDs."""
    path = args.file or sample_path()
    with open_tiff(path) as tif:
        summary = describe(tif, max_pages=args.max_pages, with_tags=args.tags)
    if args.json:
        json.dump(summary, sys.stdout, indent=2, default=str)
        print()
    else:
        _print_tree(summary, sys.stdout)
    return 0


def add_parser(commands: Any) -> None:
    info = commands.add_parser("info", help="print the series, pyramid levels and pages of a TIFF")
    info.add_argument("file", nargs="?", help="TIFF file (default: the sample shipped with tiffstream)")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.add_argument("--tags", action="store_true", help="list every tag of every page shown")
    info.add_argument("--max-pages", type=int, default=20, help="pages to show (default 20)")
    info.set_defaults(run=run)
