"""Byte sources: positioned, thread-safe reads from a path, a buffer or a binary file object.

The container layer reads every byte through :class:`ByteSource`, never the whole file at once.
A read that runs past the end raises :class:`~tiffstream.errors.TiffTruncatedError`.
"""

from __future__ import annotations

import io
import os
import threading
from typing import IO, Any, Union

from .errors import TiffTruncatedError

__all__ = ["BufferSource", "ByteSource", "FileLikeSource", "PathSource", "SourceLike", "open_source"]

SourceLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "ByteSource", IO[bytes], Any]


class ByteSource:
    """Random-access bytes with a name and a size; ``read`` is safe to call from many threads."""

    name: str
    size: int

    def read(self, offset: int, nbytes: int) -> bytes:
        """Return exactly ``nbytes`` bytes starting at ``offset``, or raise ``TiffTruncatedError``."""
        self._check_range(offset, nbytes)
        return self._read(offset, nbytes)

    def read_at_most(self, offset: int, nbytes: int) -> bytes:
        """Return up to ``nbytes`` bytes from ``offset`` (fewer at the end of the source)."""
        if offset < 0 or offset > self.size:
            raise TiffTruncatedError(
                f"read at offset {offset} outside the source of {self.size} bytes", path=self.name, offset=offset
            )
        return self._read(offset, min(nbytes, self.size - offset))

    def read_into(self, offset: int, buffer: memoryview) -> int:
        """Fill ``buffer`` with the bytes at ``offset`` (fewer at the end of the source); returns the count."""
        data = self.read_at_most(offset, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _check_range(self, offset: int, nbytes: int) -> None:
        if offset < 0 or nbytes < 0 or offset + nbytes > self.size:
            raise TiffTruncatedError(
                f"cannot read {nbytes} bytes at offset {offset}: the source has {self.size} bytes",
                path=self.name,
                offset=offset,
            )

    def _read(self, offset: int, nbytes: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying file handle, if any (reads after close reopen a path source)."""

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.size} bytes>"


class PathSource(ByteSource):
    """A file on disk read with ``os.pread`` (positioned reads; no shared file position)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.name = self.path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.size = os.fstat(self._fd).st_size

    def _descriptor(self) -> int:
        fd = self._fd
        if fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                fd = self._fd
        return fd

    if hasattr(os, "pread"):

        def _read(self, offset: int, nbytes: int) -> bytes:
            fd = self._descriptor()
            data = os.pread(fd, nbytes, offset)
            if len(data) == nbytes:
                return data
            parts = [data]
            got = len(data)
            while got < nbytes:  # pread may return short reads on some file systems
                more = os.pread(fd, nbytes - got, offset + got)
                if not more:
                    raise TiffTruncatedError(
                        f"file ended after {offset + got} bytes while reading {nbytes} bytes",
                        path=self.name,
                        offset=offset,
                    )
                parts.append(more)
                got += len(more)
            return b"".join(parts)

    else:  # pragma: no cover - Windows has no pread

        def _read(self, offset: int, nbytes: int) -> bytes:
            fd = self._descriptor()
            with self._lock:
                os.lseek(fd, offset, os.SEEK_SET)
                data = os.read(fd, nbytes)
            if len(data) != nbytes:
                raise TiffTruncatedError(f"short read of {nbytes} bytes", path=self.name, offset=offset)
            return data

    if hasattr(os, "preadv"):

        def read_into(self, offset: int, buffer: memoryview) -> int:
            """Positioned read straight into ``buffer`` (no intermediate bytes object)."""
            fd = self._descriptor()
            got = 0
            while got < len(buffer):
                count = os.preadv(fd, [buffer[got:]], offset + got)
                if count == 0:
                    break
                got += count
            return got

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __getstate__(self) -> dict[str, object]:
        # Pickles as its path only: a worker reopens the file lazily on its first read.
        return {"path": self.path, "size": self.size}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.path = str(state["path"])
        self.name = self.path
        self.size = int(state["size"])  # type: ignore[call-overload]
        self._lock = threading.Lock()
        self._fd = None


class BufferSource(ByteSource):
    """Bytes already in memory: ``bytes``, ``bytearray``, ``memoryview`` or a contiguous numpy array."""

    def __init__(self, data: Any, name: str = "<bytes>") -> None:
        view = memoryview(data)
        if not view.contiguous:
            raise ValueError("buffer sources must be contiguous")
        self._view = view.cast("B") if view.ndim != 1 or view.format != "B" else view
        self.name = name
        self.size = self._view.nbytes

    def _read(self, offset: int, nbytes: int) -> bytes:
        return self._view[offset : offset + nbytes].tobytes()

    def __getstate__(self) -> dict[str, object]:
        return {"data": self._view.tobytes(), "name": self.name}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["data"], str(state["name"]))  # type: ignore[misc]


class FileLikeSource(ByteSource):
    """A seekable binary file object; reads are serialised with a lock (seek + read is not atomic)."""

    def __init__(self, fileobj: IO[bytes], name: str | None = None) -> None:
        if not (hasattr(fileobj, "read") and hasattr(fileobj, "seek")):
            raise TypeError(f"{fileobj!r} is not a seekable binary file object")
        self._file = fileobj
        self._lock = threading.Lock()
        self.name = name or str(getattr(fileobj, "name", None) or f"<{type(fileobj).__name__}>")
        with self._lock:
            here = fileobj.tell()
            self.size = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(here)

    def _read(self, offset: int, nbytes: int) -> bytes:
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(nbytes)
        if not isinstance(data, bytes):
            data = bytes(data)
        if len(data) != nbytes:
            raise TiffTruncatedError(
                f"file object returned {len(data)} of {nbytes} bytes", path=self.name, offset=offset
            )
        return data


def open_source(source: SourceLike) -> ByteSource:
    """Wrap a path, buffer, file object or existing ``ByteSource`` as a ``ByteSource``."""
    if isinstance(source, ByteSource):
        return source
    if isinstance(source, (str, os.PathLike)):
        return PathSource(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return BufferSource(source)
    if hasattr(source, "read") and hasattr(source, "seek"):
        return FileLikeSource(source)
    if hasattr(source, "__buffer__") or hasattr(source, "__array_interface__"):
        return BufferSource(source, name=f"<{type(source).__name__}>")
    raise TypeError(f"cannot read TIFF data from {type(source).__name__!r}: pass a path, bytes or a file object")
