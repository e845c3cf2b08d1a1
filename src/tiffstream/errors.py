"""Exception and warning hierarchy of tiffstream (shared by every layer).

Every error is a :class:`TiffError`, which is both a ``ValueError`` (as Python readers raise) and a
``RuntimeError`` (as nvImageCodec raises, so drop-in scripts keep catching it). Messages name the
source, the file offset and what is wrong.
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "CorruptTiffError",
    "DecodeError",
    "IfdChainWarning",
    "ImageIndexError",
    "NotATiffError",
    "OmeXmlError",
    "OmeXmlWarning",
    "TiffError",
    "TiffFormatError",
    "TiffTruncatedError",
    "TiffWriteError",
    "TiffstreamWarning",
    "TruncatedDataWarning",
    "UnsupportedError",
    "UnsupportedTiffError",
]


class TiffError(ValueError, RuntimeError):
    """Root of all tiffstream errors; carries the source name and file offset when known."""

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None) -> None:
        self.message = message
        self.path = path
        self.offset = offset
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        return f"{': '.join(where)}: {self.message}" if where else self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]  # keyword-only args survive pickling
        return (_rebuild_error, (type(self), self.message, self.path, self.offset))


def _rebuild_error(cls: type[TiffError], message: str, path: str | None, offset: int | None) -> TiffError:
    return cls(message, path=path, offset=offset)


class TiffFormatError(TiffError):
    """The file breaks the TIFF format: bad header, IFD, tag, offset past the end, IFD loop."""


CorruptTiffError = TiffFormatError


class NotATiffError(TiffFormatError):
    """The source does not start with a TIFF (or other recognised image) signature."""


class TiffTruncatedError(TiffFormatError, EOFError):
    """A read reached past the end of the source."""


class UnsupportedTiffError(TiffError, NotImplementedError):
    """The file is valid but uses a feature (compression, layout) tiffstream does not handle."""


UnsupportedError = UnsupportedTiffError


class DecodeError(TiffError):
    """A chunk's compressed data could not be decoded (wraps the codec's own error)."""


class OmeXmlError(TiffError):
    """The OME-XML metadata is malformed (raised only where asked for strictly)."""


class TiffWriteError(TiffError):
    """Writing a TIFF failed."""


class BackendUnavailableError(TiffError, ImportError):
    """A requested decode backend cannot run here (missing package or device)."""


class TiffstreamWarning(UserWarning):
    """Base of the warnings tiffstream gives for things the caller should act on."""


class OmeXmlWarning(TiffstreamWarning):
    """OME-XML metadata was present but could not be used."""


class ImageIndexError(TiffError, IndexError):
    """An image index outside the images of a code stream (a ``RuntimeError`` too, as nvImageCodec raises)."""


class IfdChainWarning(TiffstreamWarning):
    """An IFD chain ended early: a next-IFD link looped back or pointed at no valid IFD (as libtiff, we stop there)."""


class TruncatedDataWarning(TiffstreamWarning):
    """Chunks are cut short by the end of the file: what they hold is decoded, the rest is the fill value.

    Raise instead with ``strict=True`` (``Page.asarray``, ``imread``), or with
    ``warnings.simplefilter("error", TruncatedDataWarning)`` for the nvImageCodec API.
    """
