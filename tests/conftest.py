"""Shared fixtures: the real-file corpus, a factory of tifffile-written files, and report header."""

from __future__ import annotations

import csv
import os
import pathlib
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = pathlib.Path(os.environ.get("TIFFSTREAM_CORPUS", ROOT.parent / "shared" / "corpus"))
CORPUS_WSI = pathlib.Path(os.environ.get("TIFFSTREAM_CORPUS_WSI", ROOT.parent / "shared" / "corpus-wsi"))


def corpus_rows() -> list[dict[str, str]]:
    """Rows of the corpus INVENTORY (empty when the corpus is absent)."""
    inventory = CORPUS / "INVENTORY.tsv"
    if not inventory.exists():
        return []
    with inventory.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


# Corpus files whose series differ from tifffile's, with the reason (docs/compatibility.md): all corrupt
# files from fuzzers. tests/tiff/test_series_corpus.py expects each to differ (strict xfail).
SERIES_DIFFERENCES = {
    # corrupt files from fuzzers: tifffile reads a chain that loops (or pages without ImageWidth) differently
    "files/libtiff/test__images__test_ifd_loop_subifd.tif": "IFD loop: libtiff's chain policy keeps 5 pages",
    "files/libtiff/test__images__test_ifd_loop_to_first.tif": "IFD loop: 2 pages, too few for a uniform stack",
    "files/pillow/Tests__images__multipage_multiple_frame_loop.tiff": "IFD loop: 2 pages, not uniform",
    "files/pillow/Tests__images__child_ifd_jpeg.tiff": "SubIFD is an embedded JPEG thumbnail without ImageWidth",
    "files/pillow/Tests__images__crash-2020-10-test.tif": "a page without ImageWidth is no image",
    "files/pillow/Tests__images__crash-63b1dffefc8c075ddc606c0a2f5fdc15ece78863.tif": "TileWidth without TileLength",
    "files/oiio/testsuite__tiff-misc__src__corrupt1.tif": "BitsPerSample (5, 1, 33024) for one sample",
    "files/pillow/Tests__images__seek_too_large.tif": "first IFD outside the file: not a TIFF",
    "files/image-tiff/tests__fuzz_images__oor_panic__colormap-shl-overflow.tiff": "ColorMap past the end of file",
}


@pytest.fixture
def quiet():
    """tifffile's log and our warnings silenced (corpus-wide comparisons meet every kind of odd file)."""
    import logging

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def wsi_rows() -> list[dict[str, str]]:
    """Rows of the whole-slide corpus INVENTORY (empty when it is absent)."""
    inventory = CORPUS_WSI / "INVENTORY.tsv"
    if not inventory.exists():
        return []
    with inventory.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def require_corpus(root: pathlib.Path = CORPUS, variable: str = "TIFFSTREAM_CORPUS") -> None:
    """Skip without a corpus, except under CI, where its absence is a failure."""
    if not (root / "INVENTORY.tsv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus not found at {root} (set {variable})")
        pytest.skip(f"corpus not found at {root}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    import imagecodecs
    import tifffile

    import tiffstream

    rows = corpus_rows()
    return [
        f"tiffstream {tiffstream.__version__}, tifffile {tifffile.__version__}, imagecodecs {imagecodecs.__version__},"
        f" numpy {np.__version__}",
        f"corpus: {len(rows)} files at {CORPUS}" if rows else f"corpus: not found at {CORPUS}",
    ]


@dataclass(frozen=True)
class Recipe:
    """How to write a test TIFF with tifffile (the independent writer)."""

    shape: tuple[int, ...] = (3, 32, 24)  # pages first when 3-D
    dtype: str = "uint8"
    compression: str | None = None
    predictor: bool = False
    tile: tuple[int, int] | None = None
    rowsperstrip: int | None = None
    planar: str | None = None
    bigtiff: bool = False
    byteorder: str = "<"
    subifds: int = 0
    ome: bool = False
    photometric: str = "minisblack"
    extras: dict[str, object] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        bits = [f"{'x'.join(map(str, self.shape))}", self.dtype, self.compression or "raw"]
        bits += ["pred"] if self.predictor else []
        bits += [f"tile{self.tile[0]}"] if self.tile else []
        bits += [f"rps{self.rowsperstrip}"] if self.rowsperstrip else []
        bits += [self.planar] if self.planar else []
        bits += ["big"] if self.bigtiff else []
        bits += ["be"] if self.byteorder == ">" else []
        bits += [f"sub{self.subifds}"] if self.subifds else []
        bits += ["ome"] if self.ome else []
        bits += [self.photometric] if self.photometric != "minisblack" else []
        return "-".join(bits)


def write_recipe(path: pathlib.Path, recipe: Recipe) -> pathlib.Path:
    """Write ``recipe`` with tifffile; SubIFD levels halve each main page."""
    import tifffile

    rng = np.random.default_rng(zlib.crc32(recipe.id.encode()))
    dtype = np.dtype(recipe.dtype)
    if dtype.kind == "f":
        data = rng.random(recipe.shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, recipe.shape, dtype=dtype, endpoint=True)
    options: dict[str, object] = {"compression": recipe.compression, "photometric": recipe.photometric}
    if recipe.predictor:
        options["predictor"] = True
    if recipe.tile:
        options["tile"] = recipe.tile
    if recipe.rowsperstrip:
        options["rowsperstrip"] = recipe.rowsperstrip
    if recipe.planar:
        options["planarconfig"] = recipe.planar
        options["photometric"] = "rgb"
    with tifffile.TiffWriter(path, bigtiff=recipe.bigtiff, byteorder=recipe.byteorder, ome=recipe.ome) as writer:
        metadata = {"axes": "ZYX" if data.ndim == 3 else "YX"} if recipe.ome and not recipe.planar else None
        writer.write(data, subifds=recipe.subifds or None, metadata=metadata, **options)
        for level in range(1, recipe.subifds + 1):
            step = 2**level
            samples_last = recipe.planar or recipe.photometric == "rgb"
            reduced = data[..., ::step, ::step, :] if samples_last else data[..., ::step, ::step]
            writer.write(reduced, subfiletype=1, **options)
    return path


@pytest.fixture(scope="session")
def tiff_factory(tmp_path_factory: pytest.TempPathFactory):
    """Write (once per session) and return the path of the file a ``Recipe`` describes."""
    cache: dict[str, pathlib.Path] = {}
    folder = tmp_path_factory.mktemp("generated")

    def make(recipe: Recipe) -> pathlib.Path:
        if recipe.id not in cache:
            cache[recipe.id] = write_recipe(folder / f"{recipe.id}.tif", recipe)
        return cache[recipe.id]

    return make


@pytest.fixture(scope="session")
def seed_like_file(tiff_factory) -> pathlib.Path:
    """A small stand-in for the seed's retina file: 192 OME pages with 2 SubIFD levels, deflate strips."""
    return tiff_factory(Recipe(shape=(192, 40, 36), compression="zlib", subifds=2, ome=True, rowsperstrip=8))
