"""What a new user meets in the first ten minutes (issue 14): output directories that are created,
plain-language CLI messages, notes on every command, errors that name the host and chain their
cause, ``--version`` and ``--quiet`` everywhere. The CLI runs as a real process."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import httpx
import pytest
from openrouter_video import AsyncVideoClient, VideoClient, __version__
from openrouter_video.errors import APIConnectionError
from openrouter_video.testing import Cut, FakeOpenRouter, Status
from test_cli import assert_one_line_error, run_cli


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- output directories ----------------------------------------------------------------------------
def test_download_to_a_path_ending_in_a_slash_creates_the_directory(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    fake.add_video("job-abc", payload)
    result = run_cli(fake, "download", "job-abc", "-o", "new/deeper/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new" / "deeper" / "job-abc.mp4").read_bytes() == payload
    assert not (tmp_path / "new" / "deeper").is_file()


def test_download_to_a_file_in_a_missing_directory_creates_it(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    fake.add_video("job-abc", payload)
    result = run_cli(fake, "download", "job-abc", "-o", "a/b/clip.mp4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a" / "b" / "clip.mp4").read_bytes() == payload


def test_a_file_in_the_way_is_named(fake: FakeOpenRouter, payload: bytes, tmp_path: Path) -> None:
    fake.add_video("job-abc", payload)
    (tmp_path / "afile.mp4").write_bytes(b"not a directory")
    result = run_cli(fake, "download", "job-abc", "-o", "afile.mp4/x.mp4", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "afile.mp4 is a file, not a directory")
    assert "does not exist" not in result.stderr
    assert fake.requests == []  # refused before any request


def test_generate_creates_its_output_directory_before_submitting(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    args = [
        "generate",
        "--model",
        "google/veo-3.1",
        "--prompt",
        "x",
        "-o",
        "videos/",
        "--poll-interval",
        "0.01",
    ]
    result = run_cli(fake, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.suffix for p in (tmp_path / "videos").iterdir()] == [".mp4"]


def test_generate_with_a_file_in_the_way_submits_nothing(fake: FakeOpenRouter, tmp_path: Path) -> None:
    (tmp_path / "videos").write_text("a file")
    result = run_cli(fake, "generate", "--model", "google/veo-3.1", "-o", "videos", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "videos is a file, not a directory")
    assert fake.requests == []  # nothing paid for


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_library_creates_output_directories_too(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path, mode: str
) -> None:
    fake.add_video("job-abc", payload)
    one, two = f"{tmp_path}/one/", tmp_path / "two" / "deep" / "clip.mp4"  # a str: a Path drops the /
    if mode == "sync":
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-abc", one)
            client.download("job-abc", two)
            results = client.generate_and_download(
                tmp_path / "three", model="google/veo-3.1", poll_interval=0.01
            )
    else:

        async def run() -> list[object]:
            async with AsyncVideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
                await client.download("job-abc", one)
                await client.download("job-abc", two)
                return list(
                    await client.generate_and_download(
                        tmp_path / "three", model="google/veo-3.1", poll_interval=0.01
                    )
                )

        results = asyncio.run(run())  # type: ignore[assignment]
    assert (tmp_path / "one" / "job-abc.mp4").read_bytes() == payload
    assert two.read_bytes() == payload
    assert len(results) == 1 and len(list((tmp_path / "three").iterdir())) == 1


def test_a_directory_that_cannot_be_made_is_a_permission_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openrouter_video.io.files import ensure_directory

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)  # as root, chmod would not stop it
    with pytest.raises(PermissionError, match=r"cannot create the directory .*locked: permission denied"):
        ensure_directory(tmp_path / "locked")


# -- messages ----------------------------------------------------------------------------------------
def test_version(tmp_path: Path) -> None:
    result = run_cli(None, "--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"openrouter-video {__version__}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["download", "job-1", "--index", "one"], "argument --index: must be a whole number >= 0, not 'one'"),
        (["download", "job-1", "--index", "-1"], "must be a whole number >= 0, not '-1'"),
        (["download", "job-1", "--timeout", "0"], "argument --timeout: must be a number > 0, not '0'"),
        (["download", "job-1", "--timeout", "nan"], "must be a number > 0, not 'nan'"),
        (["clean", ".", "--older-than", "soon"], "must be a number >= 0, not 'soon'"),
    ],
)
def test_argument_errors_are_plain_language(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_cli(None, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "_non_negative" not in result.stderr and "_positive" not in result.stderr


def _job(fake: FakeOpenRouter) -> str:
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        return client.generate("google/veo-3.1", "x").id


def test_quiet_is_accepted_by_every_command(fake: FakeOpenRouter, tmp_path: Path) -> None:
    job = _job(fake)
    fake.enqueue(Status(503), route="job")
    status = run_cli(fake, "status", job, "--quiet", cwd=tmp_path)
    assert status.returncode == 0 and status.stderr == "" and job in status.stdout
    models = run_cli(fake, "models", "--quiet", cwd=tmp_path)
    assert models.returncode == 0 and "MODEL" in models.stdout
    clean = run_cli(None, "clean", str(tmp_path), "--quiet", cwd=tmp_path)
    assert clean.returncode == 0 and clean.stdout == ""


@pytest.mark.parametrize("command", ["status", "models"])
def test_status_and_models_show_their_retries_as_notes(
    fake: FakeOpenRouter, tmp_path: Path, command: str
) -> None:
    args = ["status", _job(fake)] if command == "status" else ["models"]
    fake.enqueue(Status(503), route="job" if command == "status" else "models")
    result = run_cli(fake, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("note: ") and "HTTP 503" in notes[0]


def test_the_timeout_help_of_status_does_not_talk_about_downloads(tmp_path: Path) -> None:
    status = run_cli(None, "status", "--help", cwd=tmp_path)
    download = run_cli(None, "download", "--help", cwd=tmp_path)
    assert "resumed" not in status.stdout and "resumed" in " ".join(download.stdout.split())


def test_a_resume_reads_as_good_news(fake: FakeOpenRouter, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 1200  # 300 KiB
    fake.add_video("job-abc", payload)
    fake.enqueue(Cut(at=100 * 1024 + 100))
    result = run_cli(fake, "download", "job-abc", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1, result.stderr
    assert "connection cut at 100 KiB of 300 KiB" in notes[0] and notes[0].endswith("; resuming")
    assert "retrying in" not in notes[0] and (tmp_path / "job-abc.mp4").read_bytes() == payload


def test_a_successful_resume_is_logged_at_info(
    fake: FakeOpenRouter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_video("job-abc", b"y" * 300_000)
    fake.enqueue(Cut(at=200_000))
    with caplog.at_level(logging.INFO, logger="openrouter_video"):
        with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            client.download("job-abc", tmp_path / "out.mp4")
    resumes = [r for r in caplog.records if "resuming" in r.getMessage()]
    assert len(resumes) == 1 and resumes[0].levelno == logging.INFO


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
                client.download("job-1", tmp_path / "out.mp4")
            else:
                client.get_job("job-1")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert f"127.0.0.1:{port}" in str(caught.value)
