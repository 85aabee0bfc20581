"""One benchmark contender, run as its own process by bench/run.py.

Usage: python bench/contender.py NAME BASE_URL DEST
NAME is one of httpx, generated, video_client, video_client_sha256, video_client_nodurable,
async_video_client; DEST is a file
path, or "-" for a sink that discards (to measure CPU cost). Prints one JSON object: "seconds" from
the request to the file being complete (the client is created, and has made one small warm-up
request, before: the steady state of a service that keeps its client),
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


def timed(
    setup: Callable[[], Any],
    transfer: Callable[[Any, str], int],
    teardown: Callable[[Any], None],
) -> None:
    client = setup()
    transfer(client, "warmup")
    started = time.perf_counter()
    total = transfer(client, JOB)
    seconds = time.perf_counter() - started
    teardown(client)
    print(json.dumps({"seconds": seconds, "bytes": total, "peak_rss": peak_rss()}))


def httpx_transfer(client: httpx.Client, job: str, base_url: str, dest: str) -> int:
    total = 0
    with client.stream("GET", f"{base_url}/videos/{job}/content") as response:
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


def generated_transfer(client: AuthenticatedClient, job: str, dest: str) -> int:
    response = list_videos_content.sync_detailed(job, client=client)  # buffers the whole body
    if dest != "-":
        with open(dest, "wb") as out:
            out.write(response.content)
    return len(response.content)


def video_client_transfer(
    client: VideoClient, job: str, dest: str, checksum: Any = None, durable: bool = True
) -> int:
    if dest != "-":
        return client.download(job, dest, overwrite=True, checksum=checksum, durable=durable).size
    total = 0
    with client.stream(job) as video:
        for chunk in video.iter_bytes():
            total += len(chunk)
    return total


async def async_transfer(client: AsyncVideoClient, job: str, dest: str) -> int:
    if dest != "-":
        return (await client.download(job, dest, overwrite=True)).size
    total = 0
    async with client.stream(job) as video:
        async for chunk in video.aiter_bytes():
            total += len(chunk)
    return total


def main() -> None:
    name, base_url, final_dest = sys.argv[1:4]
    # The warm-up goes to the discarding sink: writing it to the same file would make the timed run
    # an overwrite, and renaming over a file costs ~0.4 s per GiB on ext4 (it flushes the old one).
    dests = {"warmup": "-"}

    def target(job: str) -> str:
        return dests.get(job, final_dest)

    if name == "httpx":
        timed(httpx.Client, lambda c, job: httpx_transfer(c, job, base_url, target(job)), lambda c: c.close())
    elif name == "generated":
        timed(
            lambda: AuthenticatedClient(base_url=base_url, token="bench"),
            lambda c, job: generated_transfer(c, job, target(job)),
            lambda c: c.get_httpx_client().close(),
        )
    elif name in ("video_client", "video_client_sha256", "video_client_nodurable"):
        checksum = "sha256" if name.endswith("sha256") else None
        durable = name != "video_client_nodurable"
        timed(
            lambda: VideoClient(api_key="bench", base_url=base_url),
            lambda c, job: video_client_transfer(c, job, target(job), checksum, durable),
            lambda c: c.close(),
        )
    elif name == "async_video_client":

        async def run() -> None:
            async with AsyncVideoClient(api_key="bench", base_url=base_url) as client:
                await async_transfer(client, "warmup", target("warmup"))
                started = time.perf_counter()
                total = await async_transfer(client, JOB, target(JOB))
                seconds = time.perf_counter() - started
            print(json.dumps({"seconds": seconds, "bytes": total, "peak_rss": peak_rss()}))

        asyncio.run(run())
    else:
        raise SystemExit(f"unknown contender {name}")


if __name__ == "__main__":
    main()
