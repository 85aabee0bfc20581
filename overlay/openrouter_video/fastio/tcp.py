"""The kernel's view of a TCP connection, which the segment ramp reads (issue 27)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from typing import Any, Final

_TCP_INFO: Final = getattr(socket, "TCP_INFO", None)  # Linux: ``struct tcp_info``, whose
_MIN_RTT, _SIZE = 148, 152  # ``tcpi_min_rtt`` (microseconds) ends 152 bytes in (Linux 4.6 and later)


def least_rtt(sock: Any) -> Callable[[], float | None] | None:
    """A reader of the least round trip the kernel measured on ``sock`` (seconds): on a download, its
    handshake's, which waits in a full queue on the path. It reads ``None`` before the handshake and
    once the socket is closed; ``None`` stands for no reader where neither platform nor socket has one."""
    if _TCP_INFO is None or not hasattr(sock, "getsockopt"):
        return None

    def read() -> float | None:
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _SIZE)
        except Exception:  # closed, or a socket-like object without the option: no view, no error
            return None
        return (struct.unpack_from("I", info, _MIN_RTT)[0] / 1e6 or None) if len(info) >= _SIZE else None

    try:
        return read if len(sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _SIZE)) >= _SIZE else None
    except Exception:
        return None
