"""Pack the corpus files the GPU tests read into parts small enough to carry to a GPU machine.

    python tests/gpu/pack_corpus.py [--parts 2] [--corpus ../shared/corpus] [--out .gpu] [--compressions JPEG]

The device tool carries 64 MiB a call; the GPU rows of the corpus are ~45 MB compressed, and the bundle of
imagecodecs and nvcomp the tests need is ~23 MB. Each part is a ``corpus<k>.tar.xz`` holding its own
INVENTORY.tsv (only its rows, so no test looks for a file the part lacks); there, unpack one into a folder
and point ``TIFFSTREAM_CORPUS`` at it. ``--compressions JPEG`` packs the rows of test_gpu_jpeg.py instead
(~11 MB in one part).
"""

from __future__ import annotations

import argparse
import csv
import io
import pathlib
import tarfile

GPU_COMPRESSIONS = ("NONE", "LZW", "ADOBE_DEFLATE", "DEFLATE", "PACKBITS", "ZSTD")  # as test_gpu_decode.GPU_ROWS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parents[2]
    parser.add_argument("--corpus", type=pathlib.Path, default=root.parent / "shared" / "corpus")
    parser.add_argument("--out", type=pathlib.Path, default=root / ".gpu")
    parser.add_argument("--parts", type=int, default=2)
    parser.add_argument("--compressions", default=",".join(GPU_COMPRESSIONS), help="INVENTORY compression names")
    args = parser.parse_args()
    wanted = set(args.compressions.split(","))
    with (args.corpus / "INVENTORY.tsv").open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        fields = reader.fieldnames or []
        rows = [r for r in reader if r["tifffile_ok"] == "1" and r["compression"] in wanted]
    parts: list[list[dict[str, str]]] = [[] for _ in range(args.parts)]
    sizes = [0] * args.parts
    for row in sorted(rows, key=lambda r: -int(r["size"])):  # largest first, each into the lightest part
        k = sizes.index(min(sizes))
        parts[k].append(row)
        sizes[k] += int(row["size"])
    args.out.mkdir(parents=True, exist_ok=True)
    for k, part in enumerate(parts):
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=fields, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(part)
        data = table.getvalue().encode()
        target = args.out / f"corpus{k}.tar.xz"
        with tarfile.open(target, "w:xz") as tar:
            info = tarfile.TarInfo("INVENTORY.tsv")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for row in part:
                tar.add(args.corpus / row["path"], arcname=row["path"])
        print(f"{target}: {len(part)} files, {sizes[k] / 1e6:.1f} MB, {target.stat().st_size / 1e6:.1f} MB packed")


if __name__ == "__main__":
    main()
