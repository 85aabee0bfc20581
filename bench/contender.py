"""One Python contender of the benchmark, run as its own process by bench/run.py.

    python bench/contender.py NAME BASE_URL JOB DEST [--ca CA] [--count N]

DEST is a file that does not exist yet, "-" for a sink that discards, or (for the concurrent
contenders) a directory where JOB-00.mp4 ... JOB-<N-1>.mp4 are written. --ca is the CA bundle for
HTTPS. The client is made, and does the same operation once on the 1 KiB job "warmup" (to a file of
its own, deleted before the timed run), before the clock starts: the steady state of a service that
keeps its client. Prints one JSON object: "seconds" of the timed transfer, "bytes", "cpu" (user + sys
seconds of getrusage(RUSAGE_SELF) around the transfer: every thread of this process), minor page
faults and context switches over the same span, "machine_busy" (the share of all the machine's CPUs
in use over the same span, from /proc/stat) and "peak_rss" (VmHWM of the whole process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MIB = 1024 * 1024
WARMUP_JOB = "warmup"


def peak_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class Args(argparse.Namespace):
    name: str
    base_url: str
    job: str
    dest: str
    ca: str | None
    count: int
    connections: int


def tls(args: Args) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=args.ca) if args.ca else True


def url(args: Args, job: str) -> str:
    return f"{args.base_url}/videos/{job}/content"


def warmup_dest(dest: str) -> str:
    return dest if dest == "-" else f"{dest}.warmup"


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every CPU of the machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def start() -> tuple[resource.struct_rusage, tuple[int, int]]:
    """The process's rusage and the machine's CPU ticks, at the start of the timed transfer."""
    return resource.getrusage(resource.RUSAGE_SELF), machine_ticks()


def report(
    seconds: float,
    total: int,
    start: tuple[resource.struct_rusage, tuple[int, int]],
    extra: dict[str, Any] | None = None,
) -> None:
    before, (busy_before, total_before) = start
    after = resource.getrusage(resource.RUSAGE_SELF)
    busy_after, total_after = machine_ticks()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bytes": total,
                "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                "cpu_user": after.ru_utime - before.ru_utime,
                "cpu_sys": after.ru_stime - before.ru_stime,
                "minflt": after.ru_minflt - before.ru_minflt,
                "nvcsw": after.ru_nvcsw - before.ru_nvcsw,
                "nivcsw": after.ru_nivcsw - before.ru_nivcsw,
                "peak_rss": peak_rss(),
                # the share of all the machine's CPUs in use during the transfer (this process, the
                # upstream and everything else): near 1.0 means the transfer was CPU-bound
                "machine_busy": (busy_after - busy_before) / max(1, total_after - total_before),
                **(extra or {}),
            }
        )
    )


def timed(
    transfer: Callable[[str, str], int], args: Args, extra: Callable[[], dict[str, Any]] | None = None
) -> None:
    """Warm up on the small job, then time ``transfer(JOB, DEST)``."""
    transfer(WARMUP_JOB, warmup_dest(args.dest))
    if args.dest != "-":
        os.unlink(warmup_dest(args.dest))
    before = start()
    started = time.perf_counter()
    total = transfer(args.job, args.dest)
    seconds = time.perf_counter() - started
    report(seconds, total, before, extra() if extra else None)


# -- third-party baselines --------------------------------------------------------------------------


def run_requests(args: Args) -> None:
    import requests

    with requests.Session() as session:

        def transfer(job: str, dest: str) -> int:
            total = 0
            with session.get(url(args, job), stream=True, verify=args.ca or True) as response:
                response.raise_for_status()
                if dest == "-":
                    for chunk in response.iter_content(MIB):
                        total += len(chunk)
                else:
                    with open(dest, "xb") as out:
                        for chunk in response.iter_content(MIB):
                            out.write(chunk)
                            total += len(chunk)
            return total

        timed(transfer, args)


def run_httpx(args: Args) -> None:
    import httpx

    with httpx.Client(verify=tls(args)) as client:

        def transfer(job: str, dest: str) -> int:
            total = 0
            with client.stream("GET", url(args, job)) as response:
                response.raise_for_status()
                if dest == "-":
                    for chunk in response.iter_raw():
                        total += len(chunk)
                else:
                    with open(dest, "xb") as out:
                        for chunk in response.iter_raw():  # the transport's chunks, no re-chunking
                            out.write(chunk)
                            total += len(chunk)
            return total

        timed(transfer, args)


def run_generated(args: Args) -> None:
    from openrouter_video_api import AuthenticatedClient
    from openrouter_video_api.api.video_generation import list_videos_content

    client = AuthenticatedClient(base_url=args.base_url, token="bench", verify_ssl=tls(args))

    def transfer(job: str, dest: str) -> int:
        response = list_videos_content.sync_detailed(job, client=client)  # buffers the whole body
        if response.status_code != 200:
            raise SystemExit(f"status {response.status_code}")
        if dest != "-":
            with open(dest, "xb") as out:
                out.write(response.content)
        return len(response.content)

    with client:
        timed(transfer, args)


# -- this package -----------------------------------------------------------------------------------


def run_video_client(args: Args) -> None:
    from openrouter_video import VideoClient

    checksum: Any = "sha256" if args.name == "sha256" else None
    durable = args.name == "durable"
    connections = 1 if args.name == "one" else None  # None: the default (adaptive)
    with VideoClient(api_key="bench", base_url=args.base_url, verify=tls(args)) as client:

        def transfer(job: str, dest: str) -> int:
            if dest != "-":
                return client.download(
                    job, dest, checksum=checksum, durable=durable, max_connections=connections, source="api"
                ).size
            total = 0
            with client.stream(job, source="api") as video:
                for chunk in video.iter_bytes():
                    total += len(chunk)
            return total

        timed(transfer, args)


def run_async_video_client(args: Args) -> None:
    from openrouter_video import AsyncVideoClient

    async def transfer(client: AsyncVideoClient, job: str, dest: str) -> int:
        if dest != "-":
            return (await client.download(job, dest, durable=False, source="api")).size
        total = 0
        async with client.stream(job, source="api") as video:
            async for chunk in video.aiter_bytes():
                total += len(chunk)
        return total

    async def run() -> None:
        async with AsyncVideoClient(api_key="bench", base_url=args.base_url, verify=tls(args)) as client:
            await transfer(client, WARMUP_JOB, warmup_dest(args.dest))
            if args.dest != "-":
                os.unlink(warmup_dest(args.dest))
            before = start()
            started = time.perf_counter()
            total = await transfer(client, args.job, args.dest)
            seconds = time.perf_counter() - started
        report(seconds, total, before)

    asyncio.run(run())


def run_segmented(args: Args) -> None:
    """``VideoClient.download(durable=False, max_connections=N)`` (``--connections 0``: ``None``,
    the adaptive setting); also reports the connections it used."""
    from openrouter_video import VideoClient

    connections = args.connections or None
    used = [1]
    with VideoClient(api_key="bench", base_url=args.base_url, verify=tls(args)) as client:

        def transfer(job: str, dest: str) -> int:
            result = client.download(job, dest, durable=False, max_connections=connections, source="api")
            used[0] = result.connections
            return result.size

        timed(transfer, args, extra=lambda: {"connections": used[0]})


# -- N downloads at once ----------------------------------------------------------------------------


def concurrent_jobs(args: Args) -> list[tuple[str, str]]:
    return [
        (f"{args.job}-{i:02d}", os.path.join(args.dest, f"{args.job}-{i:02d}.mp4")) for i in range(args.count)
    ]


def run_concurrent_async(args: Args) -> None:
    from openrouter_video import AsyncVideoClient

    async def run() -> None:
        async with AsyncVideoClient(api_key="bench", base_url=args.base_url, verify=tls(args)) as client:
            warm = os.path.join(args.dest, "warmup.mp4")
            await client.download(WARMUP_JOB, warm, durable=False, source="api")
            os.unlink(warm)
            before = start()
            started = time.perf_counter()
            results = await asyncio.gather(
                *(
                    client.download(job, dest, durable=False, source="api")
                    for job, dest in concurrent_jobs(args)
                )
            )
            seconds = time.perf_counter() - started
        report(seconds, sum(result.size for result in results), before)

    asyncio.run(run())


def run_concurrent_threads(args: Args) -> None:
    from openrouter_video import VideoClient

    with (
        VideoClient(api_key="bench", base_url=args.base_url, verify=tls(args)) as client,
        ThreadPoolExecutor(max_workers=args.count) as pool,
    ):
        warm = os.path.join(args.dest, "warmup.mp4")
        client.download(WARMUP_JOB, warm, durable=False, source="api")
        os.unlink(warm)
        before = start()
        started = time.perf_counter()
        futures = [
            pool.submit(client.download, job, dest, durable=False, source="api")
            for job, dest in concurrent_jobs(args)
        ]
        total = sum(future.result().size for future in futures)
        seconds = time.perf_counter() - started
    report(seconds, total, before)


RUNNERS: dict[str, Callable[[Args], None]] = {
    "requests": run_requests,
    "httpx": run_httpx,
    "generated": run_generated,
    "plain": run_video_client,
    "one": run_video_client,
    "sha256": run_video_client,
    "durable": run_video_client,
    "async": run_async_video_client,
    "conc_async": run_concurrent_async,
    "conc_threads": run_concurrent_threads,
    "segmented": run_segmented,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", choices=sorted(RUNNERS))
    parser.add_argument("base_url")
    parser.add_argument("job")
    parser.add_argument("dest")
    parser.add_argument("--ca", help="CA bundle for HTTPS")
    parser.add_argument("--count", type=int, default=32, help="downloads at once (conc_*)")
    parser.add_argument("--connections", type=int, default=1, help="max_connections (segmented; 0: None)")
    args = parser.parse_args(namespace=Args())
    RUNNERS[args.name](args)


if __name__ == "__main__":
    main()
