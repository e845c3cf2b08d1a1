"""Fuzz worker: decode files named on stdin through every public API; one JSON line of outcomes per file.

Run by ``run.py`` as a subprocess. Each request is ``{"path": ..., "limit": bytes}``: the worker lowers its
address-space limit (RLIMIT_AS) to its size after start-up plus ``limit`` for that file, so an allocation
the file does not justify fails as a ``MemoryError`` here instead of swapping the machine. Outcomes per
API: ``["ok", digest]`` (a hash of every decoded array), ``["TiffError", message, named, seconds]``
(``named``: the error names the file; ``seconds``: how long it took to fail), or ``["other", traceback]``.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Iterator

import numpy as np
import zarr

import tiffstream

MAX_PAGES = 4
MAX_LEVELS = 2


def _digest(arrays: Iterator[np.ndarray]) -> str:
    """A hash of every array an API gives, taken one array at a time (none is kept)."""
    h = hashlib.blake2b(digest_size=12)
    for array in arrays:
        h.update(f"{array.shape}{array.dtype}".encode())
        h.update(np.ascontiguousarray(array).view(np.uint8).reshape(-1).data)
    return h.hexdigest()


def via_pages(path: str) -> Iterator[np.ndarray]:
    """Our own API: pages, their SubIFD levels, and a region of page 0."""
    with tiffstream.open(path) as tif:
        for index, page in enumerate(tif.pages):
            if index >= MAX_PAGES:
                break
            yield page.asarray(max_workers=1)
            for level in page.subifds[:MAX_LEVELS]:
                yield level.asarray(max_workers=1)
        page = tif.pages[0]
        height, width = page.height, page.width
        region = (height // 4, width // 4, height // 4 + height // 2, width // 4 + width // 2)
        yield page.asarray(region=region, max_workers=1)
        _ = len(tif.pages), tif.ome, page.geo


def via_decoder(path: str) -> Iterator[np.ndarray]:
    """nvImageCodec's API: code streams (a paginated one too) decoded with default and UNCHANGED params."""
    stream = tiffstream.CodeStream(path)
    count = min(stream.num_images, MAX_PAGES)
    subs = [stream.get_sub_code_stream(image_idx=i) for i in range(count)]
    subs += [stream.get_sub_code_stream(bitstream_offset=offset) for offset in stream.subifd_offsets[:MAX_LEVELS]]
    paged = tiffstream.CodeStream(path, limit_images=2)
    _ = paged.num_images, paged.next_bitstream_offset
    with tiffstream.Decoder(max_num_cpu_threads=1) as decoder:
        for params in (
            tiffstream.DecodeParams(),
            tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.UNCHANGED, allow_any_depth=True),
            tiffstream.DecodeParams(color_spec=tiffstream.ColorSpec.GRAY),
        ):
            images = decoder.decode(subs, params=params)
            while images:
                yield np.asarray(images.pop(0))
        _ = [decoder.get_metadata(sub) for sub in subs[:2]]


def via_zarr(path: str) -> Iterator[np.ndarray]:
    """The zarr store: every level array, read whole (or its first chunk, past 64 MiB: zarr allocates
    whatever a read asks for, as numpy does)."""
    with tiffstream.open(path) as tif:
        group = zarr.open_group(tif.aszarr(), mode="r")
        for name in sorted(group.array_keys())[: MAX_LEVELS + 1]:
            array = group[name]
            whole = array.nbytes <= 64 << 20
            yield array[...] if whole else array[tuple(slice(0, n) for n in array.chunks)]


def via_series(path: str) -> Iterator[np.ndarray]:
    """Series and levels: every level of the first few series, decoded whole."""
    with tiffstream.open(path) as tif:
        for series in tif.series[:MAX_LEVELS]:
            _ = series.kind, series.name, series.shape, series.axes, series.metadata
            for level in series.levels[: MAX_LEVELS + 1]:
                yield level.asarray()


def via_slide(path: str) -> Iterator[np.ndarray]:
    """The slide API: a region of every level (partly outside), associated images, Deep Zoom numbers."""
    import tiffstream.slide
    from tiffstream.slide.deepzoom import DeepZoomGenerator

    if tiffstream.slide.OpenSlide.detect_format(path) is None:
        return
    with tiffstream.slide.OpenSlide(path) as slide:
        _ = dict(slide.properties), DeepZoomGenerator(slide).level_tiles
        for level, (width, height) in enumerate(slide.level_dimensions[: MAX_LEVELS + 1]):
            downsample = slide.level_downsamples[level]
            location = (int(width // 3 * downsample), int(height // 3 * downsample))
            yield slide.read_region_array(location, level, (min(width, 512), min(height, 512)))
        for image in list(slide.associated_images.values())[:2]:
            yield np.asarray(image)


APIS = {"pages": via_pages, "decoder": via_decoder, "zarr": via_zarr, "series": via_series, "slide": via_slide}


def exercise(path: str) -> dict[str, list[object]]:
    outcomes: dict[str, list[object]] = {}
    for name, api in APIS.items():
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcomes[name] = ["ok", _digest(api(path))]
        except tiffstream.TiffError as exc:
            seconds = round(time.perf_counter() - started, 3)
            outcomes[name] = ["TiffError", str(exc)[:300], exc.path is not None, seconds]
        except BaseException:  # noqa: BLE001  # the fuzzer's job is to report these
            outcomes[name] = ["other", traceback.format_exc(limit=-6)[-2000:]]
    return outcomes


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    sys.setrecursionlimit(400)
    exercise(tiffstream.sample_path())  # warm up: imports, zarr's event loop thread
    base = _address_space()
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        limit = base + int(request["limit"])
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        result = exercise(request["path"])
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
