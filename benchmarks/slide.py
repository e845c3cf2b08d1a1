"""Whole-slide reads: random ``read_region`` patches and open + properties, vs OpenSlide in the same run.

    python benchmarks/slide.py [--patches 1000] [--size 256] [--repeats 3]
    python benchmarks/slide.py --gpu [--wsi DIR] [--patches 1000] [--size 224]   (on a GPU: benchmarks/gpu/patches.py)

On an SVS look-alike of 40,000x30,000 (JPEG 256x256 tiles, written once by tifffile: random patches there
rarely share a tile) and the corpus slides (Aperio JPEG, Aperio JPEG 2000, Hamamatsu NDPI): each run opens the
slide afresh (empty tile caches) and reads the same random level-0 patches, on 1 thread and then on one per core
(a thread pool over the patches, one shared slide, as a data loader would); best of ``--repeats``. Then ours in
batches of 64 (``read_regions``, a thread per core) against the peers' times on a thread per core above. tiffslide is
added when installed. Ratios are the peer's time / ours (> 1: we are faster).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tifffile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _timing import fmt_seconds, machine, measure

import tiffstream.slide

WSI = pathlib.Path(__file__).resolve().parents[2] / "shared" / "corpus-wsi" / "files"
SLIDES = {
    "Aperio JPEG (CMU-1-Small-Region)": WSI / "libvips" / "CMU-1-Small-Region.svs",
    "Aperio JPEG 2000 (TCGA)": WSI / "histolab" / "tcga-cr-7395-01a-01-ts1.svs",
    "Hamamatsu NDPI": WSI / "slideio-tutorial" / "test3-DAPI-2-387.ndpi",
}
BATCH = 64  # patches a read_regions call (the GPU benchmark's too)


def look_alike(folder: pathlib.Path) -> pathlib.Path:
    """An Aperio-like level 0 of 40,000x30,000 RGB, JPEG 256x256 tiles (written once, tile by tile)."""
    path = folder / "svs_lookalike_40000x30000.tif"
    if path.exists():
        return path
    height, width, tile = 30000, 40000, 256
    rng = np.random.default_rng(0)
    y, x = np.ogrid[0:tile, 0:tile]
    base = [
        np.stack([128 + 80 * np.sin((x + 7 * k) / (19.0 + c)) * np.cos(y / 23.0) for c in range(3)], -1)
        for k in range(8)
    ]
    pool = [np.clip(b + rng.normal(0, 8, b.shape), 0, 255).astype(np.uint8) for b in base]

    def tiles():
        for k in range(-(-height // tile) * -(-width // tile)):
            yield pool[k % len(pool)]

    tifffile.imwrite(
        path.with_suffix(".partial"),
        tiles(),
        shape=(height, width, 3),
        dtype=np.uint8,
        tile=(tile, tile),
        photometric="rgb",
        compression="jpeg",
        compressionargs={"level": 85},
        maxworkers=os.cpu_count(),
        description="Aperio Image Library look-alike",
        metadata=None,
    )
    path.with_suffix(".partial").rename(path)
    return path


def readers() -> dict[str, object]:
    found: dict[str, object] = {"tiffstream": tiffstream.slide}
    for name in ("openslide", "tiffslide"):
        try:
            found[name] = __import__(name)
        except ImportError:
            print(f"({name} not installed: left out)")
    return found


def patches(path: pathlib.Path, count: int, size: int) -> list[tuple[int, int]]:
    with tiffstream.slide.OpenSlide(path) as slide:
        width, height = slide.dimensions
    rng = np.random.default_rng(1)
    return [
        (int(x), int(y)) for x, y in zip(rng.integers(0, width - size, count), rng.integers(0, height - size, count))
    ]


def read_all(module: object, path: pathlib.Path, locations: list[tuple[int, int]], size: int, threads: int) -> float:
    start = time.perf_counter()
    with module.OpenSlide(str(path)) as slide:  # type: ignore[attr-defined]

        def one(location: tuple[int, int]) -> object:
            return slide.read_region(location, 0, (size, size))

        if threads == 1:
            for location in locations:
                one(location)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, locations))
    return time.perf_counter() - start


def read_batches(path: pathlib.Path, locations: list[tuple[int, int]], size: int) -> float:
    """Ours in batches of ``BATCH`` (``read_regions``, a thread per core), a fresh slide."""
    start = time.perf_counter()
    with tiffstream.slide.OpenSlide(path) as slide:
        for at in range(0, len(locations), BATCH):
            slide.read_regions(locations[at : at + BATCH], 0, (size, size))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="read_regions(device='cuda') vs cuCIM and OpenSlide")
    parser.add_argument("--wsi", type=pathlib.Path, default=WSI, help="where the corpus slides are (--gpu)")
    args = parser.parse_args()
    if args.gpu:
        from gpu.patches import run

        run(args.wsi if args.wsi.exists() else None, args.patches, args.size, args.repeats)
        return
    found = readers()
    print(f"{args.patches} random {args.size}x{args.size} read_region patches at level 0 ({machine()})")
    names = list(found)
    print(
        f"{'slide':<36} {'threads':>7} "
        + " ".join(f"{n:>12}" for n in names)
        + "   "
        + " ".join(f"{n}/ours" for n in names[1:])
    )
    slides = {"SVS look-alike 40000x30000 (JPEG)": look_alike(pathlib.Path(tempfile.gettempdir()))}
    slides.update((label, path) for label, path in SLIDES.items() if path.exists())
    cores = os.cpu_count() or 1
    batch_rows = []
    for label, path in slides.items():
        locations = patches(path, args.patches, args.size)
        for threads in sorted({1, cores}):
            times = {
                name: min(read_all(module, path, locations, args.size, threads) for _ in range(args.repeats))
                for name, module in found.items()
            }
            ratios = " ".join(f"{times[n] / times['tiffstream']:>10.2f}x" for n in names[1:])
            print(
                f"{label:<36} {threads:>7} " + " ".join(f"{fmt_seconds(times[n]):>12}" for n in names) + "   " + ratios
            )
        ours = min(read_batches(path, locations, args.size) for _ in range(args.repeats))
        peers = "; ".join(f"{n} {args.patches / times[n]:7.0f}/s ({times[n] / ours:.2f}x)" for n in names[1:])
        batch_rows.append(f"  {label:<36} ours {args.patches / ours:7.0f}/s; {peers}")
    print(f"ours in batches of {BATCH} (read_regions) against the peers' read_region above, all on {cores} threads:")
    print("\n".join(batch_rows))
    print("open + level dimensions + vendor, mpp, objective power | + every property (quickhash-1 included):")
    for label, path in SLIDES.items():
        if not path.exists():
            continue
        row = []
        for module in found.values():

            def named(m: object = module) -> None:
                with m.OpenSlide(str(path)) as slide:  # type: ignore[attr-defined]
                    properties = slide.properties
                    _ = (
                        slide.level_dimensions,
                        [
                            properties.get(k)
                            for k in ("openslide.vendor", "openslide.mpp-x", "openslide.objective-power")
                        ],
                    )

            def every(m: object = module) -> None:
                with m.OpenSlide(str(path)) as slide:  # type: ignore[attr-defined]
                    _ = dict(slide.properties), slide.level_dimensions

            row.append(f"{fmt_seconds(measure(named, budget=0.5))} | {fmt_seconds(measure(every, budget=0.5))}")
        print(f"  {label:<36} " + "  ".join(f"{n}: {t}" for n, t in zip(names, row, strict=True)))


if __name__ == "__main__":
    main()
