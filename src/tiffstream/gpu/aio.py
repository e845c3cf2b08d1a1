"""Positioned reads on glibc's POSIX AIO threads: native threads that never wait for Python's GIL.

Read threads of our own would each take the GIL after every read, and the host thread, busy building the
next plans, then hands it over and waits to get it back; with 16 readers that slowed the host more than
reading in the background saved. glibc's AIO (``aio_read`` through ctypes) does the same preads on
threads of its own; the host only polls a field of each request. glibc runs the requests on one
descriptor one after another, so each piece of a group gets its own duplicate of the file's descriptor.

Linux with glibc only (the ``aiocb`` layout is glibc's LP64 one); elsewhere ``available()`` is False and
the backend reads on Python threads.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["AioReads", "available"]


class _Aiocb(ctypes.Structure):
    """glibc's ``struct aiocb`` on 64-bit Linux (168 bytes; offsets checked against <aio.h>)."""

    _fields_ = [
        ("aio_fildes", ctypes.c_int),
        ("aio_lio_opcode", ctypes.c_int),
        ("aio_reqprio", ctypes.c_int),
        ("_pad0", ctypes.c_int),
        ("aio_buf", ctypes.c_void_p),
        ("aio_nbytes", ctypes.c_size_t),
        ("sigev_value", ctypes.c_void_p),  # struct sigevent (64 bytes) starts here
        ("sigev_signo", ctypes.c_int),
        ("sigev_notify", ctypes.c_int),
        ("_sigevent_rest", ctypes.c_char * 48),
        ("_next_prio", ctypes.c_void_p),
        ("_abs_prio", ctypes.c_int),
        ("_policy", ctypes.c_int),
        ("error_code", ctypes.c_int),  # EINPROGRESS until the read is done (what aio_error returns)
        ("_pad1", ctypes.c_int),
        ("_return_value", ctypes.c_ssize_t),
        ("aio_offset", ctypes.c_int64),
        ("_reserved", ctypes.c_char * 32),
    ]


_SIGEV_NONE = 1


@functools.cache
def _library() -> Any:
    """librt's AIO calls (in libc itself since glibc 2.34; librt.so.1 forwards to them), or None."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    if ctypes.sizeof(_Aiocb) != 168:
        return None
    try:
        lib = ctypes.CDLL("librt.so.1", use_errno=True)
    except OSError:
        return None
    pointer = ctypes.POINTER(_Aiocb)
    lib.aio_read.argtypes = [pointer]
    lib.aio_read.restype = ctypes.c_int
    lib.aio_error.argtypes = [pointer]
    lib.aio_error.restype = ctypes.c_int
    lib.aio_return.argtypes = [pointer]
    lib.aio_return.restype = ctypes.c_ssize_t
    lib.aio_suspend.argtypes = [ctypes.POINTER(pointer), ctypes.c_int, ctypes.c_void_p]
    lib.aio_suspend.restype = ctypes.c_int
    return lib


def available() -> bool:
    """Whether glibc's POSIX AIO can be used here."""
    return _library() is not None


class AioReads:
    """Positioned reads ``(descriptor, file offset, nbytes, address)`` running on glibc's AIO threads,
    submitted in as many calls as wanted (a group's images are read as they are added).

    ``done()`` never blocks; ``wait()`` blocks (without the GIL) until all are done and returns how many
    bytes each read got; a failed read raises ``OSError``. The destination memory must outlive ``wait``.
    """

    def __init__(self, reads: Sequence[tuple[int, int, int, int]] = ()) -> None:
        self._lib = _library()
        self._blocks: list[_Aiocb] = []
        self._waiting = 0  # reads before this one are known to be done
        self._results: list[int] | None = None
        self.submit(reads)

    def submit(self, reads: Sequence[tuple[int, int, int, int]]) -> None:
        """Start more reads (before ``wait``)."""
        lib = self._lib
        for fd, offset, nbytes, address in reads:
            if nbytes < 0 or offset < 0:
                self.wait()
                raise ValueError(f"invalid read of {nbytes} bytes at offset {offset}")
            block = _Aiocb()
            block.aio_fildes, block.aio_offset, block.aio_nbytes, block.aio_buf = fd, offset, nbytes, address
            block.sigev_notify = _SIGEV_NONE
            if lib.aio_read(ctypes.byref(block)) != 0:
                code = ctypes.get_errno()
                self.wait()  # the reads already queued write into the caller's memory: let them finish
                raise OSError(code, f"aio_read failed: {errno.errorcode.get(code, code)}")
            self._blocks.append(block)

    def done(self) -> bool:
        blocks = self._blocks
        while self._waiting < len(blocks) and blocks[self._waiting].error_code != errno.EINPROGRESS:
            self._waiting += 1
        return self._waiting == len(blocks)

    def wait(self) -> list[int]:
        """Bytes each read got (fewer than asked only at the end of the file); raises the first failure."""
        if self._results is None:
            lib = self._lib
            results = []
            for block in self._blocks:
                pointer = ctypes.pointer(block)
                while lib.aio_error(pointer) == errno.EINPROGRESS:
                    lib.aio_suspend(ctypes.byref(pointer), 1, None)  # releases the GIL while it waits
                results.append(lib.aio_return(pointer) if block.error_code == 0 else -block.error_code)
            self._results = results
        failed = [-got for got in self._results if got < 0]
        if failed:
            raise OSError(failed[0], f"a read failed: {errno.errorcode.get(failed[0], failed[0])}")
        return self._results
