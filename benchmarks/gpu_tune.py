"""A/B of the GPU pipeline's settings, interleaved in one process: for each case, nvImageCodec's batch once,
then every variant in turn, ``--rounds`` times; prints MPix/s and the ratio to nvImageCodec per variant and
round. A variant is comma-separated settings: ``workers=N`` (worker streams), ``first=MB`` and ``max=MB``
(group sizes), ``submit=block|image|group`` (when chunk reads start), ``readers=N`` (descriptors reads are
spread over, so glibc AIO threads at once); ``default`` is the library as it is.

python benchmarks/gpu_tune.py --cases d,c --variants default workers=2 first=16,max=256
"""

from __future__ import annotations

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gpu_decode import PARAMS, add_dir_argument, files, timed

import tiffstream
from tiffstream.gpu import backend, transfer

_DEFAULTS = {
    "workers": transfer.WORKER_STREAMS,
    "first": backend.FIRST_GROUP_BYTES,
    "max": backend.MAX_GROUP_BYTES,
    "submit": transfer.SUBMIT,
    "readers": transfer._READ_THREADS,
}


def apply(variant: str) -> None:
    """Set the library's tunables to ``variant`` (all others back to their defaults)."""
    settings = dict(item.split("=") for item in variant.split(",") if "=" in item)
    transfer.WORKER_STREAMS = int(settings.get("workers", _DEFAULTS["workers"]))
    transfer.worker_streams.cache_clear()
    backend.FIRST_GROUP_BYTES = int(float(settings.get("first", _DEFAULTS["first"] / 2**20)) * 2**20)
    backend.MAX_GROUP_BYTES = int(float(settings.get("max", _DEFAULTS["max"] / 2**20)) * 2**20)
    transfer.SUBMIT = settings.get("submit", _DEFAULTS["submit"])
    transfer._READ_THREADS = int(settings.get("readers", _DEFAULTS["readers"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dir_argument(parser)
    parser.add_argument("--cases", default="d")
    parser.add_argument("--variants", nargs="+", default=["default"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    from nvidia import nvimgcodec

    theirs = nvimgcodec.Decoder(backends=[nvimgcodec.Backend(nvimgcodec.BackendKind.GPU_ONLY)])
    their_params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.UNCHANGED, allow_any_depth=True)
    ours = tiffstream.Decoder(backends=[tiffstream.BackendKind.GPU_ONLY])
    params = tiffstream.DecodeParams(**PARAMS)
    for case, path in files(args.dir, False, set(args.cases.split(","))).items():
        opened = tiffstream.CodeStream(str(path))
        count, first = opened.num_images, ours.decode(opened.get_sub_code_stream(image_idx=0), params=params)
        mpix = first.shape[0] * first.shape[1] * count / 1e6  # the pages are alike

        def theirs_batch() -> object:
            opened = nvimgcodec.CodeStream(str(path))
            return theirs.decode([opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=their_params)

        def ours_batch() -> object:
            opened = tiffstream.CodeStream(str(path))
            return ours.decode([opened.get_sub_code_stream(image_idx=i) for i in range(count)], params=params)

        for round_number in range(args.rounds):
            t_nv = timed(theirs_batch, args.repeats)
            cells = [f"nvImageCodec {mpix / t_nv:6.0f}"]
            for variant in args.variants:
                apply(variant)
                t = timed(ours_batch, args.repeats)
                cells.append(f"{variant} {mpix / t:6.0f} ({t_nv / t:4.2f}x)")
            apply("default")
            print(f"{case:<28} round {round_number + 1}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
