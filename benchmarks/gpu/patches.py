"""Random patches on the GPU: ``read_regions(device="cuda")`` against ours on host threads (uploaded), cuCIM's
``CuImage.read_region`` (GPU and CPU; in a child process, which a hang cannot stop) and OpenSlide, in one run (``python benchmarks/slide.py --gpu [--wsi DIR] [--patches 1000] [--size 224]``).

Slides: an SVS look-alike of 40,000x30,000 (JPEG 256x256 tiles, written here by tifffile) and the corpus slides
found under ``--wsi`` (CMU-1-Small-Region.svs, the TCGA JPEG 2000 SVS). Per slide: the same random level-0
patches in batches of 64; each reader's time for all (best of ``--repeats``, a fresh slide each time, so no tile
cache carries over), patches per second and the ratio to ours; our device batches against OpenSlide's pixels
(max |diff| over RGB where opaque).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

import tiffstream.slide

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
from _timing import best
from slide import BATCH, look_alike, patches  # the same slide, batches and random locations as the CPU benchmark


def ours(path: pathlib.Path, where: list[tuple[int, int]], size: int) -> list:
    import cupy as cp

    out = []
    with tiffstream.slide.OpenSlide(path) as slide:
        for at in range(0, len(where), BATCH):
            out.append(slide.read_regions(where[at : at + BATCH], 0, (size, size), device="cuda"))
    cp.cuda.Device().synchronize()
    return out


def host_threads(path: pathlib.Path, where: list[tuple[int, int]], size: int, repeats: int) -> float:
    """Ours on the host: ``read_regions(device="cpu")`` (a thread per core, the slide's tile cache), then one
    upload of each batch."""
    import cupy as cp

    def run() -> None:
        with tiffstream.slide.OpenSlide(path) as slide:
            for at in range(0, len(where), BATCH):
                cp.asarray(slide.read_regions(where[at : at + BATCH], 0, (size, size)))
        cp.cuda.Device().synchronize()

    return best(run, repeats)


def cucim_reader(device: str, timeout: float):
    """cuCIM's batched read_region (GDS in compatibility mode, so it runs without a cuFile driver), timed in a
    process of its own: on the corpus' CMU slide cuCIM's GPU read once never returned (H100, cuCIM 26.10)."""

    def read(path: pathlib.Path, where: list[tuple[int, int]], size: int, repeats: int) -> float:
        command = [sys.executable, __file__, "--cucim", device, str(path), str(len(where)), str(size), str(repeats)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"no result in {timeout:.0f} s") from None
        if done.returncode:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
        return float(done.stdout.strip().splitlines()[-1])

    return read


def time_cucim(device: str, path: pathlib.Path, count: int, size: int, repeats: int) -> float:
    """Best time of cuCIM reading the benchmark's patches of ``path`` (run in the child process)."""
    settings = pathlib.Path(tempfile.gettempdir()) / "tiffstream-cufile.json"
    settings.write_text(json.dumps({"properties": {"allow_compat_mode": True}}))
    os.environ.setdefault("CUFILE_ENV_PATH_JSON", str(settings))
    from cucim import CuImage

    where = patches(path, count, size)

    def run() -> None:
        image = CuImage(str(path))
        batches = image.read_region(
            where, (size, size), 0, device=device, batch_size=BATCH, num_workers=os.cpu_count() or 1
        )
        for batch in batches:
            if device == "cuda":
                import cupy as cp

                cp.asarray(batch)
        if device == "cuda":
            import cupy as cp

            cp.cuda.Device().synchronize()

    return best(run, repeats)


def openslide_reader():
    try:
        import openslide
    except ImportError as exc:
        print(f"  OpenSlide not available: {exc}")
        return None, None
    from concurrent.futures import ThreadPoolExecutor

    def read(path: pathlib.Path, where: list[tuple[int, int]], size: int, repeats: int) -> float:
        def run() -> None:
            with openslide.OpenSlide(str(path)) as slide, ThreadPoolExecutor(os.cpu_count()) as pool:
                list(pool.map(lambda at: slide.read_region(at, 0, (size, size)), where))

        return best(run, repeats)

    return read, openslide


def run(wsi: pathlib.Path | None, count: int, size: int, repeats: int, timeout: float = 30) -> None:
    import cupy as cp

    folder = pathlib.Path(tempfile.gettempdir()) / "tiffstream-patches"
    folder.mkdir(exist_ok=True)
    start = time.perf_counter()
    slides = {"SVS look-alike 40000x30000 (JPEG)": look_alike(folder)}
    print(f"  look-alike ready in {time.perf_counter() - start:.1f} s", flush=True)
    if wsi is not None:
        for label, name in (
            ("CMU-1-Small-Region (JPEG)", "CMU-1-Small-Region.svs"),
            ("TCGA (JPEG 2000)", "tcga-cr-7395-01a-01-ts1.svs"),
        ):
            found = sorted(wsi.rglob(name))
            if found:
                slides[label] = found[0]
    print(
        f"GPU {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}, {os.cpu_count()} cores; {count} patches {size}x{size}, batches of {BATCH}"
    )
    slide_read, openslide = openslide_reader()
    peers = {"ours on host threads + upload": host_threads, "OpenSlide 16 threads": slide_read}
    if importlib.util.find_spec("cucim") is None:
        print("  cuCIM not available")
    else:
        peers.update({"cuCIM cuda": cucim_reader("cuda", timeout), "cuCIM cpu": cucim_reader("cpu", timeout)})
    for label, path in slides.items():
        where = patches(path, count, size)
        batches = ours(path, where, size)
        t_ours = best(functools.partial(ours, path, where, size), repeats)
        line = f"{label}: ours {count / t_ours:7.0f}/s"
        for name, read in peers.items():
            if read is None:
                continue
            try:
                t = read(path, where, size, repeats)
            except Exception as exc:  # noqa: BLE001  # a peer that fails is reported, not fatal
                line += f"; {name} failed ({type(exc).__name__}: {str(exc)[:80]})"
                continue
            line += f"; {name} {count / t:7.0f}/s ({t / t_ours:.2f}x)"
        print(line, flush=True)
        if openslide is not None:
            worst = 0
            with openslide.OpenSlide(str(path)) as slide:
                for k in range(0, len(where), max(1, len(where) // 50)):
                    want = np.asarray(slide.read_region(where[k], 0, (size, size)))
                    got = batches[k // BATCH][k % BATCH].get()
                    opaque = want[..., 3] == 255
                    worst = max(worst, int(np.abs(got[opaque][:, :3].astype(int) - want[opaque][:, :3]).max(initial=0)))
            print(
                f"  ours vs OpenSlide on {len(range(0, len(where), max(1, len(where) // 50)))} patches: max|diff| {worst}"
            )


if __name__ == "__main__" and sys.argv[1:2] == ["--cucim"]:  # the child process of cucim_reader
    device, path, count, size, repeats = sys.argv[2:7]
    print(time_cucim(device, pathlib.Path(path), int(count), int(size), int(repeats)))
