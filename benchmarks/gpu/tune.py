"""A/B of the GPU pipeline's settings, interleaved in one process: for each case, nvImageCodec's batch once,
then every variant in turn, ``--rounds`` times; prints MPix/s and the ratio to nvImageCodec per variant and
round. A variant is comma-separated settings: ``workers=N`` (worker streams), ``first=MB`` and ``max=MB``
(group sizes), ``submit=MB`` (chunk reads start once this many MB of images wait), ``spread=MB`` (bytes of
reads a descriptor takes in turn), ``readers=N`` (descriptors, so glibc AIO threads at once), ``block=MB``
(pinned blocks of chunk reads); ``default`` is the library as it is. The case ``regions`` is 1,000 random
512x512 regions of (c); without nvImageCodec only MPix/s are printed.

python benchmarks/gpu/tune.py --cases d,c --variants default workers=2 first=16,max=256
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))
from gpu_decode import PARAMS, add_dir_argument, files, letter, timed

import tiffstream
from tiffstream.gpu.settings import GpuSettings

_NAMES = {  # variant key -> (GpuSettings field, scale to bytes or 1)
    "workers": ("worker_streams", 1),
    "first": ("first_group_bytes", 2**20),
    "max": ("max_group_bytes", 2**20),
    "submit": ("stage_bytes", 2**20),
    "spread": ("spread_bytes", 2**20),
    "readers": ("read_threads", 1),
    "block": ("read_block_bytes", 2**20),
}


def settings_of(variant: str) -> GpuSettings:
    """The ``GpuSettings`` a variant names (every other setting at its default)."""
    items = dict(item.split("=") for item in variant.split(",") if "=" in item)
    return GpuSettings(**{_NAMES[k][0]: int(float(v) * _NAMES[k][1]) for k, v in items.items()})


def _regions(path: pathlib.Path, module) -> list:
    """1,000 random 512x512 regions of the file's pages, as ``gpu_decode.py`` draws them (any module with
    nvImageCodec's API)."""
    stream = module.CodeStream(str(path))
    rng = np.random.default_rng(0)
    pages, ys, xs = rng.integers(0, 192, 1000), rng.integers(0, 1567 - 512, 1000), rng.integers(0, 2048 - 512, 1000)
    return [
        stream.get_sub_code_stream(image_idx=int(i), region=module.Region(int(y), int(x), int(y) + 512, int(x) + 512))
        for i, y, x in zip(pages, ys, xs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dir_argument(parser)
    parser.add_argument("--cases", default="d")
    parser.add_argument("--variants", nargs="+", default=["default"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        from nvidia import nvimgcodec
    except ImportError:
        nvimgcodec = None
    decoders = {
        variant: tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY], gpu_settings=settings_of(variant))
        for variant in args.variants
    }
    ours = decoders[args.variants[0]]
    params = tiffstream.DecodeParams(**PARAMS)
    if nvimgcodec is not None:
        theirs = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)])
        their_params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    cases = args.cases.split(",")
    wanted = {"c" if case == "regions" else case for case in cases}
    paths = {letter(case): path for case, path in files(args.dir, False, wanted).items()}
    for case in cases:
        path = paths["c" if case == "regions" else case]
        if case == "regions":
            subs, mpix = _regions(path, tiffstream), 1000 * 512 * 512 / 1e6
            nv_subs = _regions(path, nvimgcodec) if nvimgcodec is not None else None

            def ours_batch(ours: tiffstream.Decoder) -> object:
                return ours.decode(subs, params=params)

            def theirs_batch() -> object:
                return theirs.decode(nv_subs, params=their_params)

        else:
            opened = tiffstream.CodeStream(str(path))
            count, first = opened.num_images, ours.decode(opened.get_sub_code_stream(image_idx=0), params=params)
            mpix = first.shape[0] * first.shape[1] * count / 1e6  # the pages are alike

            def theirs_batch() -> object:
                opened = nvimgcodec.CodeStream(str(path))
                return theirs.decode(
                    [opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=their_params
                )

            def ours_batch(ours: tiffstream.Decoder) -> object:
                opened = tiffstream.CodeStream(str(path))
                return ours.decode([opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=params)

        for round_number in range(args.rounds):
            t_nv = timed(theirs_batch, args.repeats) if nvimgcodec is not None else float("nan")
            cells = [f"nvImageCodec {mpix / t_nv:6.0f}"]
            for variant, decoder in decoders.items():
                t = timed(lambda decoder=decoder: ours_batch(decoder), args.repeats)
                cells.append(f"{variant} {mpix / t:6.0f} ({t_nv / t:4.2f}x)")
            print(f"{case:<10} round {round_number + 1}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
