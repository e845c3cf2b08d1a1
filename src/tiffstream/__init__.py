"""tiffstream: open TIFF, BigTIFF and OME-TIFF files as code streams and decode them on CPU or GPU.

The public names are nvImageCodec's (``CodeStream``, ``CodeStreamView``, ``Region``) so that
``import tiffstream as nvimgcodec`` runs nvImageCodec scripts, plus our own ``open()``.
Importing the package does no I/O and starts no threads; CUDA libraries load only when used.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from .codestream import CodeStream, CodeStreamView
from .decoder import Backend, BackendFallbackWarning, Decoder
from .encoder import EncodeParams, Encoder, Jpeg2kEncodeParams, JpegEncodeParams
from .enums import (
    BackendKind,
    ChromaSubsampling,
    ColorSpec,
    ImageBufferKind,
    Jpeg2kBitstreamType,
    Jpeg2kProgOrder,
    LoadHintPolicy,
    MetadataFormat,
    MetadataKind,
    MetadataType,
    QualityType,
    SampleFormat,
)
from .errors import (
    BackendUnavailableError,
    CorruptTiffError,
    DecodeError,
    IfdChainWarning,
    ImageIndexError,
    NotATiffError,
    OmeXmlError,
    OmeXmlWarning,
    TiffError,
    TiffFormatError,
    TiffstreamWarning,
    TiffTruncatedError,
    TiffWriteError,
    TruncatedDataWarning,
    UnsupportedError,
    UnsupportedTiffError,
)
from .gpu.settings import GpuSettings
from .image import Image, as_image, as_images, from_dlpack
from .metadata import Metadata
from .params import DecodeParams
from .reader import TiffReader, imread
from .region import Region
from .tiff.file import TiffFile
from .write import TiffWriter, imwrite

if TYPE_CHECKING:
    from .source import SourceLike

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendFallbackWarning",
    "BackendKind",
    "BackendUnavailableError",
    "ChromaSubsampling",
    "CodeStream",
    "CodeStreamView",
    "ColorSpec",
    "CorruptTiffError",
    "DecodeError",
    "DecodeParams",
    "Decoder",
    "EncodeParams",
    "Encoder",
    "GpuSettings",
    "IfdChainWarning",
    "Image",
    "ImageBufferKind",
    "ImageIndexError",
    "Jpeg2kBitstreamType",
    "Jpeg2kEncodeParams",
    "Jpeg2kProgOrder",
    "JpegEncodeParams",
    "LoadHintPolicy",
    "Metadata",
    "MetadataFormat",
    "MetadataKind",
    "MetadataType",
    "NotATiffError",
    "OmeXmlError",
    "OmeXmlWarning",
    "QualityType",
    "Region",
    "SampleFormat",
    "TiffError",
    "TiffFile",
    "TiffFormatError",
    "TiffTruncatedError",
    "TiffWriteError",
    "TiffWriter",
    "TiffstreamWarning",
    "TruncatedDataWarning",
    "UnsupportedError",
    "UnsupportedTiffError",
    "__version__",
    "as_image",
    "as_images",
    "from_dlpack",
    "imread",
    "imwrite",
    "open",
    "sample_path",
    "to_dask",
    "to_ome_zarr",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __dir__() -> list[str]:  # the public API only (no imported helpers)
    return sorted(__all__)


def open(source: SourceLike) -> TiffFile:  # rasterio-style entry point
    """Open a TIFF for reading: a path, ``bytes``/buffer or binary file object.

    Returns a :class:`TiffFile` (a context manager) with a lazy ``pages`` sequence; each page has
    ``subifds``, ``tags``, ``shape``, ``dtype``, ``plan`` and ``asarray()``; ``ome`` holds parsed OME-XML.
    """
    return TiffReader(source)


def to_dask(
    source: SourceLike, series: int = 0, level: int = 0, *, backend: str = "cpu", yx_chunks: int | None = None
) -> Any:
    """A lazy dask array of one level of one series (see ``tiffstream.integrations.dask.to_dask``); needs dask."""
    from .integrations.dask import to_dask as _to_dask

    return _to_dask(source, series, level, backend=backend, yx_chunks=yx_chunks)  # type: ignore[arg-type]


def to_ome_zarr(source: SourceLike, store: Any, series: int = 0, *, chunk: int = 256, progress: bool = False) -> Any:
    """Write a series as OME-Zarr (NGFF 0.5, zarr v3; see ``tiffstream.integrations.ome_zarr``); needs zarr."""
    from .integrations.ome_zarr import to_ome_zarr as _to_ome_zarr

    return _to_ome_zarr(source, store, series, chunk=chunk, progress=progress)


def sample_path() -> str:
    """Path of the small pyramidal OME-TIFF shipped inside the package (the CLI's default input)."""
    return str(files(__name__).joinpath("data", "sample_pyramid.ome.tif"))
