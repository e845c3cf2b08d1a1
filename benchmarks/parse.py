"""Container-layer speed: open + count, paginate, reach a page, vs tifffile in the same run.

    python benchmarks/parse.py [--dir DIR] [--budget SECONDS]

Writes (once, with tifffile) a seed-like OME-TIFF (192 pages 2048x1567 uint8, deflate strips, two SubIFD
levels) and a 100,000-page file, then prints times and ratios (tifffile / tiffstream; > 1: we are faster).
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys
import tempfile

import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import machine, measure, print_table

import tiffstream


def seed_like(path: pathlib.Path, page: np.ndarray | None = None) -> pathlib.Path:
    """192 Z-slices of ``page`` (2048x1567 uint8), deflate strips, SubIFD levels 1024x783 and 512x391, OME-XML."""
    if path.exists():
        return path
    if page is None:
        page = np.zeros((1567, 2048), np.uint8)
        page[::7] = 3  # not all zeros, still quick to compress
    options = {"compression": "zlib", "photometric": "minisblack", "rowsperstrip": 16}
    tmp = path.with_suffix(".partial")
    with tifffile.TiffWriter(tmp, ome=True) as writer:
        writer.write(
            (page for _ in range(192)),
            shape=(192, 1567, 2048),
            dtype=np.uint8,
            subifds=2,
            metadata={"axes": "ZYX"},
            **options,
        )
        for factor in (2, 4):
            level = page[::factor, ::factor]
            writer.write(
                (level for _ in range(192)), shape=(192, *level.shape), dtype=np.uint8, subfiletype=1, **options
            )
    tmp.rename(path)
    return path


def many_pages(path: pathlib.Path, count: int = 100_000) -> pathlib.Path:
    """``count`` pages of 8x8 uint8, one strip each."""
    if path.exists():
        return path
    tmp = path.with_suffix(".partial")
    with tifffile.TiffWriter(tmp) as writer:
        for _ in range(count):
            writer.write(np.zeros((8, 8), np.uint8), photometric="minisblack", contiguous=False)
    tmp.rename(path)
    return path


def tifffile_count(path: pathlib.Path) -> int:
    with tifffile.TiffFile(path) as tif:
        return len(tif.pages)


def tifffile_all_pages(path: pathlib.Path) -> int:
    with tifffile.TiffFile(path) as tif:
        return sum(tif.pages[i].shape[0] for i in range(len(tif.pages)))


def tifffile_chunks(path: pathlib.Path) -> int:
    with tifffile.TiffFile(path) as tif:
        return sum(len(page.dataoffsets) + len(page.databytecounts) for page in tif.pages)


def ours_plans(path: pathlib.Path) -> int:
    """What a GPU batch needs first: every page's decode plan (its chunk table), through CodeStream."""
    stream = tiffstream.CodeStream(str(path))
    return sum(2 * len(stream.get_sub_code_stream(image_idx=i).plan.table) for i in range(stream.num_images))


def tifffile_page(path: pathlib.Path, index: int) -> tuple[int, ...]:
    with tifffile.TiffFile(path) as tif:
        return tif.pages[index].shape


def ours_count(path: pathlib.Path) -> int:
    return tiffstream.CodeStream(str(path)).num_images


def ours_all_pages(path: pathlib.Path) -> int:
    with tiffstream.open(path) as tif:
        return sum(page.shape[0] for page in tif.pages)


def ours_first_page(path: pathlib.Path) -> tuple[int, ...]:
    with tiffstream.open(path) as tif:
        return tif.pages[0].shape


def ours_paginate(path: pathlib.Path, k: int = 10) -> int:
    total = 0
    stream = tiffstream.CodeStream(str(path), limit_images=k)
    while True:
        total += stream.num_images
        if stream.next_bitstream_offset is None:
            return total
        stream = tiffstream.CodeStream(str(path), bitstream_offset=stream.next_bitstream_offset, limit_images=k)


def ours_from_offset(path: pathlib.Path, offset: int) -> tuple[int, int]:
    stream = tiffstream.CodeStream(str(path), bitstream_offset=offset)
    return stream.height, stream.width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "tiffstream-bench")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of repeats per measurement")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("tifffile").setLevel(logging.ERROR)
    seed = seed_like(args.dir / "seed_like.ome.tif")
    many = many_pages(args.dir / "pages_100k.tif")
    b = args.budget

    assert ours_count(seed) == tifffile_count(seed) == 192
    assert ours_paginate(seed) == 192
    with tiffstream.open(seed) as tif:
        offset_150 = tif.pages[150].offset
    assert ours_from_offset(seed, offset_150) == tifffile_page(seed, 150)
    assert ours_plans(seed) == tifffile_chunks(seed)
    rows = [
        (
            "192-page OME: open + num_images",
            measure(lambda: tifffile_count(seed), budget=b),
            measure(lambda: ours_count(seed), budget=b),
        ),
        (
            "192-page OME: every page parsed (shape)",
            measure(lambda: tifffile_all_pages(seed), budget=b),
            measure(lambda: ours_all_pages(seed), budget=b),
        ),
        (
            "192-page OME: every page's chunk table (plans)",
            measure(lambda: tifffile_chunks(seed), budget=b),
            measure(lambda: ours_plans(seed), budget=b),
        ),
        (
            "192-page OME: paginate by 10 (vs tifffile count)",
            measure(lambda: tifffile_count(seed), budget=b),
            measure(lambda: ours_paginate(seed), budget=b),
        ),
        (
            "192-page OME: page 150 (ours from saved offset)",
            measure(lambda: tifffile_page(seed, 150), budget=b),
            measure(lambda: ours_from_offset(seed, offset_150), budget=b),
        ),
    ]
    assert ours_count(many) == tifffile_count(many) == 100_000
    with tiffstream.open(many) as tif:
        offset_99999 = tif.pages[99_999].offset
    rows += [
        (
            "100k pages: first page shape",
            measure(lambda: tifffile_page(many, 0), budget=b),
            measure(lambda: ours_first_page(many), budget=b),
        ),
        (
            "100k pages: open + num_images",
            measure(lambda: tifffile_count(many), budget=b, min_repeats=3),
            measure(lambda: ours_count(many), budget=b, min_repeats=3),
        ),
        (
            "100k pages: page 99999 (ours from saved offset)",
            measure(lambda: tifffile_page(many, 99_999), budget=b, min_repeats=3),
            measure(lambda: ours_from_offset(many, offset_99999), budget=b),
        ),
    ]
    print(f"tiffstream {tiffstream.__version__}, tifffile {tifffile.__version__}, numpy {np.__version__}; {machine()}")
    print_table(rows, "tifffile")


if __name__ == "__main__":
    main()
