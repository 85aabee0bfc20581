"""Contract tests: the client against Prism, an implementation of openapi.yaml that nobody here wrote.

The cases are derived from the spec itself: every operation and every documented status. Each is
called through the generated client and through the overlay (sync and async), with Prism's
`Prefer: code=N`, and must map to the right model or exception. Prism runs with `--errors`, so a
request that violates the spec fails the call, and every response is also checked for an
`sl-violations` header. After a regeneration, a new operation or status is covered without a new test;
an operation the overlay does not cover fails `test_every_operation_has_overlay_coverage`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openrouter_video_api.models as models
import pytest
import yaml
from openrouter_video import (
    APIStatusError,
    AsyncVideoClient,
    AuthenticationError,
    NotFoundError,
    RetryPolicy,
    VideoClient,
    safe_filename,
)
from openrouter_video.errors import GoneError, UnexpectedContentError, VideoExpiredError, status_error_class
from openrouter_video.testing import FakeOpenRouter
from openrouter_video_api import Client
from openrouter_video_api.types import File

from .conftest import SPEC

SPEC_DOC = yaml.safe_load(SPEC.read_text())
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
OPERATIONS = [
    {"path": path, "method": method, **op}
    for path, item in SPEC_DOC["paths"].items()
    for method, op in item.items()
    if method in METHODS
]
CASES = [
    pytest.param(op, int(status), id=f"{op['operationId']}-{status}")
    for op in OPERATIONS
    for status in op["responses"]
]


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace(" ", "_").replace("-", "_").lower()


def generated_module(op: dict[str, Any]) -> ModuleType:
    tag = snake(op.get("tags", ["default"])[0])
    return importlib.import_module(f"openrouter_video_api.api.{tag}.{snake(op['operationId'])}")


def example_params(op: dict[str, Any]) -> dict[str, Any]:
    """The operation's parameters filled from the spec's examples (or defaults)."""
    params: dict[str, Any] = {}
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        value = schema.get("example", param.get("example", schema.get("default")))
        if value is not None:
            params[param["name"]] = value
    return params


def example_body(op: dict[str, Any]) -> dict[str, Any] | None:
    """The request body's example, if the operation has a body."""
    for media in op.get("requestBody", {}).get("content", {}).values():
        return dict(media["example"])
    return None


def generated_params(op: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for the generated endpoint function: parameters, and the body as its model."""
    params = {snake(k): v for k, v in example_params(op).items()}
    body = example_body(op)
    if body is not None:
        schema = next(iter(op["requestBody"]["content"].values()))["schema"]
        params["body"] = getattr(models, schema["$ref"].rsplit("/", 1)[1]).from_dict(body)
    return params


def response_doc(op: dict[str, Any], status: int) -> dict[str, Any]:
    return op["responses"][str(status)]


def expected_model(op: dict[str, Any], status: int) -> type:
    content = response_doc(op, status).get("content", {})
    for media in content.values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            return getattr(models, schema["$ref"].rsplit("/", 1)[1])
        if schema.get("format") == "binary":
            return File
    raise AssertionError(f"no schema for {op['operationId']} {status}")


def example_error(op: dict[str, Any], status: int) -> dict[str, Any]:
    """The ``error`` of the example Prism answers ``status`` with: the response's own, else its schema's
    (a status a newer spec adds may reuse another status's error schema, example included)."""
    for media in response_doc(op, status).get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = SPEC_DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        for example in (media.get("example"), schema.get("example")):
            if isinstance(example, dict) and isinstance(example.get("error"), dict):
                return dict(example["error"])
    return {}


def example_message(op: dict[str, Any], status: int) -> str | None:
    message = example_error(op, status).get("message")
    return None if message is None else str(message)


class Violations:
    """Collects `sl-violations` headers from every response (sync and async event hooks)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.statuses: list[int] = []

    def record(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)
        if "sl-violations" in response.headers:
            self.seen.append(response.headers["sl-violations"])

    async def arecord(self, response: httpx.Response) -> None:
        self.record(response)

    def hooks(self, mode: str) -> dict[str, Any]:
        return {"event_hooks": {"response": [self.record if mode == "sync" else self.arecord]}}


NO_RETRY_WAIT = RetryPolicy(max_attempts=2, sleep=lambda _: None)


def _download(client: Any, p: dict[str, Any], tmp: Path) -> Any:
    return client.download(p["jobId"], tmp / "v.mp4", index=p.get("index", 0), source="api")


def _generate(client: Any, p: dict[str, Any], tmp: Path) -> Any:
    body = dict(p["body"])
    return client.generate(body.pop("model"), body.pop("prompt", None), **body)


# How the overlay covers each operation: operationId -> call(client, params, tmp_path), the same for
# the sync and the async client (the async one returns an awaitable). `params` are the example
# parameters plus the example body as "body". A new operation in openapi.yaml must be added here
# (test_every_operation_has_overlay_coverage fails until it is).
OVERLAY_CALLS: dict[str, Callable[..., Any]] = {
    "listVideosContent": _download,
    "createVideos": _generate,
    "getVideos": lambda client, p, tmp: client.get_job(p["jobId"]),
    "listVideosModels": lambda client, p, tmp: client.list_models(),
}

# Examples the client refuses by design: Prism serves the spec's example body, and the example of
# the video is the text `<binary video data>`, which the download sniffs as markup, not video (a
# proxy's page labelled video/mp4 must never be saved as the video).
SNIFFED_EXAMPLES = {("listVideosContent", 200): "the example body is the text '<binary video data>'"}

# Cases where the spec's own example contradicts its schema, so the generated parser cannot read
# what Prism sends. Strict: once the spec is fixed, the XPASS fails and the entry must go.
SPEC_DEFECTS = {
    (
        "listVideosModels",
        200,
    ): "the example omits `creativity` and `upscale_factor`, which VideoModel requires",
}


def test_every_operation_has_overlay_coverage() -> None:
    missing = {op["operationId"] for op in OPERATIONS} - set(OVERLAY_CALLS)
    assert not missing, f"operations in openapi.yaml with no overlay contract coverage: {missing}"
    assert CASES, "no contract cases derived from the spec"


@pytest.mark.parametrize(("op", "status"), CASES)
def test_generated_client_against_prism(
    prism_mock: str, op: dict[str, Any], status: int, request: pytest.FixtureRequest
) -> None:
    defect = SPEC_DEFECTS.get((op["operationId"], status))
    if defect:
        request.applymarker(pytest.mark.xfail(reason=f"spec defect: {defect}", strict=True))
    violations = Violations()
    module = generated_module(op)
    params = generated_params(op)
    with VideoClient(
        api_key="sk-or-contract",
        base_url=prism_mock,
        retry=NO_RETRY_WAIT,
        httpx_args=violations.hooks("sync"),
    ) as client:
        api = client.api.with_headers({"Prefer": f"code={status}"})
        response = module.sync_detailed(client=api, **params)
    assert response.status_code == status
    assert isinstance(response.parsed, expected_model(op, status))
    if isinstance(response.parsed, File):
        assert response.parsed.payload.read() == response.content and response.content
    elif 200 <= status < 300:
        assert response.parsed.to_dict() == json.loads(response.content)  # it reads all of the example
    else:
        assert response.parsed.error.code == example_error(op, status).get("code", status)
    assert violations.seen == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("op", "status"), CASES)
def test_overlay_against_prism(
    prism_mock: str,
    op: dict[str, Any],
    status: int,
    mode: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    defect = SPEC_DEFECTS.get((op["operationId"], status))
    if defect:
        request.applymarker(pytest.mark.xfail(reason=f"spec defect: {defect}", strict=True))
    violations = Violations()
    config: dict[str, Any] = {
        "api_key": "sk-or-contract",
        "base_url": prism_mock,
        "retry": NO_RETRY_WAIT,
        "httpx_args": violations.hooks(mode),
    }
    call = OVERLAY_CALLS[op["operationId"]]
    params = example_params(op)
    if example_body(op) is not None:
        params["body"] = example_body(op)

    def run() -> Any:
        if mode == "sync":
            with VideoClient(**config) as client:
                client.api = client.api.with_headers({"Prefer": f"code={status}"})
                return call(client, params, tmp_path)

        async def arun() -> Any:
            async with AsyncVideoClient(**config) as client:
                client.api = client.api.with_headers({"Prefer": f"code={status}"})
                return await call(client, params, tmp_path)

        return asyncio.run(arun())

    refused = SNIFFED_EXAMPLES.get((op["operationId"], status))
    if refused:
        # The request still conforms (checked below); the answer is refused on purpose.
        with pytest.raises(UnexpectedContentError, match="not a video"):
            run()
    elif 200 <= status < 300:
        result = run()
        assert result is not None
    else:
        with pytest.raises(APIStatusError) as caught:
            run()
        if (op["operationId"], status) == ("listVideosContent", 410):  # the output is gone (issue 26)
            assert type(caught.value) is VideoExpiredError and isinstance(caught.value, GoneError)
            assert example_message(op, status) in caught.value.message
        else:
            assert type(caught.value) is status_error_class(status)
            assert caught.value.message == example_message(op, status)
        assert caught.value.status_code == status
    assert violations.statuses and set(violations.statuses) == {status}
    assert violations.seen == []


# -- the check bites: requests that break the spec are reported by Prism ---------------------------
def test_negative_index_is_a_violation(prism_mock: str, tmp_path: Path) -> None:
    violations = Violations()
    with VideoClient(
        api_key="sk-or-contract",
        base_url=prism_mock,
        retry=NO_RETRY_WAIT,
        httpx_args=violations.hooks("sync"),
    ) as client:
        with pytest.raises(APIStatusError) as caught:
            client.download("job-abc123", tmp_path / "v.mp4", index=-1, source="api")
    assert caught.value.status_code == 400  # Prism answers the documented 400 for a violation
    assert len(violations.seen) == 1 and "index must be >= 0" in violations.seen[0]


def test_missing_authorization_is_a_violation(prism_mock: str) -> None:
    module = generated_module(OPERATIONS[0])
    with Client(base_url=prism_mock) as unauthenticated:
        response = module.sync_detailed(client=unauthenticated, **generated_params(OPERATIONS[0]))
    assert response.status_code == 401
    assert "Invalid security scheme" in response.headers["sl-violations"]


# -- prism proxy in front of the fake server: the fake's answers conform to the spec ---------------
def test_download_through_prism_proxy_conforms(
    prism_proxy: str, session_fake: FakeOpenRouter, tmp_path: Path
) -> None:
    # Prism's proxy decodes bodies as UTF-8 (stoplightio/prism#2349), so the payload is ASCII here.
    payload = bytes(range(32, 127)) * 1000
    session_fake.add_video("job-abc123", payload)
    violations = Violations()
    with VideoClient(
        api_key=session_fake.api_key,
        base_url=prism_proxy,
        retry=NO_RETRY_WAIT,
        httpx_args=violations.hooks("sync"),
    ) as client:
        result = client.download("job-abc123", tmp_path / "v.mp4", source="api")
        assert (tmp_path / "v.mp4").read_bytes() == payload and result.size == len(payload)
        with pytest.raises(NotFoundError):
            client.download("job-unknown", tmp_path / "w.mp4", source="api")
    with VideoClient(
        api_key="sk-or-wrong", base_url=prism_proxy, retry=NO_RETRY_WAIT, httpx_args=violations.hooks("sync")
    ) as client:
        with pytest.raises(AuthenticationError):
            client.download("job-abc123", tmp_path / "x.mp4", source="api")
    assert violations.statuses == [200, 404, 401]
    assert violations.seen == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_whole_flow_through_prism_proxy_conforms(
    prism_proxy: str, session_fake: FakeOpenRouter, tmp_path: Path, mode: str
) -> None:
    """Models, submit, poll and download through Prism: the fake's job, model and error bodies
    conform to the spec. The fake gives an absolute polling_url on its own origin, which is not the
    proxy's, so the client polls by id (the key never goes to another origin)."""
    outputs = [bytes(range(48, 58)) * 100, bytes(range(65, 91)) * 100]  # ASCII: see above
    session_fake.script_job(
        outputs=outputs, statuses=["pending", "in_progress", "completed"], polling_url="absolute"
    )
    violations = Violations()
    config: dict[str, Any] = {
        "api_key": session_fake.api_key,
        "base_url": prism_proxy,
        "retry": NO_RETRY_WAIT,
        "httpx_args": violations.hooks(mode),
    }

    def flow(client: Any) -> Any:
        return client.generate_and_download(
            tmp_path, model="google/veo-3.1", prompt="a test", duration=8, poll_interval=0.01
        )

    if mode == "sync":
        with VideoClient(**config) as client:
            models_seen = client.list_models()
            results = flow(client)
    else:

        async def run() -> tuple[Any, Any]:
            async with AsyncVideoClient(**config) as client:
                return await client.list_models(), await flow(client)

        models_seen, results = asyncio.run(run())
    assert [m.id for m in models_seen] == ["google/veo-3.1"]
    assert [r.path.read_bytes() for r in results] == outputs
    assert violations.seen == []
    (job_id,) = [job for job in session_fake.jobs if safe_filename(job) == results[0].path.name]
    assert session_fake.job(job_id).polls == 3  # pending, in_progress, completed: polled by id
