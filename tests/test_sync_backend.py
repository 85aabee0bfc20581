"""The sync client's large-read network backend (:mod:`openrouter_video.fastio.socket_backend`): the
client's direct connections are made with it, and its reads are large.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import httpcore
import httpx
import pytest
from openrouter_video import VideoClient
from openrouter_video.fastio import Transport
from openrouter_video.fastio.socket_backend import READ_BYTES, LargeReadBackend, LargeReadStream
from openrouter_video.testing import Cut, FakeOpenRouter
from test_tls import certificate, tls_fake  # noqa: F401 - fixtures


def test_the_sync_client_is_on_the_large_read_backend_and_proxies_on_httpxs_transport() -> None:
    client = VideoClient(api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1")
    inner = client.transport.routes.pick(httpx.URL("http://127.0.0.1:9/"))
    assert isinstance(inner, Transport)
    connection = inner.pool.create_connection(httpcore.Origin(b"http", b"127.0.0.1", 9))
    assert isinstance(connection.backend, LargeReadBackend)
    client.close()
    proxied = VideoClient(
        api_key="sk-or-test-0123456789", base_url="http://127.0.0.1:9/api/v1", proxy="http://127.0.0.1:3128"
    )
    assert type(proxied.transport.routes.pick(httpx.URL("http://127.0.0.1:9/"))) is httpx.HTTPTransport
    proxied.close()


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every receive (``read`` and a download's ``read_lent`` both go through it)."""
    sizes: list[int] = []
    original = LargeReadStream._receive

    def receive(self: LargeReadStream, timeout: float | None) -> int:
        size = original(self, timeout)
        sizes.append(size)
        return size

    monkeypatch.setattr(LargeReadStream, "_receive", receive)
    return sizes


def test_reads_are_larger_than_httpcores_64_KiB(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = os.urandom(8 * 1024 * 1024)
    fake.add_video("job-1", payload)
    fake.enqueue(Cut(at=5_000_000))  # and a resume on the same backend
    sizes = _record_reads(monkeypatch)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert max(sizes) > 64 * 1024 and max(sizes) <= READ_BYTES


def test_tls_records_already_waiting_are_drained_into_one_read(
    tls_fake: FakeOpenRouter,  # noqa: F811
    certificate: tuple[Path, Path],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = os.urandom(4 * 1024 * 1024)
    tls_fake.add_video("job-1", payload)
    sizes = _record_reads(monkeypatch)
    verify = ssl.create_default_context(cafile=certificate[0])
    with VideoClient(api_key=tls_fake.api_key, base_url=tls_fake.base_url, verify=verify) as client:
        client.download("job-1", tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert max(sizes) > 16 * 1024 + 512  # more than one TLS record per read
