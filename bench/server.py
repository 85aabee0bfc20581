"""A fast loopback HTTP server for the benchmark: it sends the body with sendfile(2) from a file.

Usage: python bench/server.py FILE  -> prints "PORT" on stdout once listening, serves until killed.

It answers any GET whose path ends in /content with the file (Content-Length, ETag, video/mp4), so the
same URL serves curl, plain httpx, the generated client, VideoClient and the CLI; the job id "warmup"
gets only the first KiB (the contenders' warm-up request). Each connection gets
a thread; the body goes out with socket.sendfile (zero-copy), so the server is not the bottleneck.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

#: The job id "warmup" gets only this many bytes: the contenders' warm-up request.
WARMUP_BYTES = 1024


def handle(conn: socket.socket, path: str, size: int) -> None:
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
            if not target.split("?", 1)[0].endswith("/content"):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            length = WARMUP_BYTES if "/warmup/" in target else size
            conn.sendall(
                (
                    "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n"
                    f'Content-Length: {length}\r\nETag: "bench-{length}"\r\nAccept-Ranges: bytes\r\n\r\n'
                ).encode()
            )
            with open(path, "rb") as body:
                conn.sendfile(body, count=length)


def main() -> None:
    path = sys.argv[1]
    size = os.path.getsize(path)
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(conn, path, size), daemon=True).start()


if __name__ == "__main__":
    main()
