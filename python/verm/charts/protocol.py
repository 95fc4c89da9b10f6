"""Length-prefixed frames between the pool and its workers: ``struct "<IQ"`` (header length,
payload length), a UTF-8 JSON header, then raw payload bytes. JSON only: nothing is unpickled."""

from __future__ import annotations

import json
import os
import select
import struct
import time

_FRAME = struct.Struct("<IQ")
MAX_HEADER = 8 * 1024 * 1024

def widen_pipe(fd: int, size: int = 1 << 20) -> None:
    """Grow a pipe's kernel buffer (Linux ``F_SETPIPE_SZ``) so an image crosses in few
    writes; silently keeps the default elsewhere or when the limit forbids it."""
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, size)  # F_SETPIPE_SZ
    except (ImportError, OSError):
        pass


def write_frame(fd: int, header: dict, payload=b"") -> None:
    """Write one frame (blocking) to a file descriptor."""
    hb = json.dumps(header).encode("utf-8")
    mv = memoryview(payload).cast("B") if len(payload) else memoryview(b"")
    _write_all(fd, _FRAME.pack(len(hb), len(mv)) + hb)
    _write_all(fd, mv)


def _write_all(fd: int, data) -> None:
    mv = memoryview(data)
    while len(mv):
        n = os.write(fd, mv[: 1 << 20])
        mv = mv[n:]


def read_exact(fd: int, n: int, deadline: float | None = None) -> bytes | None:
    """Read exactly ``n`` bytes; None on EOF or when ``deadline`` (monotonic) passes."""
    buf = bytearray(n)
    mv = memoryview(buf)
    got = 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
        k = os.readv(fd, [mv[got:]])
        if k == 0:
            return None
        got += k
    return bytes(buf) if n < 4096 else buf  # type: ignore[return-value]


def read_frame(fd: int, deadline: float | None = None, max_payload: int = 1 << 34):
    """Read one frame; returns (header dict, payload bytes) or None (EOF, timeout, malformed)."""
    head = read_exact(fd, _FRAME.size, deadline)
    if head is None:
        return None
    hlen, plen = _FRAME.unpack(head)
    if hlen > MAX_HEADER or plen > max_payload:
        return None
    hb = read_exact(fd, hlen, deadline) if hlen else b""
    if hb is None:
        return None
    try:
        header = json.loads(bytes(hb).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(header, dict):
        return None
    payload = read_exact(fd, plen, deadline) if plen else b""
    if payload is None:
        return None
    return header, payload
