"""The ``run`` fixture: one client method, sync or async, against the fake server (shared by
test_client.py, test_flow.py, test_proxies.py and test_secrets.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from harness import MODES
from openrouter_video import AsyncVideoClient, RetryPolicy, VideoClient
from openrouter_video.testing import FakeOpenRouter


class Run:
    def __init__(self, mode: str, fake: FakeOpenRouter) -> None:
        self.mode, self.fake = mode, fake
        self.sleeps: list[float] = []

    def __call__(self, method: str, *args: Any, client: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        config: dict[str, Any] = {
            "api_key": self.fake.api_key,
            "base_url": self.fake.base_url,
            "retry": RetryPolicy(sleep=self.sleeps.append, jitter=lambda: 1.0),
            **(client or {}),
        }
        if self.mode == "sync":
            with VideoClient(**config) as c:
                return getattr(c, method)(*args, **kwargs)

        async def run() -> Any:
            async with AsyncVideoClient(**config) as c:
                return await getattr(c, method)(*args, **kwargs)

        return asyncio.run(run())


MODEL = "google/veo-3.1"


def a_job(fake: FakeOpenRouter) -> str:
    fake.script_job(job_id="job-abc")
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.generate(MODEL, "p")
    fake.requests.clear()
    return "job-abc"


@pytest.fixture(params=MODES)
def run(request: pytest.FixtureRequest, fake: FakeOpenRouter) -> Run:
    return Run(request.param, fake)
