"""The fallback upstream of the benchmark when nginx is not installed: plain HTTP, sendfile(2).

Usage: python bench/server.py WWW_DIR PORT  -> serves until killed.

It answers ``GET /.../videos/<job>/content`` with ``WWW_DIR/<job>.mp4`` (200 only: Content-Length,
ETag, Last-Modified, video/mp4), one thread per connection, keep-alive. Good enough for a smoke run of
the harness (`make test` runs one without nginx); the numbers `make bench` reports come from nginx.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
from email.utils import formatdate

JOB_PATH = re.compile(r"/videos/([A-Za-z0-9_.-]+)/content(?:\?.*)?$")


def handle(conn: socket.socket, www: str) -> None:
    with conn:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                data = conn.recv(65536)
                if not data:
                    return
                buffered += data
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            target = request_line.split(" ")[1] if " " in request_line else "/"
            match = JOB_PATH.search(target)
            path = os.path.join(www, f"{match.group(1)}.mp4") if match else ""
            if not match or not os.path.isfile(path):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            with open(path, "rb") as body:
                stat = os.fstat(body.fileno())
                conn.sendall(
                    (
                        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n"
                        f"Content-Length: {stat.st_size}\r\n"
                        f'ETag: "{int(stat.st_mtime):x}-{stat.st_size:x}"\r\n'
                        f"Last-Modified: {formatdate(stat.st_mtime, usegmt=True)}\r\n\r\n"
                    ).encode()
                )
                if request_line.startswith("GET "):
                    conn.sendfile(body)


def main() -> None:
    www, port = sys.argv[1], int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", port), backlog=128)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(conn, www), daemon=True).start()


if __name__ == "__main__":
    main()
