"""The package inside a real service: an ASGI app served by uvicorn (with what `uvicorn[standard]`
installs, uvloop among it), whose endpoint downloads through :class:`AsyncVideoClient`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from openrouter_video.testing import FakeOpenRouter

APP = textwrap.dedent(
    """
    import asyncio, hashlib, json, os
    from openrouter_video import AsyncVideoClient

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        dest = os.path.join(os.environ["DEST"], scope["path"].strip("/") + ".mp4")
        async with AsyncVideoClient(
            api_key=os.environ["KEY"], base_url=os.environ["BASE"], timeout=5
        ) as client:
            result = await client.download("job-1", dest)
            models = await client.list_models()
        with open(dest, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
        body = json.dumps(
            {
                "loop": type(asyncio.get_running_loop()).__module__,
                "sha256": digest,
                "size": result.size,
                "models": len(models),
            }
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    """
)


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_a_uvicorn_endpoint_downloads_through_the_async_client(
    fake: FakeOpenRouter, tmp_path: Path, loop: str
) -> None:
    """``--loop auto`` is uvicorn's default: with uvloop installed, as ``uvicorn[standard]`` does, the
    app runs on uvloop. (The async client used to hang there until its read timeout.)"""
    pytest.importorskip("uvloop")
    payload = os.urandom(3 * 1024 * 1024)
    fake.add_video("job-1", payload)
    (tmp_path / "app.py").write_text(APP)
    sock = tmp_path / "uvicorn.sock"
    env = {**os.environ, "KEY": fake.api_key, "BASE": fake.base_url, "DEST": str(tmp_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app:app",
            "--uds",
            str(sock),
            "--loop",
            loop,
            "--log-level",
            "warning",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=30) as client:
            answers = [client.get(f"http://app/video-{n}").json() for n in range(3)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    digest = __import__("hashlib").sha256(payload).hexdigest()
    for answer in answers:
        assert answer["sha256"] == digest and answer["size"] == len(payload) and answer["models"] >= 1
        assert answer["loop"].split(".")[0] == ("uvloop" if loop == "auto" else "asyncio"), answer
    assert json.dumps(answers)  # three requests, each a whole download and an API call
