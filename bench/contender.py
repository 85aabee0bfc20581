"""One benchmark contender, run as its own process by bench/run.py.

Usage: python bench/contender.py NAME BASE_URL DEST
NAME is one of httpx, generated, video_client, video_client_sha256, async_video_client; DEST is a file
path, or "-" for a sink that discards (to measure CPU cost). Prints {"seconds": ..., "bytes": ...}:
the time from the request to the file being complete, without interpreter start-up.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

JOB = "bench-job"


def run_httpx(base_url: str, dest: str) -> int:
    import httpx

    total = 0
    with httpx.Client() as client, client.stream("GET", f"{base_url}/videos/{JOB}/content") as response:
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


def run_generated(base_url: str, dest: str) -> int:
    from openrouter_video_api import AuthenticatedClient
    from openrouter_video_api.api.video_generation import list_videos_content

    with AuthenticatedClient(base_url=base_url, token="bench") as client:
        response = list_videos_content.sync_detailed(JOB, client=client)  # buffers the whole body
    if dest != "-":
        with open(dest, "wb") as out:
            out.write(response.content)
    return len(response.content)


def run_video_client(base_url: str, dest: str, checksum: str | None = None) -> int:
    from openrouter_video import VideoClient

    with VideoClient(api_key="bench", base_url=base_url) as client:
        if dest == "-":
            total = 0
            with client.stream(JOB) as video:
                for chunk in video.iter_bytes():
                    total += len(chunk)
            return total
        return client.download(JOB, dest, overwrite=True, checksum=checksum).size  # type: ignore[arg-type]


def run_async_video_client(base_url: str, dest: str) -> int:
    from openrouter_video import AsyncVideoClient

    async def main() -> int:
        async with AsyncVideoClient(api_key="bench", base_url=base_url) as client:
            if dest == "-":
                total = 0
                async with client.stream(JOB) as video:
                    async for chunk in video.aiter_bytes():
                        total += len(chunk)
                return total
            return (await client.download(JOB, dest, overwrite=True)).size

    return asyncio.run(main())


def main() -> None:
    name, base_url, dest = sys.argv[1:4]
    runners = {
        "httpx": lambda: run_httpx(base_url, dest),
        "generated": lambda: run_generated(base_url, dest),
        "video_client": lambda: run_video_client(base_url, dest),
        "video_client_sha256": lambda: run_video_client(base_url, dest, "sha256"),
        "async_video_client": lambda: run_async_video_client(base_url, dest),
    }
    # Import outside the timed part, as a long-running service would have.
    import httpx  # noqa: F401

    import openrouter_video  # noqa: F401

    started = time.perf_counter()
    total = runners[name]()
    print(json.dumps({"seconds": time.perf_counter() - started, "bytes": total}))


if __name__ == "__main__":
    main()
