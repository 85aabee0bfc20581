"""A small raw-socket HTTP server for what http.server cannot send (:class:`RawServer`): it reads each
request head, records it and answers with scripted bytes. Shared by test_wire.py, test_fastio.py,
test_transport.py and test_verification.py."""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest


def data(size: int, seed: int = 1) -> bytes:
    """``size`` pseudo-random bytes (never mistaken for markup or an MP4 box)."""
    return random.Random(seed).randbytes(size)


@dataclass(frozen=True)
class Seen:
    """A request head the server read: method, target, headers (names lower-cased), connection number."""

    method: str
    target: str
    headers: dict[str, str]
    connection: int


@dataclass(frozen=True)
class Reply:
    """Raw bytes to send, then how the connection ends.

    ``end``: ``"close"`` (a clean FIN), ``"reset"`` (an RST, SO_LINGER 0) or ``"keep"`` (read the
    next request on the same connection); ``delay``: seconds to wait before ending it; ``hold``: an
    event to wait for (at most 10 s) before ending it.
    """

    data: bytes
    end: str = "close"
    delay: float = 0.0
    hold: threading.Event | None = None


Script = Reply | Callable[[Seen], Reply]


class RawServer:
    """A threaded HTTP/1.x server on 127.0.0.1 that answers each request with the next scripted reply.

    Each connection gets its own thread, so the client may open a new connection while an old one is
    still draining. When the script is exhausted, the server answers ``418`` (not retried by the
    client) and records the surprise in :attr:`errors`. After a reply that ends with ``"close"``,
    whatever the client still sends on that connection is read and dropped, unrecorded (as by a
    server that closed it).
    """

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.seen: list[Seen] = []
        self.errors: list[str] = []
        self._script: deque[Script] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepted = 0
        self._acceptor = threading.Thread(target=self._accept, name="raw-server", daemon=True)
        self._acceptor.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def script(self, *items: Script) -> None:
        self._script.extend(items)

    @property
    def pending(self) -> int:
        return len(self._script)

    @property
    def ranges(self) -> list[str | None]:
        return [seen.headers.get("range") for seen in self.seen]

    @property
    def if_ranges(self) -> list[str | None]:
        return [seen.headers.get("if-range") for seen in self.seen]

    def close(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=2)
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    # -- threads -----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with self._lock:
                self._accepted += 1
                number = self._accepted
                self._sockets.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        try:
            while not self._stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                raw, buffer = buffer.split(b"\r\n\r\n", 1)
                request_line, *lines = raw.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                seen = Seen(method, target, headers, number)
                with self._lock:
                    self.seen.append(seen)
                    item = self._script.popleft() if self._script else None
                if item is None:
                    self.errors.append(f"unscripted request {method} {target} {headers}")
                    reply = Reply(
                        b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                else:
                    reply = item(seen) if callable(item) else item
                conn.sendall(reply.data)
                if reply.delay:
                    self._stopping.wait(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(10)
                if reply.end == "keep":
                    continue
                if reply.end == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                conn.shutdown(socket.SHUT_WR)  # a clean FIN after the bytes sent
                conn.settimeout(2)
                while conn.recv(65536):  # until the client closes its end
                    pass
                return
        except OSError:
            return
        finally:
            conn.close()


def response(status: str, headers: list[str], body: bytes = b"", version: str = "HTTP/1.1") -> bytes:
    head = f"{version} {status}\r\n" + "".join(f"{line}\r\n" for line in headers) + "\r\n"
    return head.encode("latin-1") + body


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()
