"""HTTPS: the sync transport and the async client's own asyncio backend against a TLS fake server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
from harness import NO_SLEEP
from helpers_tls import certificate as certificate  # test_readme.py takes this fixture from here
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.engine.core import OVERLAP
from openrouter_video.io import files
from openrouter_video.testing import Cut, FakeOpenRouter, mp4_bytes
from openrouter_video_api.api.video_generation import list_videos_content
from openrouter_video_api.types import File


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_download_over_https_resumes_a_cut(
    tls_fake: FakeOpenRouter, certificate: tuple[Path, Path], payload: bytes, tmp_path: Path, mode: str
) -> None:
    assert tls_fake.base_url.startswith("https://")
    tls_fake.add_video("job-1", payload)
    tls_fake.enqueue(Cut(at=123_456))
    config = {
        "api_key": tls_fake.api_key,
        "base_url": tls_fake.base_url,
        "retry": NO_SLEEP,
        "verify": ssl.create_default_context(cafile=certificate[0]),
    }
    dest = tmp_path / "out.mp4"
    if mode == "sync":
        with VideoClient(**config) as client:  # type: ignore[arg-type]
            result = client.download("job-1", dest, source="api")
    else:

        async def run() -> object:
            async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                return await client.download("job-1", dest, source="api")

        result = asyncio.run(run())
    assert dest.read_bytes() == payload
    assert result.resumes == 1  # type: ignore[attr-defined]
    assert [r.headers.get("range") for r in tls_fake.requests] == [None, f"bytes={123_456 - OVERLAP}-"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unverified_certificate_is_refused(tls_fake: FakeOpenRouter, tmp_path: Path, mode: str) -> None:
    from openrouter_video import APIConnectionError

    tls_fake.add_video("job-1", b"x")
    sleeps: list[float] = []
    config = {
        "api_key": tls_fake.api_key,
        "base_url": tls_fake.base_url,
        "retry": RetryPolicy(sleep=sleeps.append),
    }
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        if mode == "sync":
            with VideoClient(**config) as client:  # type: ignore[arg-type]
                client.download("job-1", tmp_path / "out.mp4", source="api")
        else:

            async def run() -> None:
                async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                    await client.download("job-1", tmp_path / "out.mp4", source="api")

            asyncio.run(run())
    assert not (tmp_path / "out.mp4").exists()
    assert tls_fake.requests == [] and sleeps == []  # refused in the handshake, and not retried


def test_generated_async_call_over_https(
    tls_fake: FakeOpenRouter, certificate: tuple[Path, Path], payload: bytes
) -> None:
    tls_fake.add_video("job-1", payload)

    async def run() -> object:
        async with AsyncVideoClient(
            api_key=tls_fake.api_key,
            base_url=tls_fake.base_url,
            verify=ssl.create_default_context(cafile=certificate[0]),
        ) as client:
            return await list_videos_content.asyncio_detailed("job-1", client=client.api)

    response = asyncio.run(run())
    assert isinstance(response.parsed, File)  # type: ignore[attr-defined]
    assert response.parsed.payload.read() == payload  # type: ignore[attr-defined]


class HeldBackRelay:
    """A TLS server that sends a response's head and first ``first`` body bytes, then waits for
    :attr:`released`; between it and the client, a TCP relay that holds back the last 100 bytes of
    what the server sent until then (past its first 100,000), so that the client has whole records and
    the start of one more."""

    def __init__(self, cert: Path, key: str | Path, body: bytes, first: int) -> None:
        self.body, self.first, self.released = body, first, threading.Event()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.server, self.relay = (
            socket.create_server(("127.0.0.1", 0)),
            socket.create_server(("127.0.0.1", 0)),
        )
        self.port = self.relay.getsockname()[1]
        for target in (self._serve, self._relay):
            threading.Thread(target=target, daemon=True).start()

    def _serve(self) -> None:
        raw, _ = self.server.accept()
        with self.context.wrap_socket(raw, server_side=True) as tls:
            request = b""
            while b"\r\n\r\n" not in request:
                request += tls.recv(65536)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {len(self.body)}\r\n\r\n"
            tls.sendall(head.encode() + self.body[: self.first])
            self.released.wait(30)
            tls.sendall(self.body[self.first :])
            with contextlib.suppress(OSError):
                tls.recv(1)  # until the client closes

    def _relay(self) -> None:
        client, _ = self.relay.accept()
        upstream = socket.create_connection(self.server.getsockname())

        def up() -> None:
            with contextlib.suppress(OSError):
                while data := client.recv(65536):
                    upstream.sendall(data)

        threading.Thread(target=up, daemon=True).start()
        held, upstream_open, sent = b"", True, 0
        upstream.settimeout(0.05)
        with contextlib.suppress(OSError):
            while upstream_open or held:
                with contextlib.suppress(TimeoutError):
                    data = upstream.recv(65536) if upstream_open else b""
                    upstream_open = bool(data)
                    held += data
                if self.released.is_set() or not upstream_open or sent + len(held) < 100_000:
                    client.sendall(held)  # the handshake, the head and the body's start go through
                    sent, held = sent + len(held), b""
                elif len(held) > 100:  # then all but the last 100 bytes: the start of a record
                    client.sendall(held[:-100])
                    sent, held = sent + len(held) - 100, held[-100:]
        client.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_first_bytes_over_tls_reach_the_disk_while_a_record_is_on_its_way(
    certificate: tuple[Path, Path], tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst that ends in the middle of a TLS record (as slow start's do) must not hold back the
    whole records before it: the sync stream used to wait for the rest of that record, and of the
    next, until a megabyte was in (0.87 s for the first bytes over an 80 ms link, 0.44 s now).

    Every chunk goes to the writer as it comes (``FLUSH_AFTER`` 0): with the default batching, chunks
    that follow the first within 50 ms wait for the next one, which the held-back record delays, so
    what the disk shows would depend on how the records happened to arrive (CI saw 147,387 bytes)."""
    monkeypatch.setattr(files, "FLUSH_AFTER", 0.0)
    cert, key = certificate
    body = mp4_bytes(4_000_000)
    relay = HeldBackRelay(cert, key, body, 200_000)
    dest, part, results = tmp_path / "out.mp4", tmp_path / ".out.mp4.part", []
    config = {"api_key": "k", "base_url": f"https://127.0.0.1:{relay.port}/api/v1", "verify": str(cert)}

    def download() -> None:
        if mode == "sync":
            with VideoClient(**config) as client:  # type: ignore[arg-type]
                results.append(client.download("job-1", dest, source="api", max_connections=1))
            return

        async def run() -> None:
            async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                results.append(await client.download("job-1", dest, source="api", max_connections=1))

        asyncio.run(run())

    worker = threading.Thread(target=download)
    worker.start()
    try:
        end = time.monotonic() + 10
        while not (part.exists() and part.stat().st_size >= 150_000) and time.monotonic() < end:
            time.sleep(0.01)
        assert part.exists() and part.stat().st_size >= 150_000, "whole records held back"
    finally:
        relay.released.set()
        worker.join(30)
    assert dest.read_bytes() == body and results
