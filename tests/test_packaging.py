"""The project's shape: reproducible generation, a drift check that bites, one wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import openrouter_video
import pytest
import yaml
from openrouter_video import DEFAULT_BASE_URL
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _copy_project(dest: Path) -> Path:
    """The files generation depends on, plus the committed generated/, in a scratch project."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("openapi.yaml", "generator-config.yml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "scripts", dest / "scripts")
    shutil.copytree(ROOT / "templates", dest / "templates")
    shutil.copytree(ROOT / "generated", dest / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _run(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "VENV_BIN": str(VENV_BIN), **(env or {})}
    return subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generation_is_reproducible_whatever_ruff_config_path_or_hash_seed(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    # A hostile ruff configuration above and beside the output, a different PATH and hash seed.
    (tmp_path / "ruff.toml").write_text("line-length = 40\n[format]\nquote-style = 'single'\n")
    (project / "ruff.toml").write_text("line-length = 50\n")
    (project / "pyproject.toml").write_text("[tool.ruff]\nline-length = 60\n")
    out = tmp_path / "out"
    result = _run(
        project / "scripts" / "generate.sh",
        str(out),
        env={
            "PYTHONHASHSEED": "12345",
            "PATH": f"/usr/bin:/bin:{VENV_BIN}",
            "RUFF_LINE_LENGTH": "30",
        },
    )
    assert result.returncode == 0, result.stderr
    assert _tree(out) == _tree(ROOT / "generated")


def test_check_generated_passes_on_the_committed_tree(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    result = _run(project / "scripts" / "check-generated.sh")
    assert result.returncode == 0, result.stderr


def test_check_generated_fails_after_a_hand_edit_naming_the_file(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    target = project / "generated/openrouter_video_api/api/video_generation/list_videos_content.py"
    target.write_text(target.read_text().replace('"method": "get"', '"method": "GET"'))
    result = _run(project / "scripts" / "check-generated.sh")
    assert result.returncode != 0
    assert "list_videos_content.py" in result.stderr


def test_check_generated_fails_after_a_one_word_spec_change(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    spec = project / "openapi.yaml"
    spec.write_text(
        spec.read_text().replace(
            "summary: Download generated video content", "summary: Fetch generated video content"
        )
    )
    result = _run(project / "scripts" / "check-generated.sh")
    assert result.returncode != 0
    assert "list_videos_content.py" in result.stderr


def test_default_base_url_is_the_server_in_openapi_yaml() -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert spec["servers"][0]["url"] == DEFAULT_BASE_URL


def test_runtime_dependencies_stay_within_what_the_generated_code_declares() -> None:
    ours = {
        Requirement(r).name: Requirement(r)
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    theirs = [
        Requirement(r)
        for r in tomllib.loads((ROOT / "generated/pyproject.toml").read_text())["project"]["dependencies"]
    ]
    assert set(ours) == {r.name for r in theirs} | {"python-dateutil", "httpcore", "h11", "anyio", "sniffio"}
    probes = [
        Version(v)
        for v in (
            "0.22",
            "0.23.1",
            "0.25.0",
            "0.27.2",
            "0.28.1",
            "0.29.0",
            "1.0",
            "21.0",
            "22.2.0",
            "25.1.0",
        )
    ]
    for req in theirs:
        allowed_by_us = [v for v in probes if v in ours[req.name].specifier]
        assert allowed_by_us, req.name
        assert all(v in req.specifier for v in allowed_by_us), (req, ours[req.name])


def test_overlay_never_leaks_into_generated() -> None:
    for path in (ROOT / "generated").rglob("*.py"):
        assert (
            "openrouter_video." not in path.read_text()
            and "import openrouter_video\n" not in path.read_text()
        )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_wheel_contains_both_packages_their_py_typed_and_the_spec(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("openrouter_video-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "openrouter_video/__init__.py" in names
    assert "openrouter_video/py.typed" in names
    assert "openrouter_video_api/py.typed" in names
    assert "openrouter_video_api/api/video_generation/list_videos_content.py" in names
    # the spec FakeOpenRouter checks requests against, byte for byte the root openapi.yaml
    assert (
        zipfile.ZipFile(wheel).read("openrouter_video/openapi.yaml") == (ROOT / "openapi.yaml").read_bytes()
    )
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    assert openrouter_video.__version__ in wheel.name


def test_every_third_party_module_the_overlay_imports_is_declared() -> None:
    import ast

    declared = {
        Requirement(r).name
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    declared |= {Requirement(r).name for deps in extras.values() for r in deps}
    distribution = {"dateutil": "python-dateutil", "attr": "attrs", "yaml": "pyyaml"}
    imported: set[str] = set()
    for path in (ROOT / "overlay" / "openrouter_video").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {
        name
        for name in imported
        if name not in sys.stdlib_module_names and name not in ("openrouter_video", "openrouter_video_api")
    }
    third_party.discard("pytest")  # only pytest_plugin.py, which only pytest itself loads
    assert third_party >= {"httpx", "httpcore", "anyio"}
    missing = {distribution.get(name, name) for name in third_party} - declared
    assert not missing, f"imported by the overlay but not declared in pyproject.toml: {sorted(missing)}"


def test_the_overlay_reaches_into_no_other_librarys_private_modules_or_seams() -> None:
    """No ``from httpcore._...`` (or httpx's, h11's) and none of the seams the old process-wide patch
    and backend swap used; what the package still reads privately is listed and guarded."""
    import ast

    seams = ("_pool", "_network_backend", "_receive_response_body", "_remaining", "_sslobj", "_h11_state")
    for path in (ROOT / "overlay" / "openrouter_video").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top, *rest = node.module.split(".")
                assert not (top in ("httpx", "httpcore", "h11") and rest and rest[0].startswith("_")), path
            if isinstance(node, ast.Attribute):
                assert node.attr not in seams, f"{path.name}:{node.lineno} uses {node.attr}"


def test_the_generated_client_and_the_package_declare_the_same_httpx_range() -> None:
    ours = {
        Requirement(r).name: Requirement(r)
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    (theirs,) = [
        Requirement(r)
        for r in tomllib.loads((ROOT / "generated/pyproject.toml").read_text())["project"]["dependencies"]
        if r.startswith("httpx")
    ]
    assert ours["httpx"].specifier == theirs.specifier
    assert Version("0.29.0") in theirs.specifier and Version("0.25.2") not in theirs.specifier
