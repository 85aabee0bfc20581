"""One benchmark contender, run as its own process by bench/run.py.

Usage: python bench/contender.py NAME BASE_URL DEST
NAME is one of httpx, generated, video_client, video_client_sha256, async_video_client; DEST is a file
path, or "-" for a sink that discards (to measure CPU cost). Prints one JSON object: "seconds" from
the request to the file being complete (the client is created before, as a service would keep one),
"bytes" read, and "peak_rss" (VmHWM of this process, in bytes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from openrouter_video import AsyncVideoClient, VideoClient
from openrouter_video_api import AuthenticatedClient
from openrouter_video_api.api.video_generation import list_videos_content

JOB = "bench-job"


def peak_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def timed(setup: Callable[[], Any], transfer: Callable[[Any], int], teardown: Callable[[Any], None]) -> None:
    client = setup()
    started = time.perf_counter()
    total = transfer(client)
    seconds = time.perf_counter() - started
    teardown(client)
    print(json.dumps({"seconds": seconds, "bytes": total, "peak_rss": peak_rss()}))


def httpx_transfer(client: httpx.Client, base_url: str, dest: str) -> int:
    total = 0
    with client.stream("GET", f"{base_url}/videos/{JOB}/content") as response:
        response.raise_for_status()
        if dest == "-":
            for chunk in response.iter_raw():
                total += len(chunk)
        else:
            with open(dest, "wb") as out:
                for chunk in response.iter_raw():  # the transport's chunks, no re-chunking
                    out.write(chunk)
                    total += len(chunk)
    return total


def generated_transfer(client: AuthenticatedClient, dest: str) -> int:
    response = list_videos_content.sync_detailed(JOB, client=client)  # buffers the whole body
    if dest != "-":
        with open(dest, "wb") as out:
            out.write(response.content)
    return len(response.content)


def video_client_transfer(client: VideoClient, dest: str, checksum: Any = None) -> int:
    if dest != "-":
        return client.download(JOB, dest, overwrite=True, checksum=checksum).size
    total = 0
    with client.stream(JOB) as video:
        for chunk in video.iter_bytes():
            total += len(chunk)
    return total


async def async_transfer(client: AsyncVideoClient, dest: str) -> int:
    if dest != "-":
        return (await client.download(JOB, dest, overwrite=True)).size
    total = 0
    async with client.stream(JOB) as video:
        async for chunk in video.aiter_bytes():
            total += len(chunk)
    return total


def main() -> None:
    name, base_url, dest = sys.argv[1:4]
    if name == "httpx":
        timed(httpx.Client, lambda c: httpx_transfer(c, base_url, dest), lambda c: c.close())
    elif name == "generated":
        timed(
            lambda: AuthenticatedClient(base_url=base_url, token="bench"),
            lambda c: generated_transfer(c, dest),
            lambda c: c.get_httpx_client().close(),
        )
    elif name in ("video_client", "video_client_sha256"):
        checksum = "sha256" if name.endswith("sha256") else None
        timed(
            lambda: VideoClient(api_key="bench", base_url=base_url),
            lambda c: video_client_transfer(c, dest, checksum),
            lambda c: c.close(),
        )
    elif name == "async_video_client":

        async def run() -> None:
            async with AsyncVideoClient(api_key="bench", base_url=base_url) as client:
                client.api.get_async_httpx_client()  # create the httpx client outside the timing
                started = time.perf_counter()
                total = await async_transfer(client, dest)
                seconds = time.perf_counter() - started
            print(json.dumps({"seconds": seconds, "bytes": total, "peak_rss": peak_rss()}))

        asyncio.run(run())
    else:
        raise SystemExit(f"unknown contender {name}")


if __name__ == "__main__":
    main()
