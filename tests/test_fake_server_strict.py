"""The fake server is as strict as openapi.yaml: bodies and parameters the spec refuses get 400 naming the
field, methods it does not define get 405 with Allow, and each operation answers only the statuses the
spec documents for it (plus the few the fake documents it adds). Real HTTP requests to 127.0.0.1."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openrouter_video import InvalidRequestError, RetryPolicy, VideoClient, _openapi
from openrouter_video.testing import DEFAULT_MODEL, FakeOpenRouter

ROOT = Path(__file__).resolve().parent.parent
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text())
MODEL = DEFAULT_MODEL["id"]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: The bodies the fake once answered 202 (issue 15), each with the field its 400 must name.
REFUSED_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"duration": 0}, "duration"),
    ({"duration": -5}, "duration"),
    ({"duration": "8"}, "duration"),
    ({"resolution": "9999p"}, "resolution"),
    ({"aspect_ratio": "5:5"}, "aspect_ratio"),
    ({"prompt": 123}, "prompt"),
    ({"seed": "x"}, "seed"),
    ({"generate_audio": "yes"}, "generate_audio"),
    ({"upscale_factor": -1}, "upscale_factor"),
    ({"upscale_factor": {}}, "upscale_factor"),
    ({"callback_url": 5}, "callback_url"),
    ({"frame_images": "x"}, "frame_images"),
    ({"provider": "x"}, "provider"),
]


@pytest.fixture
def http(fake: FakeOpenRouter) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as client:
        yield client


def _error(response: httpx.Response, status: int) -> str:
    """The message of a JSON error answer with ``status``, checked against the spec's error shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {"error": {"code": status, "message": body["error"]["message"]}}
    return str(body["error"]["message"])


def _bad_request_schema() -> Draft202012Validator:
    schemas = SPEC["components"]["schemas"]
    schema = {**schemas["BadRequestResponse"], "$defs": {}}
    text = json.dumps(schema).replace("#/components/schemas/", "#/$defs/")
    resolved = json.loads(text)
    resolved["$defs"]["BadRequestResponseErrorData"] = schemas["BadRequestResponseErrorData"]
    return Draft202012Validator(resolved)


# -- POST /videos bodies ------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "field"), REFUSED_BODIES, ids=[json.dumps(f) for f, _ in REFUSED_BODIES])
def test_a_body_the_spec_refuses_gets_400_naming_the_field(
    fake: FakeOpenRouter, http: httpx.Client, fields: dict[str, Any], field: str
) -> None:
    response = http.post("/videos", json={"model": MODEL, "prompt": "p", **fields})
    message = _error(response, 400)
    assert message.startswith(f"{field}: "), message
    assert _bad_request_schema().is_valid(response.json())  # the spec's 400 shape (BadRequestResponse)
    assert fake.jobs == {}


@pytest.mark.parametrize(("fields", "field"), REFUSED_BODIES, ids=[json.dumps(f) for f, _ in REFUSED_BODIES])
def test_the_client_refuses_the_same_bodies_before_sending(
    fake: FakeOpenRouter, fields: dict[str, Any], field: str
) -> None:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        with pytest.raises(InvalidRequestError, match=f"^{field}"):
            client.generate(MODEL, **{"prompt": "p", **fields})
    assert fake.requests == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": MODEL, "duration": -5}, "duration: -5 is less than the minimum of 1"),
        ({"model": MODEL, "duration": True}, "duration: True is not of type 'integer'"),
        (
            {"model": MODEL, "upscale_factor": 0},
            "upscale_factor: 0 is less than or equal to the minimum of 0",
        ),
        ({"prompt": "p"}, "body: 'model' is a required property"),
        ([MODEL], "body: ['google/veo-3.1'] is not of type 'object'"),
        (
            {"model": MODEL, "frame_images": [{"type": "image_url", "image_url": {"url": "u"}}]},
            "frame_images[0]: 'frame_type' is a required property",
        ),
        (
            {
                "model": MODEL,
                "frame_images": [{"type": "image_url", "image_url": {}, "frame_type": "first_frame"}],
            },
            "frame_images[0].image_url: 'url' is a required property",
        ),
        ({"model": MODEL, "provider": {"options": []}}, "provider.options: [] is not of type 'object'"),
        ({"model": MODEL, "callback_url": "not a url"}, "callback_url: 'not a url' is not a 'uri'"),
    ],
)
def test_the_message_names_the_field_and_says_what_is_wrong(
    http: httpx.Client, body: Any, message: str
) -> None:
    assert _error(http.post("/videos", json=body), 400) == message


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b"{", {"Content-Type": "application/json"}, "body: not valid JSON"),
        (b'{"model": NaN}', {"Content-Type": "application/json"}, "body: not valid JSON"),
        (b"\xff", {"Content-Type": "application/json"}, "body: not valid JSON"),
        (b"", {"Content-Type": "application/json"}, "body: a request body is required"),
        (b'{"model": "m"}', {"Content-Type": "text/plain"}, "body: Content-Type must be application/json"),
        (b'{"model": "m"}', {}, "body: Content-Type must be application/json, not missing"),
    ],
)
def test_a_body_that_is_not_json_is_refused(
    http: httpx.Client, content: bytes, headers: dict[str, str], message: str
) -> None:
    assert _error(http.post("/videos", content=content, headers=headers), 400).startswith(message)


FULL_BODY: dict[str, Any] = {
    "model": MODEL,
    "prompt": "a kite",
    "aspect_ratio": "9:16",
    "callback_url": "https://example.com/webhook?job=1",
    "creativity": 3,
    "duration": 8,
    "frame_images": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}, "frame_type": "first_frame"},
    ],
    "generate_audio": False,
    "input_references": [
        {"type": "image_url", "image_url": {"url": "https://example.com/ref.png"}},
        {"type": "audio_url", "audio_url": {"url": "https://example.com/ref.mp3"}},
        {"type": "video_url", "video_url": {"url": "https://example.com/ref.mp4"}},
    ],
    "provider": {"options": {"google-vertex": {"output_config": {"effort": "low"}}, "newer": {"x": 1}}},
    "resolution": "1080p",
    "seed": 0,
    "size": "1080x1920",
    "upscale_factor": 1.5,
    "a_field_newer_than_the_spec": {"x": 1},  # the schema does not forbid other properties
}


@pytest.mark.parametrize(
    "body",
    [
        {"model": MODEL},
        SPEC["paths"]["/videos"]["post"]["requestBody"]["content"]["application/json"]["example"],
        FULL_BODY,
        {"model": MODEL, "upscale_factor": 0.5},  # exclusiveMinimum: true is "> 0", as in OpenAPI 3.0
        {"model": MODEL, "upscale_factor": 2, "duration": 8.0},  # 8.0 is an integer to JSON Schema
    ],
    ids=["minimal", "spec-example", "every-field", "small-upscale", "integral-float"],
)
def test_valid_bodies_still_create_jobs(
    fake: FakeOpenRouter, http: httpx.Client, body: dict[str, Any]
) -> None:
    response = http.post("/videos", json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert fake.job(job["id"]).request == body


def test_the_whole_flow_through_the_client_still_works(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(outputs=[b"one", b"two"], statuses=["pending", "completed"])
    retry = RetryPolicy(sleep=lambda _: None)
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url, retry=retry) as client:
        assert [m.id for m in client.list_models()] == [MODEL]
        job = client.generate(MODEL, "p", duration=8, resolution="720p", aspect_ratio="16:9", seed=1)
        done = client.wait(job, poll_interval=0.001)
        for index in range(2):
            client.download(done.id, tmp_path / f"{index}.mp4", index=index)
    assert (tmp_path / "1.mp4").read_bytes() == b"two"


def test_strict_false_accepts_what_the_handlers_can_read(fake: FakeOpenRouter, http: httpx.Client) -> None:
    fake.strict = False
    assert http.post("/videos", json={"model": MODEL, "duration": -5}).status_code == 202
    fake.add_video("job-1", b"data")
    assert http.get("/videos/job-1/content?index=1&index=0").status_code == 200  # the last one, lax


# -- parameters ---------------------------------------------------------------------------------
def test_a_repeated_query_parameter_is_refused(fake: FakeOpenRouter, http: httpx.Client) -> None:
    fake.add_video("job-1", b"zero")
    fake.add_video("job-1", b"one", index=1)
    message = _error(http.get("/videos/job-1/content?index=1&index=0"), 400)
    assert message == "index: given 2 times ('1', '0'); the spec allows one value"
    assert _error(http.get("/videos/job-1/content?index=0&index=0"), 400).startswith("index: given 2 times")
    assert http.get("/videos/job-1/content?index=1").content == b"one"
    assert http.get("/videos/job-1/content").content == b"zero"  # the spec's default, 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("index=-1", "index: -1 is less than the minimum of 0"),
        ("index=x", "index: 'x' is not of type 'integer', 'null'"),
        ("index=", "index: '' is not of type 'integer', 'null'"),
        ("index=1.5", "index: '1.5' is not of type 'integer', 'null'"),
    ],
)
def test_a_query_parameter_is_checked_against_its_schema(
    fake: FakeOpenRouter, http: httpx.Client, query: str, message: str
) -> None:
    fake.add_video("job-1", b"zero")
    assert _error(http.get(f"/videos/job-1/content?{query}"), 400) == message


def test_undeclared_query_parameters_are_ignored(fake: FakeOpenRouter, http: httpx.Client) -> None:
    fake.add_video("job-1", b"zero")
    assert http.get("/videos/job-1/content?utm=1&utm=2").content == b"zero"


def test_an_empty_path_parameter_is_refused_with_a_documented_status(http: httpx.Client) -> None:
    # GET /videos/{jobId}/content documents 400; GET /videos/{jobId} does not, so that is a 404
    assert _error(http.get("/videos//content"), 400) == "jobId: '' should be non-empty"
    assert _error(http.get("/videos/"), 404) == "jobId: '' should be non-empty"


# -- methods and paths --------------------------------------------------------------------------
def _allow(path: str) -> str:
    defined = {m.upper() for m in SPEC["paths"][path] if m in METHODS}
    if "GET" in defined:
        defined.add("HEAD")  # answered wherever GET is, as HTTP requires (documented by the fake)
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    return ", ".join(m for m in order if m in defined)


def _concrete(path: str) -> str:
    return path.replace("{jobId}", "job-1")


UNSUPPORTED = [
    (path, method)
    for path in SPEC["paths"]
    for method in ("TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "PROPFIND", "BREW", "GET", "POST")
    if method.lower() not in SPEC["paths"][path]
]


@pytest.mark.parametrize(("path", "method"), UNSUPPORTED)
def test_a_method_the_spec_does_not_define_gets_405_with_allow(
    fake: FakeOpenRouter, http: httpx.Client, path: str, method: str
) -> None:
    fake.add_video("job-1", b"data")
    response = http.request(method, _concrete(path), content=b"{}" if method != "GET" else None)
    message = _error(response, 405)
    assert response.headers["allow"] == _allow(path)
    assert method in message
    assert "<html" not in response.text.lower()


def test_405_comes_before_the_key_is_checked(fake: FakeOpenRouter) -> None:
    response = httpx.request("TRACE", fake.base_url + "/videos")
    assert response.status_code == 405 and response.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "POST", "TRACE", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v2/videos", "/api/v1/nope", "/api/v1/videos/job-1/content/x", "/"])
def test_unknown_paths_stay_404(fake: FakeOpenRouter, http: httpx.Client, method: str, path: str) -> None:
    _error(http.request(method, fake.origin + path), 404)


def test_head_is_answered_where_get_is(fake: FakeOpenRouter, http: httpx.Client) -> None:
    fake.add_video("job-1", b"data")
    response = http.head("/videos/job-1/content")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == "4"
    assert http.head("/videos/models").status_code == 200
    assert http.head("/videos").headers["allow"] == "POST"


# -- statuses -----------------------------------------------------------------------------------
def test_models_are_served_without_a_key_as_the_spec_documents_no_401_for_them(fake: FakeOpenRouter) -> None:
    assert "401" not in SPEC["paths"]["/videos/models"]["get"]["responses"]
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(fake.base_url + "/videos/models", headers=headers)
        assert response.status_code == 200
        assert response.json()["data"][0]["id"] == MODEL


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/videos"), ("GET", "/videos/job-1"), ("GET", "/videos/job-1/content")]
)
def test_operations_that_document_401_check_the_key(fake: FakeOpenRouter, method: str, path: str) -> None:
    assert "401" in SPEC["paths"][path.replace("job-1", "{jobId}")][method.lower()]["responses"]
    response = httpx.request(
        method, fake.base_url + path, json={"model": MODEL} if method == "POST" else None
    )
    assert _error(response, 401) == "Missing Authentication header"


def test_every_status_seen_is_documented_or_one_the_fake_adds(
    fake: FakeOpenRouter, http: httpx.Client
) -> None:
    """A sweep of good and bad requests: each answer's status is in the spec for its operation, or one
    of the additions the fake documents (405 anywhere; 206 and 416 for ranges of the content)."""
    fake.add_video("job-1", b"0123456789")
    key = {"Authorization": f"Bearer {fake.api_key}"}
    job, content = "/videos/{jobId}", "/videos/{jobId}/content"
    sweep: list[tuple[str, str, str, Any, dict[str, str]]] = [
        ("/videos", "POST", "/videos", {"model": MODEL}, key),
        ("/videos", "POST", "/videos", {"model": "no/such-model"}, key),
        ("/videos", "POST", "/videos", {"model": MODEL, "duration": 0}, key),
        ("/videos", "POST", "/videos", {}, key),
        ("/videos", "POST", "/videos", {"model": MODEL}, {}),
        ("/videos", "GET", "/videos", None, key),
        (job, "GET", "/videos/job-1", None, key),
        (job, "GET", "/videos/nope", None, key),
        (job, "GET", "/videos/", None, key),
        (job, "GET", "/videos/job-1", None, {}),
        (job, "DELETE", "/videos/job-1", None, key),
        (content, "GET", "/videos/job-1/content", None, key),
        (content, "GET", "/videos/job-1/content", None, {**key, "Range": "bytes=2-"}),
        (content, "GET", "/videos/job-1/content", None, {**key, "Range": "bytes=20-"}),
        (content, "GET", "/videos/job-1/content?index=9", None, key),
        (content, "GET", "/videos/job-1/content?index=-1", None, key),
        (content, "GET", "/videos/job-1/content?index=0&index=0", None, key),
        (content, "GET", "/videos//content", None, key),
        (content, "GET", "/videos/job-1/content", None, {}),
        ("/videos/models", "GET", "/videos/models", None, key),
        ("/videos/models", "GET", "/videos/models", None, {}),
        ("/videos/models", "POST", "/videos/models", {}, key),
    ]
    seen = set()
    for template, method, path, body, headers in sweep:
        response = httpx.request(method, fake.base_url + path, json=body, headers=headers)
        operation = SPEC["paths"][template].get(method.lower(), {"responses": {}})
        documented = (
            set(operation["responses"]) | {"405"} | ({"206", "416"} if template == content else set())
        )
        assert str(response.status_code) in documented, (method, path, response.status_code, response.text)
        seen.add(response.status_code)
    assert seen == {200, 202, 206, 400, 401, 404, 405, 416}


# -- the rules come from the document -----------------------------------------------------------
def test_the_rules_are_read_from_the_document_not_kept_by_hand() -> None:
    document = copy.deepcopy(SPEC)
    properties = document["components"]["schemas"]["VideoGenerationRequest"]["properties"]
    properties["duration"]["minimum"] = 10
    properties["resolution"]["enum"].append("9999p")
    spec = _openapi.OpenAPISpec(document)
    match = spec.match("POST", "/api/v1/videos")
    headers = {"content-type": "application/json"}
    with pytest.raises(_openapi.RequestRefused, match=r"^duration: 8 is less than the minimum of 10$"):
        spec.check(match, {}, headers, json.dumps({"model": "m", "duration": 8}).encode())
    assert (
        spec.check(match, {}, headers, b'{"model": "m", "resolution": "9999p"}').body["resolution"] == "9999p"
    )


def test_the_fake_reads_the_repository_spec_in_a_checkout() -> None:
    assert _openapi.spec_path().read_bytes() == (ROOT / "openapi.yaml").read_bytes()
