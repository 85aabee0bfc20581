"""The async client's lean asyncio backend, and the private seams it rests on.

``_aio.async_http_transport`` swaps the network backend of the connection pool httpx builds
(``AsyncHTTPTransport._pool``, httpx's private attribute, and ``_network_backend``, httpcore's). These
tests fail if either seam moves in a new httpx or httpcore, or if the async client is not actually on
:class:`AsyncioBackend`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from openrouter_video import AsyncVideoClient
from openrouter_video._aio import AsyncioBackend, async_http_transport
from openrouter_video.testing import FakeOpenRouter


def test_the_seams_exist_where_the_backend_swap_expects_them() -> None:
    transport = httpx.AsyncHTTPTransport()
    assert isinstance(transport._pool, httpcore.AsyncConnectionPool)
    assert hasattr(transport._pool, "_network_backend")
    proxied = httpx.AsyncHTTPTransport(proxy="http://127.0.0.1:3128")
    assert isinstance(proxied._pool, httpcore.AsyncHTTPProxy)
    assert hasattr(proxied._pool, "_network_backend")


@pytest.mark.parametrize("proxy", [None, "http://127.0.0.1:3128"])
def test_async_http_transport_is_on_the_asyncio_backend(proxy: str | None) -> None:
    transport = async_http_transport(True, limits=httpx.Limits(max_connections=7), proxy=proxy)
    assert isinstance(transport._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]
    assert transport._pool._max_connections == 7  # type: ignore[attr-defined]


def test_the_async_client_really_connects_through_the_asyncio_backend(
    fake: FakeOpenRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects: list[tuple[str, int]] = []
    original = AsyncioBackend.connect_tcp

    async def counting(self: AsyncioBackend, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        connects.append((host, port))
        return await original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", counting)
    fake.add_video("job-1", b"\x00" * 1000 + b"video")

    async def run() -> None:
        async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            await client.download("job-1", tmp_path / "out.mp4")
            await client.list_models()

    asyncio.run(run())
    assert connects and all(port == fake.port for _, port in connects)
    assert (tmp_path / "out.mp4").read_bytes().endswith(b"video")
