"""Byte sources: positioned, thread-safe reads from a path, a URL (fsspec), a buffer or a binary file object.

The container layer reads every byte through :class:`ByteSource`, never the whole file at once.
A read that runs past the end raises :class:`~tiffstream.errors.TiffTruncatedError`.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections import OrderedDict
from typing import IO, Any, Union

from .errors import TiffTruncatedError

__all__ = ["BufferSource", "ByteSource", "FileLikeSource", "FsspecSource", "PathSource", "SourceLike", "open_source"]

SourceLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "ByteSource", IO[bytes], Any]


class ByteSource:
    """Random-access bytes with a name and a size; ``read`` is safe to call from many threads.

    ``min_read``: bytes below which splitting one coalesced read into several costs more than it saves
    (each read of a remote source is a round trip; a local read is cheap at any size).
    """

    name: str
    size: int
    min_read: int = 0

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

    def descriptors(self, count: int) -> list[int] | None:
        """``count`` file descriptors of a local file, for native readers that queue work per descriptor
        (glibc's POSIX AIO); None when the source is not a local file. They stay open until ``close``."""
        return None

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
        self._dups: list[int] = []
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        status = os.fstat(self._fd)
        if stat.S_ISDIR(status.st_mode):
            os.close(self._fd)
            self._fd = None
            raise IsADirectoryError(errno.EISDIR, "is a directory, not a TIFF file", self.path)
        self.size = status.st_size

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

    def descriptors(self, count: int) -> list[int]:
        """``count`` duplicates of the file's descriptor (made once; positioned reads share no state)."""
        dups = self._dups
        if len(dups) < count:
            fd = self._descriptor()
            with self._lock:
                while len(self._dups) < count:
                    self._dups.append(os.dup(fd))
        return self._dups[:count]

    def close(self) -> None:
        with self._lock:
            for fd in self._dups:
                os.close(fd)
            self._dups = []
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        for number in [*getattr(self, "_dups", ()), *([] if fd is None else [fd])]:
            try:
                os.close(number)
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
        self._dups = []


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


class FsspecSource(ByteSource):
    """A remote (or any fsspec) file read with range requests through a small block cache.

    Reads are served from cached blocks of ``block_size`` bytes (``cache_blocks`` of them, least recently
    used dropped), fetching any missing run of blocks in one request, so walking IFDs does not cost one
    request per tag (a run read on from the last request fetches twice as many blocks each time). Reads of
    more than two blocks (compressed chunks, coalesced chunk runs) are fetched exactly, bypassing the cache: a
    Cloud Optimized GeoTIFF window costs its header block and its tiles' bytes, as GDAL's /vsicurl/.
    Pickles as its URL and options: a worker reconnects lazily.
    """

    min_read = 4 << 20  # a window's neighbouring tiles in one request, as GDAL's /vsicurl/ does

    def __init__(self, url: str, *, block_size: int = 64 * 1024, cache_blocks: int = 256, **storage_options: Any):
        self.url = url
        self.name = url
        self.block_size = block_size
        self.cache_blocks = cache_blocks
        self.storage_options = storage_options
        self._start()
        self.size = int(self._fs.size(self._path))

    def _start(self) -> None:
        """Fresh cache, counters and connection (on creation and after unpickling)."""
        self.requests = 0  # range requests made (for tests and benchmarks)
        self._lock = threading.Lock()
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._next_block = -1  # block after the last one fetched
        self._ahead = 1  # blocks fetched per miss while reading sequentially
        self._connect()

    def _connect(self) -> None:
        try:
            import fsspec
        except ImportError as exc:
            raise ImportError("reading URLs needs fsspec: pip install 'tiffstream[remote]'") from exc
        self._fs, self._path = fsspec.core.url_to_fs(self.url, **self.storage_options)

    def _fetch(self, start: int, end: int) -> bytes:
        self.requests += 1
        data = self._fs.cat_file(self._path, start=start, end=end)
        if len(data) != end - start:
            raise TiffTruncatedError(
                f"range request returned {len(data)} of {end - start} bytes", path=self.name, offset=start
            )
        return bytes(data)

    def _read(self, offset: int, nbytes: int) -> bytes:
        if nbytes > 2 * self.block_size:  # past an IFD's read-ahead window: chunk data, read exactly
            return self._fetch(offset, offset + nbytes)
        size = self.block_size
        first, last = offset // size, (offset + nbytes - 1) // size if nbytes else offset // size
        with self._lock:
            missing = [b for b in range(first, last + 1) if b not in self._blocks]
        if missing:  # one request for the whole run of missing blocks
            with self._lock:
                # reading on from where the last request ended: fetch ahead, doubling each time (chain walks)
                self._ahead = min(self._ahead * 2, self.cache_blocks // 2) if missing[0] == self._next_block else 1
            count = max(len(missing), self._ahead)
            last_block = min(missing[0] + count, -(-self.size // size)) - 1
            start = missing[0] * size
            data = self._fetch(start, min((last_block + 1) * size, self.size))
            with self._lock:
                self._next_block = last_block + 1
                for b in range(missing[0], last_block + 1):
                    self._blocks[b] = data[(b - missing[0]) * size : (b - missing[0] + 1) * size]
        with self._lock:
            parts = []
            for b in range(first, last + 1):
                block = self._blocks[b]
                self._blocks.move_to_end(b)
                parts.append(block)
            while len(self._blocks) > self.cache_blocks:
                self._blocks.popitem(last=False)
        joined = b"".join(parts)
        return joined[offset - first * size : offset - first * size + nbytes]

    def __getstate__(self) -> dict[str, object]:
        return {
            "url": self.url,
            "block_size": self.block_size,
            "cache_blocks": self.cache_blocks,
            "storage_options": self.storage_options,
            "size": self.size,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url = self.name = state["url"]
        self.block_size, self.cache_blocks = state["block_size"], state["cache_blocks"]
        self.storage_options = state["storage_options"]
        self.size = state["size"]
        self._start()


def _is_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isidentifier() and len(scheme) > 1


def open_source(source: SourceLike) -> ByteSource:
    """Wrap a path, URL (any fsspec protocol), buffer, file object or existing ``ByteSource``."""
    if isinstance(source, ByteSource):
        return source
    if isinstance(source, str) and _is_url(source):
        if source.startswith("file://"):
            return PathSource(source[len("file://") :])
        return FsspecSource(source)
    if isinstance(source, (str, os.PathLike)):
        return PathSource(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return BufferSource(source)
    if hasattr(source, "read") and hasattr(source, "seek"):
        return FileLikeSource(source)
    if hasattr(source, "__buffer__") or hasattr(source, "__array_interface__"):
        return BufferSource(source, name=f"<{type(source).__name__}>")
    raise TypeError(f"cannot read TIFF data from {type(source).__name__!r}: pass a path, bytes or a file object")
