"""The installed `openrouter-video` console script, run as a real process against the fake server."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from harness import files, noise
from helpers_cli import CLI, _download_cli, assert_one_line_error, cli_env, run_cli, wait_for
from openrouter_video import VideoClient, __version__
from openrouter_video.testing import Cut, FakeOpenRouter, Stall, Status

MIB = 1024 * 1024


def test_download_json_default_path_and_sha256(fake: FakeOpenRouter, payload: bytes, tmp_path: Path) -> None:
    fake.add_video("job-abc", payload)
    result = run_cli(fake, "download", "job-abc", "--json", "--sha256", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record == {
        "path": "job-abc.mp4",
        "size": len(payload),
        "content_type": "video/mp4",
        "attempts": 1,
        "resumes": 0,
        "verified": "content-length",
        "resumed_from": 0,
        "source": "signed",
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    assert (tmp_path / "job-abc.mp4").read_bytes() == payload
    assert result.stderr == ""  # not a terminal: no progress bar
    assert fake.requests[0].headers["authorization"] == f"Bearer {fake.api_key}"  # GET the job
    assert fake.requests[1].origin == "storage" and fake.storage_authorization == []


def test_index_names_the_file_and_json_omits_sha256_unless_asked(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    fake.add_video("job-abc", payload, index=3)
    result = run_cli(fake, "download", "job-abc", "--index", "3", "--json", "--source", "api", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["path"] == "job-abc-3.mp4" and "sha256" not in record
    assert fake.requests[0].query["index"] == ["3"]


def test_output_may_be_a_file_or_an_existing_directory(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    fake.add_video("job-abc", payload)
    (tmp_path / "videos").mkdir()
    assert run_cli(fake, "download", "job-abc", "-o", "videos", cwd=tmp_path).returncode == 0
    assert (tmp_path / "videos" / "job-abc.mp4").read_bytes() == payload
    plain = run_cli(fake, "download", "job-abc", "-o", "named.mp4", cwd=tmp_path)
    assert plain.returncode == 0
    assert plain.stdout == f"saved named.mp4 ({len(payload)} bytes, video/mp4, complete by content-length)\n"
    assert (tmp_path / "named.mp4").read_bytes() == payload


def test_refuses_to_overwrite_unless_told(fake: FakeOpenRouter, payload: bytes, tmp_path: Path) -> None:
    fake.add_video("job-abc", payload)
    (tmp_path / "job-abc.mp4").write_bytes(b"keep me")
    result = run_cli(fake, "download", "job-abc", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "exists", "--overwrite")
    assert (tmp_path / "job-abc.mp4").read_bytes() == b"keep me" and fake.requests == []
    result = run_cli(fake, "download", "job-abc", "--overwrite", "--quiet", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert (tmp_path / "job-abc.mp4").read_bytes() == payload


def test_hostile_job_id_cannot_escape_the_directory(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    fake.add_video("../../x", payload)
    result = run_cli(fake, "download", "../../x", "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 and written[0].parent == work
    assert written[0].read_bytes() == payload


def test_missing_key_is_a_one_line_error_and_no_request(fake: FakeOpenRouter, tmp_path: Path) -> None:
    result = run_cli(fake, "download", "job-1", cwd=tmp_path, key=None)
    assert result.returncode == 2
    assert_one_line_error(result, "OPENROUTER_API_KEY")
    assert fake.requests == []


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli(None, "download", cwd=tmp_path).returncode == 2
    assert run_cli(None, "download", "job-1", "--index", "-1", cwd=tmp_path).returncode == 2
    assert run_cli(None, "frobnicate", cwd=tmp_path).returncode == 2


def test_api_error_is_one_line_with_status_and_message_and_never_the_key(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    result = run_cli(fake, "download", "no-such-job", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "HTTP 404", "no-such-job not found")
    wrong = "sk-or-v1-" + "9" * 32
    result = run_cli(fake, "download", "job-1", cwd=tmp_path, key=wrong)
    assert result.returncode == 1
    assert_one_line_error(result, "HTTP 401", "Invalid API key")
    assert wrong not in result.stderr + result.stdout
    assert len(fake.requests) == 2


def test_network_failure_exits_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli(
        None,
        "download",
        "job-1",
        "--max-attempts",
        "1",
        cwd=tmp_path,
        key="k",
        base_url=f"http://127.0.0.1:{port}/api/v1",
    )
    assert result.returncode == 1
    assert_one_line_error(result, f"cannot connect to http://127.0.0.1:{port}", "Connection refused")


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openrouter_video", "download", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "--sha256" in result.stdout and "--overwrite" in result.stdout


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGINT, 130, "error: interrupted"),
        (signal.SIGTERM, 143, "error: terminated by SIGTERM"),
        (signal.SIGHUP, 129, "error: terminated by SIGHUP"),
        (signal.SIGKILL, -signal.SIGKILL, None),
    ],
)
def test_a_signal_mid_download_keeps_the_partial_and_the_same_command_resumes(
    fake: FakeOpenRouter, tmp_path: Path, signum: int, code: int, message: str | None
) -> None:
    mib = 1024 * 1024
    payload = os.urandom(4 * mib)
    fake.add_video("job-abc", payload)
    fake.enqueue(Stall(at=3 * mib, seconds=30))
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    command = [CLI, "download", "job-abc", "--source", "api", "--base-url", fake.base_url]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    part = tmp_path / ".job-abc.mp4.part"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (part.exists() and part.stat().st_size >= 2 * mib):
        time.sleep(0.02)  # the writer thread has written at least two 1 MiB batches
    assert part.exists() and part.stat().st_size >= 2 * mib, "the download never got going"
    time.sleep(0.2)  # the server has sent 3 MiB and stalls
    assert proc.poll() is None and len(fake.requests) == 1
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == code, stderr
    kept = part.stat().st_size
    if message is not None:
        assert stderr.strip().splitlines() == [
            message,
            "note: kept the partial download .job-abc.mp4.part; run the same command again to resume",
        ]
        assert kept == 3 * mib  # everything received was kept
    else:  # SIGKILL: what the writer thread had written (at most a few MiB in flight are lost)
        assert 2 * mib <= kept <= 3 * mib
    assert part.read_bytes() == payload[:kept]
    # only the partial and its state file are left: no stray temporary file, no destination
    assert sorted(p.name for p in tmp_path.iterdir()) == [".job-abc.mp4.part", ".job-abc.mp4.part.state"]
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"resumed from byte {kept}" in again.stdout
    assert fake.requests[-1].headers["range"] == f"bytes={kept - 64 * 1024}-"
    assert (tmp_path / "job-abc.mp4").read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job-abc.mp4"]


def test_ctrl_c_mid_segmented_download_says_how_to_resume(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """A slow link makes the download go on by ranges; Ctrl-C then prints the same note as for one
    stream (it used to print only "error: interrupted"), and the same command resumes."""
    payload = os.urandom(20 * 1024 * 1024)  # large enough to split (16 MiB)
    fake.add_video("job-seg", payload)
    fake.rate = 4 * 1024 * 1024  # per connection: slow enough to go on by ranges after a second
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    command = [CLI, "download", "job-seg", "--base-url", fake.base_url]
    proc = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and fake.peak_connections < 2:
        time.sleep(0.02)
    assert fake.peak_connections >= 2, "the download never went on by ranges"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [
        "error: interrupted",
        "note: kept the partial download .job-seg.mp4.part; run the same command again to resume",
    ]
    fake.rate = None
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "job-seg.mp4").read_bytes() == payload


def test_clean_removes_partials_not_being_downloaded(fake: FakeOpenRouter, tmp_path: Path) -> None:
    (tmp_path / ".a.mp4.part").write_bytes(b"x" * 10)
    (tmp_path / ".a.mp4.part.state").write_text("{}")
    (tmp_path / ".orphan.mp4.part.state").write_text("{}")
    (tmp_path / "keep.mp4").write_bytes(b"video")
    young = run_cli(None, "clean", str(tmp_path), "--older-than", "3600", cwd=tmp_path)
    assert young.returncode == 0 and young.stdout == "0 files removed\n"
    result = run_cli(None, "clean", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "3 files removed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_progress_bar_on_a_terminal_shows_bytes_percent_rate_and_eta(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path
) -> None:
    fake.add_video("job-1", payload)
    fake.rate = len(payload) * 2  # about half a second
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    proc = subprocess.Popen(
        [CLI, "download", "job-1", "--base-url", fake.base_url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    proc.wait(timeout=30)
    os.close(master)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "100%" in text and "B/s" in text and "256k/256k" in text
    assert "<00:00" in text  # the ETA column


@pytest.mark.parametrize("flag", ["--quiet", None])
def test_no_progress_bar_when_quiet_or_not_a_terminal(
    fake: FakeOpenRouter, payload: bytes, tmp_path: Path, flag: str | None
) -> None:
    fake.add_video("job-1", payload)
    args = ["download", "job-1"] + ([flag] if flag else [])
    result = run_cli(fake, *args, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_make_demo_script_downloads_a_playable_mp4(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "demo.py")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    sample = (root / "demo" / "sample.mp4").read_bytes()
    assert sample[4:8] == b"ftyp"
    assert f"sha256 {hashlib.sha256(sample).hexdigest()}" in result.stdout
    assert f"size   {len(sample)} bytes" in result.stdout


# -- generate, status, models ----------------------------------------------------------------------


def test_generate_waits_and_downloads_every_output_as_json(fake: FakeOpenRouter, tmp_path: Path) -> None:
    outputs = [b"one" * 1000, b"two" * 1000]
    fake.script_job(outputs=outputs, job_id="job-gen")
    (tmp_path / "out").mkdir()
    result = run_cli(
        fake,
        "generate",
        "--model",
        "google/veo-3.1",
        "--prompt",
        "a red fox",
        "--duration",
        "8",
        "--resolution",
        "720p",
        "--aspect-ratio",
        "16:9",
        "-o",
        "out",
        "--poll-interval",
        "0.05",
        "--json",
        "--sha256",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["job"]["id"] == "job-gen" and record["job"]["status"] == "completed"
    assert [f["path"] for f in record["files"]] == ["out/job-gen.mp4", "out/job-gen-1.mp4"]
    assert [f["sha256"] for f in record["files"]] == [hashlib.sha256(o).hexdigest() for o in outputs]
    assert [(tmp_path / f["path"]).read_bytes() for f in record["files"]] == outputs
    assert json.loads(fake.requests[0].body) == {
        "model": "google/veo-3.1",
        "prompt": "a red fox",
        "duration": 8,
        "resolution": "720p",
        "aspect_ratio": "16:9",
    }


def test_generate_failed_job_is_a_one_line_error(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(statuses=["pending", "failed"], error="prompt rejected by moderation")
    result = run_cli(
        fake,
        "generate",
        "--model",
        "google/veo-3.1",
        "--prompt",
        "x",
        "--poll-interval",
        "0.05",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert_one_line_error(result, "failed", "prompt rejected by moderation")
    assert list(tmp_path.iterdir()) == []


def test_generate_503_on_submit_is_not_resubmitted(fake: FakeOpenRouter, tmp_path: Path) -> None:
    from openrouter_video.testing import Status

    fake.enqueue(Status(503), route="create")
    result = run_cli(fake, "generate", "--model", "google/veo-3.1", "--prompt", "x", cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result, "HTTP 503")
    assert [r.method for r in fake.requests] == ["POST"]


def test_generate_shows_a_spinner_then_progress_on_a_terminal(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(outputs=[b"x" * 200_000], statuses=["pending", "in_progress", "completed"])
    fake.rate = 400_000
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**os.environ, "OPENROUTER_API_KEY": fake.api_key}
    proc = subprocess.Popen(
        [
            CLI,
            "generate",
            "--model",
            "google/veo-3.1",
            "--prompt",
            "p",
            "--poll-interval",
            "0.3",
            "--base-url",
            fake.base_url,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    proc.wait(timeout=30)
    os.close(master)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "job-1 pending" in text and "job-1 in_progress" in text and "job-1 completed" in text
    assert any(frame in text for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
    assert "100%" in text and "B/s" in text


def test_status_plain_and_json(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(job_id="job-s", outputs=[b"a", b"b"], statuses=["completed"])
    with VideoClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        client.generate("google/veo-3.1", "p")
    result = run_cli(fake, "status", "job-s", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith(
        "job-s: completed (2 outputs); stored until 20"
    )
    assert result.stdout.endswith(" UTC\n")
    result = run_cli(fake, "status", "job-s", "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["unsigned_urls"][1].endswith("/videos/job-s/content?index=1")
    missing = run_cli(fake, "status", "job-nope", cwd=tmp_path)
    assert missing.returncode == 1
    assert_one_line_error(missing, "HTTP 404", "job-nope")


def test_models_table_and_json(fake: FakeOpenRouter, tmp_path: Path) -> None:
    result = run_cli(fake, "models", cwd=tmp_path)
    assert result.returncode == 0
    header, row = result.stdout.splitlines()
    assert header.split() == ["MODEL", "NAME", "DURATIONS", "(s)", "RESOLUTIONS", "ASPECT", "RATIOS"]
    assert row.split() == ["google/veo-3.1", "Veo", "3.1", "4,6,8", "720p,1080p", "16:9,9:16"]
    listed = json.loads(run_cli(fake, "models", "--json", cwd=tmp_path).stdout)
    assert listed[0]["canonical_slug"] == "google/veo-3.1"


def test_retries_are_one_note_each_on_stderr(fake: FakeOpenRouter, tmp_path: Path) -> None:
    from openrouter_video.testing import Cut

    fake.script_job(outputs=[b"v" * 100_000, b"w" * 100_000])
    fake.enqueue(Cut(at=10_000), Cut(at=20_000), route="storage")  # one cut in each output's download
    result = run_cli(
        fake,
        "generate",
        "--model",
        "google/veo-3.1",
        "--prompt",
        "p",
        "--poll-interval",
        "0.05",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert len(notes) == 2 and all(n.startswith("note: ") and "resuming" in n for n in notes)
    assert result.stdout.count("saved ") == 2


def test_generate_with_a_value_the_spec_does_not_allow_is_a_usage_error(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    result = run_cli(
        fake, "generate", "--model", "google/veo-3.1", "--prompt", "p", "--resolution", "999p", cwd=tmp_path
    )
    assert result.returncode == 2
    assert_one_line_error(result, "resolution must be one of", "999p")
    assert fake.requests == []  # nothing was submitted


# -- output directories ------------------------------------------------------------------------------


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
    fake.enqueue(Cut(at=100 * 1024 + 100), route="storage")
    result = run_cli(fake, "download", "job-abc", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1, result.stderr
    assert "connection cut at 100 KiB of 300 KiB" in notes[0] and notes[0].endswith("; resuming")
    assert "retrying in" not in notes[0] and (tmp_path / "job-abc.mp4").read_bytes() == payload


# -- signals: generate, and a download interrupted again and again -----------------------------------


def _generate(fake: FakeOpenRouter, cwd: Path) -> subprocess.Popen[str]:
    command = [CLI, "generate", "--model", "google/veo-3.1", "--prompt", "fox", "--poll-interval", "0.05"]
    return subprocess.Popen(
        [*command, "--base-url", fake.base_url],
        cwd=cwd,
        env=cli_env(fake.api_key),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(30)
def test_sigterm_while_generate_waits_exits_143_and_leaves_nothing(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.script_job(job_id="job-paid-a", statuses=["pending"])
    proc = _generate(fake, tmp_path)
    wait_for(lambda: "job-paid-a" in fake.jobs and fake.job("job-paid-a").polls >= 2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143 and stderr.startswith("error: terminated by SIGTERM")
    assert files(tmp_path) == [] and list(fake.jobs) == ["job-paid-a"]


@pytest.mark.timeout(30)
def test_sigterm_while_generate_waits_names_the_paid_job(fake: FakeOpenRouter, tmp_path: Path) -> None:
    fake.script_job(job_id="job-paid-a", statuses=["pending"])
    proc = _generate(fake, tmp_path)  # not a terminal: no spinner shows the id
    wait_for(lambda: "job-paid-a" in fake.jobs and fake.job("job-paid-a").polls >= 2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143
    assert "job-paid-a" in stdout + stderr, "the job was paid for; without its id it cannot be downloaded"


@pytest.mark.timeout(30)
def test_following_the_note_after_an_interrupted_generate_does_not_pay_twice(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(2 * MIB)
    fake.script_job(job_id="job-paid-b", outputs=[payload], statuses=["completed"])
    fake.enqueue(Stall(at=3 * MIB // 2, seconds=30), route="storage")
    proc = _generate(fake, tmp_path)
    part = tmp_path / ".job-paid-b.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143
    note = [line for line in stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1
    if "same command" in note[0]:
        again = _generate(fake, tmp_path)
        again.communicate(timeout=20)
        assert list(fake.jobs) == ["job-paid-b"], "the same command submitted (and paid for) another job"
        assert (tmp_path / "job-paid-b.mp4").read_bytes() == payload
    else:
        assert "job-paid-b" in note[0] and "download" in note[0]


@pytest.mark.timeout(30)
def test_sigterm_twice_then_sigint_and_sighup_exit_143_once_and_keep_the_partial(
    fake: FakeOpenRouter, tmp_path: Path
) -> None:
    payload = noise(3 * MIB)
    fake.add_video("job-abc", payload)
    fake.enqueue(Stall(at=2 * MIB, seconds=30))
    proc = _download_cli(fake, tmp_path)
    part = tmp_path / ".job-abc.mp4.part"
    wait_for(lambda: part.exists() and part.stat().st_size >= MIB)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # (sent together, the kernel would deliver the lower-numbered SIGINT first)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGHUP)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 143, stderr
    assert stderr.splitlines() == [
        "error: terminated by SIGTERM",
        "note: kept the partial download .job-abc.mp4.part; run the same command again to resume",
    ]
    assert part.read_bytes() == payload[: 2 * MIB]
    assert files(tmp_path) == [".job-abc.mp4.part", ".job-abc.mp4.part.state"]
