"""Every Python example in README.md and docs/*.md runs as written, against the fake server.

The examples use the environment (``OPENROUTER_API_KEY``, ``OPENROUTER_BASE_URL``), so the test points
it at a :class:`FakeOpenRouter` with the job ids the documents use; sleeps are made instant. Each
document's blocks run in order in one namespace (a later block may use an earlier one's names), each
in a directory of its own; a block that defines a pytest test (``def test_...``) is then called as
pytest would, with a fresh fake server as ``openrouter_fake`` and a ``tmp_path``. The one
substitution: the corporate-proxy example's CA file (``/etc/ssl/certs/corp-ca.pem``) is a throwaway
certificate made here, and its proxy is not contacted (the example only builds a client).
"""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import pytest
from openrouter_video import API_KEY_ENV, BASE_URL_ENV
from openrouter_video.testing import FakeOpenRouter
from test_tls import certificate  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
CORPORATE_CA = "/etc/ssl/certs/corp-ca.pem"


def python_blocks(document: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", document.read_text(), flags=re.S | re.M)


def test_the_documents_have_the_examples_this_test_expects() -> None:
    blocks = python_blocks(README)
    assert len(blocks) == 7
    assert "generate_and_download" in blocks[0] and "asyncio.run(main())" in blocks[1]
    assert "def test_my_service" in blocks[6]
    assert len(python_blocks(ROOT / "docs" / "api.md")) == 1
    # no Python example hides from this test behind another fence (```py, ```python3, ```pycon...)
    for document in DOCUMENTS:
        fences = re.findall(r"^```(\S+)", document.read_text(), flags=re.M)
        assert not [f for f in fences if f.startswith("py") and f != "python"], document


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_python_example_runs(
    document: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    certificate: tuple[Path, Path],  # noqa: F811
) -> None:
    name = document.relative_to(ROOT)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # the whole flow's polls
    namespace: dict[str, object] = {"__name__": "docs"}
    with FakeOpenRouter() as fake:
        fake.add_video("job-abc123", b"\x00" * 5000 + b"video")
        monkeypatch.setenv(API_KEY_ENV, fake.api_key)
        monkeypatch.setenv(BASE_URL_ENV, fake.base_url)
        for number, block in enumerate(python_blocks(document), start=1):
            code = block.replace(CORPORATE_CA, str(certificate[0]))
            (tmp_path / f"block-{number}").mkdir()
            monkeypatch.chdir(tmp_path / f"block-{number}")  # each writes its own files
            try:
                exec(compile(code, f"{name} python block {number}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message names the block
                raise AssertionError(f"{name} python block {number} failed: {exc!r}") from exc
    # a block that is a pytest test: call it as pytest would
    for test_name, test in list(namespace.items()):
        if not (test_name.startswith("test_") and inspect.isfunction(test)):
            continue
        fixtures: dict[str, object] = {"tmp_path": tmp_path / test_name}
        (tmp_path / test_name).mkdir()
        with FakeOpenRouter() as other:
            fixtures["openrouter_fake"] = other
            parameters = inspect.signature(test).parameters
            unknown = set(parameters) - set(fixtures)
            assert not unknown, f"{name}: {test_name} asks for fixtures this test does not give: {unknown}"
            test(**{parameter: fixtures[parameter] for parameter in parameters})
    if document == README:
        videos = tmp_path / "block-1" / "videos"
        assert videos.is_dir() and any(videos.iterdir())  # made by generate_and_download
        assert (tmp_path / "block-2" / "videos").is_dir()  # made by the async download
        assert (tmp_path / "block-6" / "out.mp4").read_bytes() == b"...mp4 bytes..."
        assert "video.completed" in capsys.readouterr().out
        assert "test_my_service" in namespace


# docs/architecture.md is written separately; until it exists, a link to it is the one allowed to dangle.
PENDING = {ROOT / "docs" / "architecture.md"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _outside_code(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def anchors(document: Path) -> set[str]:
    """The anchors GitHub makes of a document's headings (lower case, punctuation dropped, spaces to -)."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", _outside_code(document.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def test_every_relative_link_resolves() -> None:
    broken = []
    for document in [*DOCUMENTS, ROOT / "CHANGELOG.md"]:
        for target in LINK.findall(_outside_code(document.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            resolved = (document.parent / path).resolve() if path else document
            if resolved in PENDING and not resolved.exists():
                continue
            if not resolved.exists() or (anchor and anchor not in anchors(resolved)):
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, broken
