"""The generated client (openrouter_video_api) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from urllib.parse import quote

import httpx
import pytest
from openrouter_video.testing import FakeOpenRouter, Status
from openrouter_video_api import AuthenticatedClient
from openrouter_video_api.api.video_generation import list_videos_content
from openrouter_video_api.models import (
    BadGatewayResponse,
    BadRequestResponse,
    InternalServerResponse,
    NotFoundResponse,
    UnauthorizedResponse,
)
from openrouter_video_api.types import File


def _client(fake: FakeOpenRouter, key: str | None = None) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=fake.base_url, token=key or fake.api_key)


def test_200_returns_the_bytes(fake: FakeOpenRouter, payload: bytes) -> None:
    fake.add_video("job-abc123", payload)
    with _client(fake) as client:
        response = list_videos_content.sync_detailed("job-abc123", client=client)
    assert response.status_code == 200
    assert isinstance(response.parsed, File)
    assert response.parsed.payload.read() == payload
    (request,) = fake.requests
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"


@pytest.mark.parametrize(
    ("status", "model"),
    [
        (400, BadRequestResponse),
        (401, UnauthorizedResponse),
        (404, NotFoundResponse),
        (500, InternalServerResponse),
        (502, BadGatewayResponse),
    ],
)
def test_documented_errors_parse_into_their_models(fake: FakeOpenRouter, status: int, model: type) -> None:
    fake.add_video("job-1", b"video")
    key, job, index = fake.api_key, "job-1", 0
    if status == 400:
        index = -1  # the fake validates `minimum: 0`
    elif status == 401:
        key = "sk-or-wrong"
    elif status == 404:
        job = "job-unknown"
    else:
        fake.enqueue(Status(status))
    with _client(fake, key) as client:
        response = list_videos_content.sync_detailed(job, client=client, index=index)
    assert response.status_code == status
    assert isinstance(response.parsed, model)
    assert response.parsed.error.code == status
    assert response.parsed.error.message
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "job_id",
    ["job/with/slashes", "job with spaces", "jöb-ünïcode-視頻", "a?b#c%d;e"],
)
def test_job_id_travels_percent_encoded_as_one_segment(fake: FakeOpenRouter, job_id: str) -> None:
    fake.add_video(job_id, b"bytes of " + job_id.encode())
    with _client(fake) as client:
        response = list_videos_content.sync_detailed(job_id, client=client)
    assert response.status_code == 200
    assert isinstance(response.parsed, File)
    assert response.parsed.payload.read() == b"bytes of " + job_id.encode()
    (request,) = fake.requests
    assert request.path == "/api/v1/videos/" + quote(job_id, safe="") + "/content"
    assert request.path.count("/") == 5


@pytest.mark.parametrize(("index", "sent"), [(0, ["0"]), (1, ["1"]), (7, ["7"]), (None, None)])
def test_index_is_sent_as_given(fake: FakeOpenRouter, index: int | None, sent: list[str]) -> None:
    for i in (0, 1, 7):
        fake.add_video("job-1", f"output {i}".encode(), index=i)
    with _client(fake) as client:
        response = list_videos_content.sync_detailed("job-1", client=client, index=index)
    assert response.status_code == 200
    (request,) = fake.requests
    assert request.query.get("index") == sent
    assert isinstance(response.parsed, File)
    assert response.parsed.payload.read() == f"output {index or 0}".encode()


def test_importing_an_endpoint_loads_no_model() -> None:
    """The models an endpoint answers with load when a response is parsed (templates/
    endpoint_module.py.jinja): a download's first request imports no error model."""
    code = (
        "import sys, pkgutil, importlib, openrouter_video_api.api.video_generation as p\n"
        "for m in pkgutil.iter_modules(p.__path__): importlib.import_module(f'{p.__name__}.{m.name}')\n"
        "print(sorted(m for m in sys.modules if m.startswith('openrouter_video_api.models.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _endpoint_statuses() -> list[tuple[str, int]]:
    import openrouter_video_api.api.video_generation as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        codes = re.findall(r"status_code == (\d+)", inspect.getsource(module._parse_response))
        found += [(info.name, int(code)) for code in codes]
    return found


@pytest.mark.parametrize(("endpoint", "status"), _endpoint_statuses())
def test_every_documented_answer_parses(endpoint: str, status: int) -> None:
    """Each documented status of each endpoint parses into its model (every name the parser uses is
    imported where it runs)."""
    module = importlib.import_module(f"openrouter_video_api.api.video_generation.{endpoint}")
    body = {"error": {"code": status, "message": "m"}, "id": "j", "status": "pending", "data": []}
    body["polling_url"] = "http://127.0.0.1/"
    response = httpx.Response(status, json=body, request=httpx.Request("GET", "http://127.0.0.1/"))
    with AuthenticatedClient(base_url="http://127.0.0.1:1", token="k") as client:
        parsed = module._parse_response(client=client, response=response)
    assert parsed is not None and type(parsed).__module__.startswith("openrouter_video_api.")
