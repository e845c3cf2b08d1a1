"""TiffWriter and imwrite: stream pages (with SubIFD pyramids) to a TIFF, BigTIFF or OME-TIFF.

Layout per page: the page's chunks, then each SubIFD level's chunks and IFD, then the page's IFD, whose
SubIFDs tag points at the levels; the previous page's next-IFD link is patched to it. The file is written
under a temporary name and renamed on close. Its header points at no IFD until every other byte is on
disk (written and fsynced), so a write killed at any moment leaves at most a temporary file that does not
parse, or one that is complete. Every failure (a full disk, a read-only or missing folder, a directory as
target) is a ``TiffWriteError`` naming the target, and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np

from ..errors import TiffWriteError
from .bands import as_page, bands, chunks_of
from .encode import Compressor, compressor, encode_chunk
from .ifd_builder import IfdBuilder
from .ome import ome_xml
from .pyramid import Downsampled, levels

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = ["TiffWriter", "imwrite"]

_PHOTOMETRIC = {"minisblack": 1, "miniswhite": 0, "rgb": 2, "palette": 3, "mask": 4, "separated": 5}
_SAMPLE_FORMAT = {"u": 1, "b": 1, "i": 2, "f": 3}
_CLASSIC_LIMIT = 2**32 - 2**25  # past this many bytes a classic TIFF cannot address its data


class TiffWriter:
    """Write a TIFF page by page.

    Parameters
    ----------
    path
        Destination; written as ``path + ".partial"`` and renamed on ``close()``.
    bigtiff
        Write BigTIFF (offsets of 8 bytes); required for files past 4 GiB.
    byteorder
        ``"<"`` (little-endian, default) or ``">"``.
    ome
        Write OME-XML into the first page, describing the pages written (see ``page_axes``).
    page_axes, page_shape
        How pages stack for OME: e.g. ``"Z"`` (default; size = pages written) or ``"TCZ"`` with its shape.
    physical_size
        (z, y, x) pixel sizes in micrometres for OME, any may be None.
    channel_names
        OME channel names.
    max_workers
        Threads encoding chunks (default: one per core).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        bigtiff: bool = False,
        byteorder: Literal["<", ">"] = "<",
        ome: bool = False,
        page_axes: str = "Z",
        page_shape: tuple[int, ...] | None = None,
        physical_size: tuple[float | None, float | None, float | None] = (None, None, None),
        channel_names: Sequence[str] = (),
        max_workers: int | None = None,
    ) -> None:
        if byteorder not in ("<", ">"):
            raise TiffWriteError(f"byteorder must be '<' or '>', got {byteorder!r}")
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise TiffWriteError("the target is a directory", path=self.path)
        self.bigtiff = bigtiff
        self.byteorder = byteorder
        self.ome = ome
        self.page_axes = page_axes
        self.page_shape = page_shape
        self.physical_size = physical_size
        self.channel_names = tuple(channel_names)
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, self._temp = tempfile.mkstemp(
                prefix=os.path.basename(self.path) + ".", suffix=".partial", dir=folder
            )
        except OSError as exc:
            raise TiffWriteError(f"cannot create a file in {folder}: {exc.strerror or exc}", path=self.path) from exc
        self._file = os.fdopen(handle, "w+b")
        self._pool = ThreadPoolExecutor(max_workers or os.cpu_count() or 1, thread_name_prefix="tiffstream-write")
        self._closed = False
        header = (b"II" if byteorder == "<" else b"MM") + struct.pack(byteorder + "H", 43 if bigtiff else 42)
        header += struct.pack(byteorder + "HHQ", 8, 0, 0) if bigtiff else struct.pack(byteorder + "I", 0)
        with self._failing_io():
            self._file.write(header)
        self._first_ifd = 0
        self._last_link = -1  # file offset of the previous main IFD's next link
        self._pages = 0
        self._first_page: dict[str, Any] = {}

    # -- low-level output -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _failing_io(self) -> Any:
        """An OS error (full disk, ...) drops the partial file and becomes a ``TiffWriteError`` naming the target."""
        try:
            yield
        except OSError as exc:
            self.abort()
            raise TiffWriteError(f"writing failed: {exc.strerror or exc}", path=self.path) from exc

    def _tell(self) -> int:
        return self._file.seek(0, os.SEEK_END)

    def _append(self, data: bytes) -> int:
        offset = self._tell()
        if offset & 1:
            self._file.write(b"\0")
            offset += 1
        end = offset + len(data)
        if not self.bigtiff and end > 2**32 - 1:
            raise TiffWriteError("the file passes 4 GiB: write it with bigtiff=True", path=self.path, offset=offset)
        self._file.write(data)
        return offset

    def _patch(self, position: int, fmt: str, value: int) -> None:
        self._file.seek(position)
        self._file.write(struct.pack(self.byteorder + fmt, value))
        self._file.seek(0, os.SEEK_END)

    @property
    def _offset_type(self) -> int:
        return 16 if self.bigtiff else 4

    # -- pages --------------------------------------------------------------------------------------

    def write(
        self,
        data: Any,
        *,
        photometric: str | None = None,
        compression: str | None = None,
        level: int | None = None,
        predictor: bool | int = False,
        tile: tuple[int, int] | None = None,
        rowsperstrip: int | None = None,
        planarconfig: Literal["contig", "separate"] = "contig",
        subifds: int | Sequence[Any] = 0,
        thumbnail: int | None = None,
        downsample: Callable[[np.ndarray], np.ndarray] | None = None,
        resolution: tuple[float, float, str] | None = None,
        description: str | None = None,
        extratags: Iterable[tuple[int, int, Any]] = (),
        subfiletype: int = 0,
        colormap: np.ndarray | None = None,
    ) -> int:
        """Write one page: ``data`` is ``(height, width)`` or ``(height, width, samples)``, a numpy array or
        any array-like with ``shape``, ``dtype`` and 2-D slicing (read a band of chunks at a time).

        ``subifds`` adds that many halved pyramid levels as SubIFDs, or writes the given images (array-likes,
        e.g. a source's own levels) as them; ``thumbnail`` adds one more SubIFD whose longest side is at most
        that many pixels. Boolean pages are bilevel (1 bit per pixel). Returns the page's IFD offset.
        """
        image, options = self._prepared(
            data, photometric, compression, level, predictor, tile, rowsperstrip, planarconfig, resolution, colormap
        )
        with self._failing_io():
            return self._write_page(image, options, subifds, thumbnail, downsample, subfiletype, extratags, description)

    def _prepared(
        self,
        data: Any,
        photometric: str | None,
        compression: str | None,
        level: int | None,
        predictor: bool | int,
        tile: tuple[int, int] | None,
        rowsperstrip: int | None,
        planarconfig: str,
        resolution: tuple[float, float, str] | None,
        colormap: np.ndarray | None,
    ) -> tuple[Any, dict[str, Any]]:
        """The page as an ``(h, w, s)`` array-like and its encoding options, checked."""
        if self._closed:
            raise TiffWriteError("the writer is closed", path=self.path)
        image = as_page(data)
        if len(image.shape) != 3 or 0 in image.shape:
            raise TiffWriteError(f"a page is (height, width[, samples]), got shape {np.shape(data)}", path=self.path)
        check_samples(image, self.path)
        samples = image.shape[2]
        if image.dtype.kind == "b" and (samples != 1 or photometric not in (None, "minisblack", "miniswhite", "mask")):
            raise TiffWriteError(
                "boolean pages are bilevel: one sample, minisblack, miniswhite or mask", path=self.path
            )
        if photometric == "mask" and image.dtype.kind != "b":
            raise TiffWriteError("a transparency mask is a boolean page", path=self.path)
        photometric_name = photometric or ("rgb" if samples in (3, 4) else "minisblack")
        if photometric_name not in _PHOTOMETRIC:
            raise TiffWriteError(f"unknown photometric {photometric!r}", path=self.path)
        scheme = compressor(compression)
        predictor_code = _predictor_code(predictor, image.dtype, scheme)
        if scheme.image and image.dtype.kind == "b":
            raise TiffWriteError(f"{scheme.name} cannot store bilevel (boolean) samples", path=self.path)
        if scheme.image and scheme.dtypes and image.dtype.name not in scheme.dtypes:
            raise TiffWriteError(f"{scheme.name} cannot store {image.dtype} samples", path=self.path)
        options = {
            "photometric": _PHOTOMETRIC[photometric_name],
            "scheme": scheme,
            "level": level,
            "predictor": predictor_code,
            "tile": tile,
            "rowsperstrip": rowsperstrip,
            "planar": 2 if planarconfig == "separate" and samples > 1 else 1,
            "resolution": resolution,
            "colormap": colormap,
        }
        return image, options

    def _write_page(
        self,
        image: np.ndarray,
        options: dict[str, Any],
        subifds: int | Sequence[Any],
        thumbnail: int | None,
        downsample: Callable[[np.ndarray], np.ndarray] | None,
        subfiletype: int,
        extratags: Iterable[tuple[int, int, Any]],
        description: str | None,
    ) -> int:
        sub_offsets = []
        if isinstance(subifds, int):
            reduced = levels(image, subifds, downsample) if subifds else []
        else:
            reduced = [as_page(level) for level in subifds]
        if thumbnail:
            factor = max(1, -(-max(image.shape[:2]) // thumbnail))
            reduced.append(Downsampled(image, factor) if factor > 1 else image)
        page_chunks = self._write_chunks(image, options)
        for level_image in reduced:
            chunks = self._write_chunks(level_image, options)
            ifd = self._page_ifd(level_image, options, chunks, subfiletype=1, extratags=())
            sub_offsets.append(self._append_ifd(ifd))
        ifd = self._page_ifd(image, options, page_chunks, subfiletype=subfiletype, extratags=extratags)
        if sub_offsets:
            ifd.add(330, 18 if self.bigtiff else 13, sub_offsets)
        if self._pages == 0 and self.ome:
            ifd.add(270, 2, "OME-XML follows at close")  # patched to the document appended by close()
        elif description is not None:
            ifd.add(270, 2, description)
        offset, serialized = self._append_ifd(ifd, keep=True)
        if self._pages == 0:
            self._first_ifd = offset
            self._first_page = {"image": image, "ifd": serialized}
        else:
            self._patch(self._last_link, "Q" if self.bigtiff else "I", offset)
        self._last_link = serialized.link_position
        self._pages += 1
        return offset

    def _append_ifd(self, ifd: IfdBuilder, keep: bool = False) -> Any:
        offset = self._tell()
        offset += offset & 1
        serialized = ifd.serialize(offset)
        written = self._append(serialized.data)
        assert written == offset
        return (offset, serialized) if keep else offset

    def _write_chunks(self, image: Any, options: dict[str, Any]) -> tuple[list[int], list[int], int]:
        """Encode and append the chunks of ``image`` a band at a time: (offsets, byte counts, rows per strip)."""
        tile = options["tile"]
        if tile and (tile[0] % 16 or tile[1] % 16 or tile[0] <= 0 or tile[1] <= 0):
            raise TiffWriteError(f"tile sizes must be positive multiples of 16, got {tile}", path=self.path)
        height, width, samples = image.shape
        separate = options["planar"] == 2
        rows = height
        if not tile:  # strips of about 64 KiB unless told
            row_bytes = width * (1 if separate else samples) * np.dtype(image.dtype).itemsize
            row_bytes = -(-width // 8) if image.dtype.kind == "b" else row_bytes
            rows = max(1, min(height, options["rowsperstrip"] or max(1, 65536 // row_bytes)))
        scheme: Compressor = options["scheme"]
        planes = samples if separate else 1
        offsets: list[list[int]] = [[] for _ in range(planes)]
        counts: list[list[int]] = [[] for _ in range(planes)]
        for band in bands(image, rows, tile):
            chunks = chunks_of(band, rows, tile, separate)
            encoded = self._pool.map(
                lambda chunk: encode_chunk(chunk, scheme, options["predictor"], self.byteorder, options["level"]),
                chunks,
            )
            per_plane = len(chunks) // planes
            for index, data in enumerate(encoded):  # chunk positions are plane-major, whatever the file order
                offsets[index // per_plane].append(self._append(data))
                counts[index // per_plane].append(len(data))
        return [o for plane in offsets for o in plane], [c for plane in counts for c in plane], rows

    def _page_ifd(
        self,
        image: np.ndarray,
        options: dict[str, Any],
        chunks: tuple[list[int], list[int], int],
        *,
        subfiletype: int,
        extratags: Iterable[tuple[int, int, Any]],
    ) -> IfdBuilder:
        height, width, samples = image.shape
        ifd = IfdBuilder(self.byteorder, self.bigtiff)
        ifd.add(254, 4, [subfiletype])
        ifd.add(256, 4, [width])
        ifd.add(257, 4, [height])
        bits = 1 if image.dtype.kind == "b" else image.dtype.itemsize * 8
        ifd.add(258, 3, [bits] * samples)
        ifd.add(259, 3, [options["scheme"].code])
        ifd.add(262, 3, [options["photometric"]])
        ifd.add(277, 3, [samples])
        ifd.add(284, 3, [options["planar"]])
        ifd.add(305, 2, "tiffstream")
        ifd.add(339, 3, [_SAMPLE_FORMAT[image.dtype.kind]] * samples)
        if options["predictor"] != 1:
            ifd.add(317, 3, [options["predictor"]])
        if options["photometric"] == 2 and samples > 3:
            ifd.add(338, 3, [2] * (samples - 3))  # unassociated alpha
        elif options["photometric"] == 1 and samples > 1:
            ifd.add(338, 3, [0] * (samples - 1))
        if options["colormap"] is not None:
            ifd.add(320, 3, np.asarray(options["colormap"], np.uint16).ravel())
        if options["resolution"] is not None:
            x, y, unit = options["resolution"]
            ifd.add(282, 5, _rational(x))
            ifd.add(283, 5, _rational(y))
            ifd.add(296, 3, [{"none": 1, "inch": 2, "centimeter": 3, "cm": 3}.get(str(unit).lower(), 1)])
        offsets, counts, rows = chunks
        offset_type = 16 if self.bigtiff else 4
        if options["tile"]:
            ifd.add(322, 4, [options["tile"][1]])
            ifd.add(323, 4, [options["tile"][0]])
            ifd.add(324, offset_type, offsets)
            ifd.add(325, offset_type, counts)
        else:
            ifd.add(273, offset_type, offsets)
            ifd.add(278, 4, [rows])
            ifd.add(279, offset_type, counts)
        for code, dtype, value in extratags:
            ifd.add(code, dtype, value)
        return ifd

    # -- closing -------------------------------------------------------------------------------------

    def _write_ome(self) -> None:
        image = self._first_page["image"]
        shape = self.page_shape or (self._pages,)
        if int(np.prod(shape)) != self._pages:
            raise TiffWriteError(f"page_shape {shape} does not match the {self._pages} pages written", path=self.path)
        xml = ome_xml(
            page_axes=self.page_axes,
            page_shape=tuple(shape),
            height=image.shape[0],
            width=image.shape[1],
            samples=image.shape[2] if image.shape[2] in (3, 4) else 1,
            dtype=image.dtype,
            physical_size=self.physical_size,
            channel_names=self.channel_names,
        ).replace('BigEndian="false"', f'BigEndian="{"true" if self.byteorder == ">" else "false"}"')
        raw = xml.encode("utf-8") + b"\0"
        position = self._first_page["ifd"].entry_positions[270]
        offset = self._append(raw)
        count_format, offset_format = ("Q", "Q") if self.bigtiff else ("I", "I")
        self._patch(position + 4, count_format, len(raw))
        self._patch(position + 4 + (8 if self.bigtiff else 4), offset_format, offset)

    def close(self) -> None:
        """Finish the file and move it to its name: OME-XML, every byte on disk, then the header's link to the
        first IFD (the one write that makes the file valid) on disk, then the rename."""
        if self._closed:
            return
        try:
            if self._pages == 0:
                raise TiffWriteError("no page was written", path=self.path)
            with self._failing_io():
                if self.ome:
                    self._write_ome()
                self._file.flush()
                os.fsync(self._file.fileno())
                self._patch(8 if self.bigtiff else 4, "Q" if self.bigtiff else "I", self._first_ifd)
                self._file.flush()
                os.fsync(self._file.fileno())
                if hasattr(os, "fchmod"):  # mkstemp makes 0600: give what open() would (0644 under umask 022)
                    os.fchmod(self._file.fileno(), 0o666 & ~_umask())
                self._file.close()
                os.replace(self._temp, self.path)
                _sync_folder(self.path)
            self._closed = True
        except BaseException:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        """Drop the partial file (whatever state the disk is in)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        try:
            if not self._file.closed:
                self._file.close()  # may fail on a full disk: the unlink below still runs
        except OSError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()


def _umask() -> int:
    """The process's umask (Linux tells it in /proc; elsewhere it is set and restored at once)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(path: str) -> None:
    """Make a rename durable: fsync the folder that holds ``path`` (where the platform allows it)."""
    if os.name != "posix":
        return
    handle = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def check_samples(array: Any, path: str | None = None) -> None:
    """Refuse arrays no TIFF page can hold (object, complex, string, 0-d, empty), before any byte is written."""
    dtype = np.dtype(array.dtype)
    if dtype.kind not in "uifb" or dtype.itemsize > 8:
        raise TiffWriteError(f"cannot write {dtype} samples (integers, floats or booleans only)", path=path)
    if len(array.shape) < 2 or 0 in array.shape:
        raise TiffWriteError(f"an image is at least (height, width), got shape {array.shape}", path=path)


def _rational(value: float) -> list[int]:
    numerator, denominator = float(value).as_integer_ratio()
    while numerator > 2**32 - 1 or denominator > 2**32 - 1:
        numerator //= 2
        denominator = max(1, denominator // 2)
    return [numerator, denominator]


def _predictor_code(predictor: bool | int, dtype: np.dtype, scheme: Compressor) -> int:
    if predictor is False or (predictor is not True and predictor == 1):  # True == 1 in Python: test it apart
        return 1
    if scheme.image or scheme.name == "none":
        raise TiffWriteError(f"a predictor cannot be used with {scheme.name} compression")
    if predictor is True:
        return 3 if dtype.kind == "f" else 2
    if predictor == 2 and dtype.kind in "iu":
        return 2
    if predictor == 3 and dtype.kind == "f":
        return 3
    raise TiffWriteError(f"predictor {predictor} does not suit {dtype} samples")


def imwrite(
    path: str | os.PathLike[str],
    data: np.ndarray,
    *,
    bigtiff: bool | None = None,
    byteorder: Literal["<", ">"] = "<",
    ome: bool = False,
    axes: str | None = None,
    physical_size: tuple[float | None, float | None, float | None] = (None, None, None),
    channel_names: Sequence[str] = (),
    photometric: str | None = None,
    **page_options: Any,
) -> None:
    """Write ``data`` as a TIFF: ``(h, w)`` or ``(h, w, s)`` is one page; more leading axes are pages.

    ``axes`` names the dimensions (e.g. ``"ZYX"``, ``"TCZYX"``, ``"ZYXS"``); by default a trailing axis
    of 3 or 4 is RGB(A) samples (one page) and any other leading axes are pages stacked along Z.
    BigTIFF is chosen when the data would pass 4 GiB (``bigtiff=None``). ``page_options`` go to
    ``TiffWriter.write`` (compression, tile, predictor, subifds, thumbnail, ...).
    """
    array = np.asarray(data)
    check_samples(array, os.fspath(path))
    if axes is None:
        rgb = array.ndim >= 3 and array.shape[-1] in (3, 4) and photometric in (None, "rgb")
        page_ndim = 3 if rgb else 2
        lead = array.ndim - page_ndim
        axes = "TCZ"[3 - lead :] + ("YXS" if rgb else "YX") if lead <= 3 else None
        if axes is None:
            raise TiffWriteError(f"cannot tell the axes of a {array.ndim}-D array: pass axes=")
    if len(axes) != array.ndim:
        raise TiffWriteError(f"axes {axes!r} do not match a {array.ndim}-D array")
    page_axes = axes.replace("Y", "").replace("X", "").replace("S", "")
    page_shape = tuple(array.shape[: len(page_axes)])
    pages = array.reshape((-1, *array.shape[len(page_axes) :])) if page_axes else array[np.newaxis]
    if bigtiff is None:
        bigtiff = array.nbytes > _CLASSIC_LIMIT
    with TiffWriter(
        path,
        bigtiff=bigtiff,
        byteorder=byteorder,
        ome=ome,
        page_axes=page_axes or "Z",
        page_shape=page_shape or (1,),
        physical_size=physical_size,
        channel_names=channel_names,
    ) as writer:
        for page in pages:
            writer.write(page, photometric=photometric, **page_options)
