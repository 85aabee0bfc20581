"""Every Python example in README.md runs as written, against the fake server.

The examples use the environment (``OPENROUTER_API_KEY``, ``OPENROUTER_BASE_URL``), so the test points
it at a :class:`FakeOpenRouter` with the job ids the README uses; sleeps are made instant. The one
substitution: the corporate-proxy example's CA file (``/etc/ssl/certs/corp-ca.pem``) is a throwaway
certificate made here, and its proxy is not contacted (the example only builds a client).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from openrouter_video import API_KEY_ENV, BASE_URL_ENV
from openrouter_video.testing import FakeOpenRouter
from test_tls import certificate  # noqa: F401 - fixture

README = Path(__file__).resolve().parent.parent / "README.md"
CORPORATE_CA = "/etc/ssl/certs/corp-ca.pem"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_the_examples_this_test_expects() -> None:
    blocks = python_blocks()
    assert len(blocks) == 7
    assert "generate_and_download" in blocks[0] and "asyncio.run(main())" in blocks[1]


def test_every_python_example_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    certificate: tuple[Path, Path],  # noqa: F811
) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # the whole flow's polls
    with FakeOpenRouter() as fake:
        fake.add_video("job-abc123", b"\x00" * 5000 + b"video")
        monkeypatch.setenv(API_KEY_ENV, fake.api_key)
        monkeypatch.setenv(BASE_URL_ENV, fake.base_url)
        namespace: dict[str, object] = {"__name__": "readme"}
        for number, block in enumerate(python_blocks(), start=1):
            code = block.replace(CORPORATE_CA, str(certificate[0]))
            (tmp_path / f"block-{number}").mkdir()
            monkeypatch.chdir(tmp_path / f"block-{number}")  # each writes its own files
            try:
                exec(compile(code, f"README.md python block {number}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message names the block
                raise AssertionError(f"README python block {number} failed: {exc!r}") from exc
        # block 7 is a pytest test: call it as pytest would
        test = namespace["test_my_service"]
        assert callable(test)
        with FakeOpenRouter() as other:
            test(other, tmp_path)
    videos = tmp_path / "block-1" / "videos"
    assert videos.is_dir() and any(videos.iterdir())  # made by generate_and_download
    assert (tmp_path / "block-2" / "videos").is_dir()  # made by the async download
    assert (tmp_path / "block-6" / "out.mp4").read_bytes() == b"...mp4 bytes..."
    assert "video.completed" in capsys.readouterr().out
