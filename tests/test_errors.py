"""What a failed call raises and says: status errors with the page's title or the JSON's code and
message, connection errors that name the host and chain httpx's exception, and hostile error bodies.

A deeply nested JSON body used to raise ``RecursionError`` from ``json.loads``, and the HTML title
and tag regexes backtracked quadratically (a 64 KiB page of ``<`` cost seconds of CPU, on the event
loop for the async client). The CLI wrote what a server said to the terminal raw.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from harness import Harness, content_requests, no_temp_files
from helpers_cli import CLI, assert_one_line_error, run_cli
from openrouter_video import AsyncVideoClient, BadGatewayError, InternalServerError, RetryPolicy, VideoClient
from openrouter_video.engine.core import build_status_error
from openrouter_video.errors import APIConnectionError, APIStatusError
from openrouter_video.testing import FakeOpenRouter, Status

# -- status errors -----------------------------------------------------------------------------------


def test_502_html_exhausted_gives_bad_gateway_with_the_page_title(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.fail(502, times=3, html=True)
    with pytest.raises(BadGatewayError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=3), source="api")
    assert caught.value.status_code == 502
    assert caught.value.message == "502 Bad Gateway"
    assert str(caught.value) == "HTTP 502: 502 Bad Gateway"
    assert len(content_requests(h.fake)) == 3
    assert not (tmp_path / "out.mp4").exists() and no_temp_files(tmp_path)


def test_500_json_exhausted_carries_code_message_metadata_user_id(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    import json

    h.fake.add_video("job-1", payload)
    body = json.dumps(
        {
            "error": {"code": 500, "message": "upstream exploded", "metadata": {"provider": "x"}},
            "user_id": "user-7",
        }
    ).encode()
    h.fake.enqueue(Status(500, body=body), Status(500, body=body))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "out.mp4", retry=h.policy(max_attempts=2), source="api")
    err = caught.value
    assert (err.status_code, err.code, err.message) == (500, 500, "upstream exploded")
    assert err.metadata == {"provider": "x"} and err.user_id == "user-7"


def test_empty_500_and_undocumented_503_still_give_useful_errors(
    h: Harness, payload: bytes, tmp_path: Path
) -> None:
    h.fake.add_video("job-1", payload)
    h.fake.enqueue(Status(500, body=b""))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "a.mp4", retry=h.policy(max_attempts=1), source="api")
    assert caught.value.message == "Internal Server Error"
    h.fake.enqueue(Status(503, body=b"upstream connect error", content_type="text/plain"))
    with pytest.raises(InternalServerError) as caught:
        h.download("job-1", tmp_path / "b.mp4", retry=h.policy(max_attempts=1), source="api")
    assert caught.value.status_code == 503 and caught.value.message == "upstream connect error"


# -- connection errors -------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_connection_error_names_the_host_never_the_key(tmp_path: Path) -> None:
    port = closed_port()
    result = run_cli(
        None, "status", "job-1", "--max-attempts", "1", cwd=tmp_path, key="sk-or-v1-secret0123456789abcdef",
        base_url=f"http://127.0.0.1:{port}/api/v1",
    )  # fmt: skip
    assert result.returncode == 1
    assert_one_line_error(result, f"cannot connect to http://127.0.0.1:{port}")
    assert "secret0123456789" not in result.stderr


@pytest.mark.parametrize("call", ["download", "get_job"])
def test_connection_errors_chain_the_httpx_exception(tmp_path: Path, call: str) -> None:
    from openrouter_video import RetryPolicy

    port = closed_port()
    with VideoClient(
        api_key="sk-or-test-0123456789",
        base_url=f"http://127.0.0.1:{port}/api/v1",
        retry=RetryPolicy(max_attempts=1),
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            if call == "download":
                client.download("job-1", tmp_path / "out.mp4", source="api")
            else:
                client.get_job("job-1")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert f"127.0.0.1:{port}" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, "PermissionDeniedError"),
        (409, "ConflictError"),
        (410, "GoneError"),
        (413, "PayloadTooLargeError"),
    ],
)
def test_the_statuses_the_spec_documents_have_their_own_class(
    h: Harness, payload: bytes, tmp_path: Path, status: int, kind: str
) -> None:
    """403, 409 and 410 (the content endpoint) and 413 (POST /videos) of the 2026-10 spec: each its own
    class, raised at once (not retried), with the server's message."""
    import openrouter_video

    h.fake.add_video("job-1", payload)
    h.fake.fail(status)
    with pytest.raises(getattr(openrouter_video, kind)) as caught:
        h.download("job-1", tmp_path / "out.mp4", source="api")
    assert caught.value.status_code == status and len(content_requests(h.fake)) == 1
    if status == 410:  # the output is gone: a GoneError that says so (issue 26)
        assert isinstance(caught.value, openrouter_video.VideoExpiredError)
        assert str(caught.value).startswith("the stored copy of job job-1 is gone (HTTP 410: ")
    else:
        assert str(caught.value).startswith(f"HTTP {status}: ")


def test_499_client_closed_request_is_retried(h: Harness, payload: bytes, tmp_path: Path) -> None:
    """OpenRouter answers 499 when it saw the caller go away: a retry is the right answer."""
    h.fake.add_video("job-1", payload)
    h.fake.fail(499)
    assert h.download("job-1", tmp_path / "out.mp4", source="api").size == len(payload)
    assert len(content_requests(h.fake)) == 2


# -- hostile error bodies: parsing them is linear and bounded, and the CLI never echoes control bytes --


KIB64 = 64 * 1024


HOSTILE: dict[str, bytes] = {
    "all <": b"<" * KIB64,
    "<title> x 8000, never closed": b"<title>" * 8000,
    "<a x 20000": b"<a" * 20000,
    "[ x 60000": b"[" * 60000,
    '{"error": nested 60000 deep': b'{"error":' * 60000,
    "NUL bytes": b"\x00" * KIB64,
    "invalid UTF-8": b"\xff\xfe\xc3" * (KIB64 // 3),
    "<title then < x 64 KiB": b"<title" + b"<" * KIB64,
    "<title> then <a x 20000": b"<title>" + b"<a" * 20000,
    "& x 64 KiB": b"&" * KIB64,
}


CONTENT_TYPES = ("text/html", "text/html; charset=utf-8", "application/json", None)


def _one_line(text: str) -> bool:
    return len(text.splitlines()) <= 1


def test_hostile_bodies_parse_in_linear_time() -> None:
    """Every hostile body, under every content type, is an APIStatusError in well under 50 ms.

    A complexity check, not a benchmark: the quadratic regexes took 1-5 s for one of these bodies;
    the whole set now takes a few tens of milliseconds.
    """
    cases = [(name, body, ct) for name, body in HOSTILE.items() for ct in CONTENT_TYPES]
    started = time.perf_counter()
    errors = [
        (name, build_status_error(502, {"content-type": ct} if ct else {}, body)) for name, body, ct in cases
    ]
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{len(cases)} hostile bodies took {elapsed:.2f} s"
    for name, error in errors:
        assert isinstance(error, BadGatewayError), name
        assert error.status_code == 502
        assert error.message and _one_line(error.message), (name, error.message[:80])
        assert len(error.message) <= 303, name


@pytest.mark.parametrize("status", [400, 404, 429, 500, 502, 503])
def test_deep_json_falls_back_to_the_reason_phrase(status: int) -> None:
    error = build_status_error(status, {"content-type": "application/json"}, b"[" * 60000)
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.message == "[" * 300 + "..."  # the body's text, shortened
    nested = build_status_error(status, {"content-type": "application/json"}, b'{"error":' * 60000)
    assert nested.status_code == status and nested.message.startswith('{"error":')


def test_parse_model_recursion_error_is_caught() -> None:
    def parse_model(*_: object) -> object:  # (status, headers, body), as the drivers pass them
        raise RecursionError("maximum recursion depth exceeded")

    error = build_status_error(500, {}, b'{"error": {"code": 500, "message": "boom"}}', parse_model)
    assert isinstance(error, InternalServerError)
    assert error.message == "boom"


def test_normal_pages_keep_their_text() -> None:
    nginx = (
        b"<html>\r\n<head><TITLE>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    assert build_status_error(502, {"content-type": "text/html"}, nginx).message == "502 Bad Gateway"
    untitled = b"<html><body><h1>Service  &amp; things</h1>\n<p>down</p></body></html>"
    assert build_status_error(503, {"content-type": "text/html"}, untitled).message == "Service & things down"
    assert build_status_error(500, {"content-type": "text/plain"}, b"plain\ntext").message == "plain text"
    assert (
        build_status_error(502, {"content-type": "text/html"}, b"<title>\n</title>").message == "Bad Gateway"
    )
    long = b"<title>" + b"x" * 1000 + b"</title>"
    assert build_status_error(502, {"content-type": "text/html"}, long).message == "x" * 300 + "..."


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "name", ["all <", "<title> x 8000, never closed", "[ x 60000", '{"error": nested 60000 deep']
)
def test_download_502_with_a_hostile_body(fake: FakeOpenRouter, tmp_path: Path, mode: str, name: str) -> None:
    fake.add_video("job-1", b"video")
    fake.enqueue(Status(502, body=HOSTILE[name], content_type="text/html"))
    config = {"api_key": fake.api_key, "base_url": fake.base_url, "retry": RetryPolicy(max_attempts=1)}
    dest = tmp_path / "out.mp4"
    started = time.perf_counter()
    with pytest.raises(BadGatewayError) as caught:
        if mode == "sync":
            with VideoClient(**config) as client:  # type: ignore[arg-type]
                client.download("job-1", dest, source="api")
        else:

            async def run() -> None:
                async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                    await client.download("job-1", dest, source="api")

            asyncio.run(run())
    assert time.perf_counter() - started < 1.5  # the quadratic regexes took 3.5-6 s here
    assert caught.value.status_code == 502 and _one_line(caught.value.message)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
def test_get_job_500_with_deeply_nested_json(fake: FakeOpenRouter, mode: str, content_type: str) -> None:
    fake.enqueue(Status(500, body=b"[" * 60000, content_type=content_type), route="job")
    fake.enqueue(Status(500, body=b'{"error":' * 60000, content_type=content_type), route="job")
    config = {"api_key": fake.api_key, "base_url": fake.base_url, "retry": RetryPolicy(max_attempts=1)}
    for _ in range(2):
        with pytest.raises(InternalServerError) as caught:
            if mode == "sync":
                with VideoClient(**config) as client:  # type: ignore[arg-type]
                    client.get_job("job-1")
            else:

                async def run() -> None:
                    async with AsyncVideoClient(**config) as client:  # type: ignore[arg-type]
                        await client.get_job("job-1")

                asyncio.run(run())
        assert caught.value.status_code == 500


def _cli(fake: FakeOpenRouter, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    env["OPENROUTER_API_KEY"] = fake.api_key
    return subprocess.run(
        [CLI, *args, "--base-url", fake.base_url], cwd=cwd, env=env, capture_output=True, timeout=60
    )


CONTROLS = [
    chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
]


def test_cli_error_line_has_no_control_bytes(fake: FakeOpenRouter, tmp_path: Path) -> None:
    message = "\x1b[2J\x07\x00evil\r\n\x1b]0;title\x07 \x9b31m\u202etxt.exe\x7f\tend"
    body = json.dumps({"error": {"code": 502, "message": message}}).encode()
    fake.enqueue(Status(502, body=body, content_type="application/json"))
    result = _cli(fake, "download", "job-1", "--source", "api", "--max-attempts", "1", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    stderr = result.stderr.decode("utf-8")
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1
    for char in CONTROLS:
        assert char not in lines[0], repr(char)
    assert "evil" in lines[0] and "end" in lines[0]
    assert "\\x1b[2J\\x07\\x00evil" in lines[0]  # escaped, visible
    assert "\\u202etxt.exe\\x7f end" in lines[0]  # the bidi override escaped, the tab a space


def test_cli_error_line_from_an_html_page(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.enqueue(Status(502, body=b"<title>\x1b[31mred\x1b[0m \x00gone</title>", content_type="text/html"))
    result = _cli(fake, "download", "job-1", "--source", "api", "--max-attempts", "1", cwd=tmp_path)
    assert result.returncode == 1
    stderr = result.stderr.decode("utf-8")
    assert "Traceback" not in stderr and "\x1b" not in stderr and "\x00" not in stderr
    assert "red" in stderr and "gone" in stderr and len(stderr.splitlines()) == 1


def test_cli_retry_notes_have_no_control_bytes_either(fake: FakeOpenRouter, tmp_path: Path) -> None:
    body = json.dumps({"error": {"code": 502, "message": "\x1b[2J\x07\x00evil\r\nsecond"}}).encode()
    fake.enqueue(Status(502, body=body, content_type="application/json"))
    fake.add_video("job-1", b"\x00" * 1000)
    result = _cli(fake, "download", "job-1", "--source", "api", "--max-attempts", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stderr = result.stderr.decode("utf-8")
    (note,) = stderr.splitlines()
    assert note.startswith("note: ") and "evil second" in note
    for char in CONTROLS:
        assert char not in note, repr(char)
