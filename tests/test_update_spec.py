"""`make update-spec SPEC=path` (scripts/update_spec.py): the spec diff's rules one by one, the Python API
diff, the version and changelog arithmetic, and the real target end to end on the two spec edits kept in
tests/spec_edits/ (additive: minor; breaking: major), each in a scratch copy of the repository with its
own git history, so the checkout is never touched and no tag of this repository is needed."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EDITS = Path(__file__).resolve().parent / "spec_edits"
VENV = Path(sys.executable).parent.parent  # make's VENV: the one running these tests


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


us = _module("update_spec", ROOT / "scripts" / "update_spec.py")
edits = _module("spec_edits_apply", EDITS / "apply.py")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


# --- the spec diff's rules ------------------------------------------------------------------------------


def _spec() -> dict[str, Any]:
    """A small spec: a POST with a body (through $ref and allOf) and a GET with a query parameter."""
    job = {"$ref": "#/components/schemas/Job"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/jobs": {
                "post": {
                    "operationId": "createJob",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}},
                    },
                    "responses": {
                        "202": {"description": "ok", "content": {"application/json": {"schema": job}}},
                        "400": {"description": "bad"},
                    },
                }
            },
            "/jobs/{id}": {
                "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "operationId": "getJob",
                    "parameters": [
                        {
                            "in": "query",
                            "name": "index",
                            "schema": {"type": ["integer", "null"], "minimum": 0},
                        }
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": job}}}
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Req": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Base"},
                        {
                            "type": "object",
                            "required": ["model"],
                            "properties": {
                                "model": {"type": "string"},
                                "duration": {"type": "integer", "minimum": 1},
                                "size": {"type": "string", "enum": ["S", "M", "L"]},
                                "note": {"type": ["string", "null"]},
                                "scale": {"type": "number"},
                                "refs": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
                            },
                        },
                    ]
                },
                "Base": {"type": "object", "properties": {"seed": {"type": "integer", "default": 0}}},
                "Ref": {
                    "oneOf": [{"$ref": "#/components/schemas/Image"}, {"$ref": "#/components/schemas/Audio"}]
                },
                "Image": {"type": "object", "properties": {"url": {"type": "string"}}},
                "Audio": {"type": "object", "properties": {"url": {"type": "string"}}},
                "Job": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["pending", "done"]},
                        "cost": {"type": "number"},
                        "error": {"type": "string"},
                    },
                },
            }
        },
    }


def _lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f"{change.level} {change}" for change in us.diff_specs(old, new)]


def _edited(*edits: tuple[list[Any], Any]) -> dict[str, Any]:
    """The small spec with each (path, value) set; value None deletes."""
    spec = copy.deepcopy(_spec())
    for path, value in edits:
        parent = spec
        for key in path[:-1]:
            parent = parent[key]
        if path[-1] == "-":
            parent.append(value)
        elif value is None:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return spec


PARAMETERS = ["paths", "/jobs/{id}", "get", "parameters"]
INDEX = [*PARAMETERS, 0]


def req(*keys: Any) -> list[Any]:
    """A path into the request body's own schema (the second part of its allOf)."""
    return ["components", "schemas", "Req", "allOf", 1, *keys]


def job(*keys: Any) -> list[Any]:
    return ["components", "schemas", "Job", *keys]


def index(*keys: Any) -> list[Any]:
    return [*INDEX, *keys]


def test_identical_specs_have_no_change_and_no_bump() -> None:
    assert us.diff_specs(_spec(), _spec()) == []
    assert us.bump_of([]) is None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # required, in a request (through $ref + allOf) and in a response
        (
            (req("required"), ["model", "duration"]),
            "major POST /jobs request body `duration`: made required",
        ),
        ((req("required"), []), "minor POST /jobs request body `model`: made optional"),
        (
            (job("required"), ["id", "status", "cost"]),
            "minor POST /jobs response 202 `cost`: made required",
        ),
        ((job("required"), ["id"]), "major GET /jobs/{id} response 200 `status`: made optional"),
        # types
        (
            (req("properties", "note", "type"), "string"),
            "major POST /jobs request body `note`: type narrowed: null | string -> string",
        ),
        (
            (req("properties", "scale", "type"), "integer"),
            "major POST /jobs request body `scale`: type narrowed: number -> integer",
        ),
        (
            (req("properties", "duration", "type"), "number"),
            "minor POST /jobs request body `duration`: type widened: integer -> number",
        ),
        (
            (job("properties", "cost", "type"), "integer"),
            "minor POST /jobs response 202 `cost`: type narrowed: number -> integer",
        ),
        (
            (job("properties", "id", "type"), ["string", "null"]),
            "major GET /jobs/{id} response 200 `id`: type widened: string -> null | string",
        ),
        (
            (req("properties", "model", "type"), "integer"),
            "major POST /jobs request body `model`: type changed: string -> integer",
        ),
        (
            (index("schema", "type"), "integer"),
            "major GET /jobs/{id} parameter `index` (query): type narrowed: integer | null -> integer",
        ),
        # enums
        (
            (req("properties", "size", "enum"), ["S", "M"]),
            "major POST /jobs request body `size`: enum value removed: L",
        ),
        (
            (req("properties", "size", "enum"), ["S", "M", "L", "XL"]),
            "minor POST /jobs request body `size`: enum value added: XL",
        ),
        (
            (job("properties", "status", "enum"), ["pending", "done", "queued"]),
            "minor POST /jobs response 202 `status`: enum value added: queued"
            " (exhaustive matches see a new case)",
        ),
        (
            (job("properties", "status", "enum"), ["done"]),
            "minor GET /jobs/{id} response 200 `status`: enum value removed: pending",
        ),
        (
            (req("properties", "model", "enum"), ["a"]),
            "major POST /jobs request body `model`: enum added: only a",
        ),
        (
            (job("properties", "status", "enum"), None),
            "major POST /jobs response 202 `status`: enum dropped: any value",
        ),
        # bounds
        (
            (req("properties", "duration", "minimum"), 2),
            "major POST /jobs request body `duration`: minimum raised: 1 -> 2",
        ),
        (
            (req("properties", "duration", "maximum"), 60),
            "major POST /jobs request body `duration`: maximum added: 60",
        ),
        (
            (req("properties", "duration", "minimum"), 0),
            "minor POST /jobs request body `duration`: minimum lowered: 1 -> 0",
        ),
        (
            (index("schema", "minimum"), None),
            "minor GET /jobs/{id} parameter `index` (query): minimum removed (was 0)",
        ),
        (
            (job("properties", "cost", "minimum"), 0),
            "minor POST /jobs response 202 `cost`: minimum added: 0",
        ),
        # defaults, formats, patterns
        (
            (["components", "schemas", "Base", "properties", "seed", "default"], 1),
            "major POST /jobs request body `seed`: default changed: 0 -> 1"
            " (leaving it out now means something else)",
        ),
        (
            (job("properties", "id", "format"), "uuid"),
            "major POST /jobs response 202 `id`: format changed: None -> uuid"
            " (the generated Python type changes)",
        ),
        (
            (job("properties", "id", "format"), "hostname"),
            "patch POST /jobs response 202 `id`: format changed: None -> hostname",
        ),
        (
            (req("properties", "model", "pattern"), "^[a-z]+/"),
            "major POST /jobs request body `model`: pattern changed: None -> ^[a-z]+/",
        ),
        # fields
        ((req("properties", "model"), None), "major POST /jobs request body `model`: removed"),
        ((job("properties", "error"), None), "major GET /jobs/{id} response 200 `error`: removed"),
        ((job("properties", "usage"), {"type": "object"}), "minor POST /jobs response 202 `usage`: added"),
        (
            (req("properties", "fps"), {"type": "integer"}),
            "minor POST /jobs request body `fps`: added (optional)",
        ),
        # nested: items, oneOf variants (by $ref name)
        (
            (["components", "schemas", "Image", "properties", "url", "type"], "integer"),
            "major POST /jobs request body `refs[]<Image>.url`: type changed: string -> integer",
        ),
        (
            (["components", "schemas", "Ref", "oneOf"], [{"$ref": "#/components/schemas/Image"}]),
            "major POST /jobs request body `refs[]`: oneOf variant removed: Audio",
        ),
        # operations, parameters, statuses, bodies
        ((["paths", "/jobs", "post"], None), "major POST /jobs: operation removed"),
        (
            (["paths", "/jobs", "delete"], {"operationId": "deleteJobs", "responses": {}}),
            "minor DELETE /jobs: operation added",
        ),
        ((["paths", "/jobs", "post", "operationId"], "submitJob"), "major POST /jobs: operationId changed"),
        (
            (
                [*PARAMETERS, "-"],
                {"in": "query", "name": "page", "required": True, "schema": {"type": "integer"}},
            ),
            "major GET /jobs/{id} parameter `page` (query): added (required)",
        ),
        (
            ([*PARAMETERS, "-"], {"in": "query", "name": "page", "schema": {"type": "integer"}}),
            "minor GET /jobs/{id} parameter `page` (query): added (optional)",
        ),
        ((index("required"), True), "major GET /jobs/{id} parameter `index` (query): made required"),
        ((INDEX, None), "major GET /jobs/{id} parameter `index` (query): removed"),
        (
            (["paths", "/jobs", "post", "responses", "409"], {"description": "x"}),
            "minor POST /jobs response 409: added (exhaustive matches see a new case)",
        ),
        ((["paths", "/jobs", "post", "responses", "400"], None), "major POST /jobs response 400: removed"),
        (
            (["paths", "/jobs", "post", "requestBody", "required"], False),
            "minor POST /jobs request body: made optional",
        ),
        # what the report does not class, and text
        (
            (["servers"], [{"url": "https://example.com"}]),
            "patch `servers`: changed (not classified: review by hand)",
        ),
        ((["info", "version"], "1.1.0"), "patch info.version: 1.0.0 -> 1.1.0"),
        (
            (["paths", "/jobs", "post", "description"], "Submit a job"),
            "patch text: descriptions, summaries, examples or x-* keys changed in 1 places",
        ),
        (
            (job("properties", "id", "x-speakeasy-name"), "identifier"),
            "patch text: descriptions, summaries, examples or x-* keys changed in 1 places",
        ),
    ],
)
def test_each_rule(edit: tuple[list[Any], Any], expected: str) -> None:
    lines = _lines(_spec(), _edited(edit))
    assert any(line == expected or line.startswith(expected + ":") for line in lines), lines
    assert us.bump_of(us.diff_specs(_spec(), _edited(edit))) == expected.split()[0]


def test_a_shared_component_is_reported_where_each_operation_uses_it() -> None:
    lines = _lines(_spec(), _edited((job("properties", "error"), None)))
    assert lines == [
        "major GET /jobs/{id} response 200 `error`: removed",
        "major POST /jobs response 202 `error`: removed",
    ]


def test_the_order_is_major_then_minor_then_patch_then_subject() -> None:
    new = _edited(
        (["info", "version"], "2"),
        (req("properties", "fps"), {"type": "integer"}),
        (req("properties", "model"), None),
        (job("properties", "error"), None),
    )
    assert [line.split(":")[0] for line in _lines(_spec(), new)] == [
        "major GET /jobs/{id} response 200 `error`",
        "major POST /jobs request body `model`",
        "major POST /jobs response 202 `error`",
        "minor POST /jobs request body `fps`",
        "patch info.version",
    ]


def test_a_recursive_schema_is_compared_once() -> None:
    old = _edited((job("properties", "parent"), {"$ref": "#/components/schemas/Job"}))
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Job"]["properties"]["cost"]["type"] = "string"
    lines = _lines(old, new)
    assert "major POST /jobs response 202 `cost`: type changed: number -> string" in lines
    assert not any("parent.parent" in line for line in lines)


def test_openapi_3_0_nullable_and_exclusive_minimum() -> None:
    old = _edited((req("properties", "note"), {"type": "string", "nullable": True}))
    new = _edited((req("properties", "note"), {"type": "string"}))
    assert _lines(old, new) == [
        "major POST /jobs request body `note`: type narrowed: null | string -> string"
    ]
    old = _edited((req("properties", "scale"), {"type": "number", "minimum": 0}))
    new = _edited((req("properties", "scale"), {"type": "number", "minimum": 0, "exclusiveMinimum": True}))
    assert _lines(old, new) == ["major POST /jobs request body `scale`: exclusiveMinimum: false -> true"]


# --- versions and the changelog -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "bump", "expected"),
    [
        ("0.1.0", "major", "0.2.0"),
        ("0.1.0", "minor", "0.1.1"),
        ("0.1.0", "patch", "0.1.1"),
        ("0.3.4", "major", "0.4.0"),
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3", None, "1.2.3"),
    ],
)
def test_next_version(version: str, bump: str | None, expected: str) -> None:
    assert us.next_version(version, bump) == expected


def test_bump_is_the_highest_level() -> None:
    change = us.Change
    assert us.bump_of([change("patch", "a", "b"), change("minor", "a", "b")]) == "minor"
    assert (
        us.bump_of([change("minor", "a", "b"), change("major", "a", "b"), change("patch", "a", "b")])
        == "major"
    )
    assert us.bump_of([change("patch", "a", "b")]) == "patch"


def test_changelog_entries_are_this_updates_changes_only() -> None:
    breaking, added = (
        us.Change("major", "`x.gone`", "removed"),
        us.Change("minor", "GET /a", "operation added"),
    )
    base = us.Base("v0.1.0", "the latest v* tag")
    # an overlay break since the tag sets the bump, but this update only added an operation
    report = us.Report("s", "g", "d", [added], base, [breaking], [], "0.1.0")
    assert report.bump_line().startswith("Bump: major (next version 0.2.0, from 0.1.0;")
    assert report.changelog() == [
        "- `openapi.yaml` updated with `make update-spec`: a **major** change (next version 0.2.0).",
        "  - Compatible: GET /a: operation added.",
    ]
    # nothing in this update: no entry, whatever happened since the tag
    assert us.Report("s", "g", "d", [], base, [breaking], [], "0.1.0").changelog() == []
    nothing = us.Report("s", "g", "d", [], base, [], [], "1.2.3")
    assert (nothing.bump_line(), nothing.changelog()) == (
        "Bump: none (no change to the spec or the Python API)",
        [],
    )


CHANGELOG_WITH_UNRELEASED = "# Changelog\n\n**Unreleased**\n\n- old entry\n\n**0.1.0**\n\n- first\n"


def test_changelog_entries_go_first_under_unreleased_once(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG_WITH_UNRELEASED)
    assert (
        us.insert_changelog(changelog, ["- new entry", "  - detail"])
        == "added to CHANGELOG.md under **Unreleased**"
    )
    expected = CHANGELOG_WITH_UNRELEASED.replace("- old entry", "- new entry\n  - detail\n- old entry")
    assert changelog.read_text() == expected
    assert us.insert_changelog(changelog, ["- new entry", "  - detail"]) == "already in CHANGELOG.md"
    assert changelog.read_text() == expected


def test_changelog_without_unreleased_gets_the_heading(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    # an **Unreleased** under a later section is not the changelog's own
    changelog.write_text("# Changelog\n\n**0.1.0**\n\n- first\n\n## Notes\n\n**Unreleased**\n\n")
    us.insert_changelog(changelog, ["- new entry"])
    assert changelog.read_text().startswith("# Changelog\n\n**Unreleased**\n\n- new entry\n\n**0.1.0**\n")
    changelog.write_text("# Changes\n")
    assert "no '# Changelog' title" in us.insert_changelog(changelog, ["- new entry"])
    assert changelog.read_text() == "# Changes\n"
    changelog.unlink()
    assert us.insert_changelog(changelog, ["- new entry"]) == "CHANGELOG.md does not exist: not added"
    assert not changelog.exists()


def test_the_repositorys_changelog_takes_entries(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    shutil.copy2(ROOT / "CHANGELOG.md", changelog)
    assert us.insert_changelog(changelog, ["- new entry"]) == "added to CHANGELOG.md under **Unreleased**"
    assert changelog.read_text().startswith("# Changelog\n\n**Unreleased**\n\n- new entry\n- ")


# --- the Python API and its base -----------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _package(tree: Path, overlay: str, generated: str = "def sync(job_id: str) -> None: ...\n") -> Path:
    (tree / "overlay" / "openrouter_video").mkdir(parents=True, exist_ok=True)
    (tree / "overlay" / "openrouter_video" / "__init__.py").write_text(overlay)
    (tree / "generated" / "openrouter_video_api").mkdir(parents=True, exist_ok=True)
    (tree / "generated" / "openrouter_video_api" / "__init__.py").write_text(generated)
    return tree


def test_python_api_breaks_and_additions(tmp_path: Path) -> None:
    old = _package(
        tmp_path / "old",
        "def download(job_id: str, retries: int = 3) -> None: ...\ndef gone() -> None: ...\n",
    )
    new = _package(
        tmp_path / "new",
        "def download(job_id: str, retries: int = 5, index: int = 0) -> None: ...\n"
        "def fresh() -> None: ...\n",
        "def sync(job_id: str, client: object) -> None: ...\n",
    )
    lines = [f"{change.level} {change}" for change in us.diff_apis(us.load_api(old), us.load_api(new))]
    assert lines == [
        "major `openrouter_video.download(retries)`: Parameter default was changed: 3 -> 5",
        "major `openrouter_video.gone`: Public object was removed",
        "major `openrouter_video_api.sync(client)`: Parameter was added as required",
        "minor `openrouter_video.download(index)`: parameter added (optional)",
        "minor `openrouter_video.fresh`: added",
    ]
    assert us.diff_apis(us.load_api(old), us.load_api(old)) == []


@needs_git
def test_base_is_the_latest_v_tag_else_head_else_nothing(tmp_path: Path) -> None:
    assert us.find_base(tmp_path, None).ref is None  # not a repository
    _git(tmp_path, "init", "-q")
    assert us.find_base(tmp_path, None).ref is None  # no commit
    (tmp_path / "f").write_text("1")
    _git(tmp_path, "add", "f")
    _git(tmp_path, "commit", "-qm", "one")
    base = us.find_base(tmp_path, None)
    assert (base.ref, base.note.startswith("no v* tag")) == ("HEAD", True)
    for tag in ("v0.9.0", "v0.10.0", "x1.0.0"):
        _git(tmp_path, "tag", tag)
    assert us.find_base(tmp_path, None).ref == "v0.10.0"
    assert us.find_base(tmp_path, "v0.9.0").ref == "v0.9.0"
    with pytest.raises(SystemExit, match="not a commit"):
        us.find_base(tmp_path, "v9")


# --- end to end: the real make target on the two edits ---------------------------------------------------


def _project(dest: Path) -> Path:
    """What `make update-spec` touches, committed to a fresh git repository (no tag)."""
    dest.mkdir()
    files = (
        "openapi.yaml",
        "generator-config.yml",
        "Makefile",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "requirements-dev.txt",
    )
    for name in files:
        shutil.copy2(ROOT / name, dest / name)
    for name in ("scripts", "templates", "generated", "overlay"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-qm", "before the update")
    return dest


def _update_spec(project: Path, spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make update-spec` with this test run's venv (-o: never rebuilt from the copy's requirements)."""
    stamp = VENV / ".installed"
    return subprocess.run(
        [
            "make",
            "-C",
            str(project),
            "-s",
            "-o",
            str(stamp),
            "update-spec",
            f"SPEC={spec}",
            f"VENV={VENV}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_git
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_additive_edit_is_a_minor_bump(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    spec = tmp_path / "additive.yaml"
    spec.write_text(edits.edited_spec(EDITS / "additive.yaml"))
    result = _update_spec(project, spec)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Bump: minor (next version 0.1.1, from 0.1.0;" in out
    for line in (
        "generated/ regenerated: 3 files changed, 1 added, 0 removed",
        "drift check: generated/ matches openapi.yaml (not compared with the commit)",
        "  compatible (minor):",
        "    - DELETE /videos/{jobId}: operation added",
        "    - POST /videos request body `negative_prompt`: added (optional)",
        "    - POST /videos response 409: added (exhaustive matches see a new case)",
        "    - GET /videos/{jobId} response 200 `status`: enum value added: queued"
        " (exhaustive matches see a new case)",
        "    - POST /videos request body `duration`: minimum lowered: 1 -> 0",
        "Python API (openrouter_video_api, openrouter_video) against HEAD (no v* tag in this repository: "
        "the state before this update stands in for the last release):",
        "    - `openrouter_video_api.api.video_generation.cancel_videos`: added",
        "    - `openrouter_video_api.models.video_generation_request.VideoGenerationRequest.negative_prompt`:"
        " added",
    ):
        assert line in out.splitlines(), (line, out)
    assert "breaking (major)" not in out
    # the spec, the generated client and the changelog are updated; nothing else
    assert (project / "openapi.yaml").read_bytes() == spec.read_bytes()
    assert (project / "generated/openrouter_video_api/api/video_generation/cancel_videos.py").is_file()
    changelog = (project / "CHANGELOG.md").read_text()
    entry = "- `openapi.yaml` updated with `make update-spec`: a **minor** change (next version 0.1.1).\n"
    assert changelog.index(entry) == changelog.index("**Unreleased**\n\n") + len("**Unreleased**\n\n")
    assert "  - Compatible: DELETE /videos/{jobId}: operation added.\n" in changelog
    assert "CHANGELOG entries (added to CHANGELOG.md under **Unreleased**):" in out.splitlines()
    assert sorted(_git(project, "status", "--porcelain").splitlines()) == [
        " M CHANGELOG.md",
        " M generated/openrouter_video_api/api/video_generation/create_videos.py",
        " M generated/openrouter_video_api/models/video_generation_request.py",
        " M generated/openrouter_video_api/models/video_generation_response_status.py",
        " M openapi.yaml",
        "?? generated/openrouter_video_api/api/video_generation/cancel_videos.py",
    ]
    # the plain drift check now wants the update committed; --allow-uncommitted is what the target ran
    check = subprocess.run(
        ["bash", str(project / "scripts/check-generated.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "VENV_BIN": str(VENV / "bin")},
    )
    assert check.returncode == 1 and "differs from what is committed" in check.stderr


@needs_git
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_breaking_edit_is_a_major_bump_against_the_last_tag(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    # the last release had a public module the overlay has since dropped (already in the changelog)
    legacy = project / "overlay/openrouter_video/legacy.py"
    legacy.write_text('"""Gone since."""\n\n\ndef old_helper() -> None:\n    """Gone."""\n')
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "release")
    _git(project, "tag", "v0.1.0")
    legacy.unlink()
    _git(project, "commit", "-qam", "drop legacy")
    spec = tmp_path / "breaking.yaml"
    spec.write_text(edits.edited_spec(EDITS / "breaking.yaml"))
    result = _update_spec(project, spec, "CHANGELOG=0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Bump: major (next version 0.2.0, from 0.1.0;" in out
    for line in (
        "  breaking (major):",
        "    - POST /videos request body `prompt`: made required",
        "    - POST /videos request body `resolution`: enum value removed: 4K",
        "    - GET /videos/{jobId}/content parameter `index` (query):"
        " type narrowed: integer | null -> integer",
        "    - GET /videos/{jobId} response 200 `generation_id`: removed",
        "    - POST /videos request body `duration`: maximum added: 60",
        "    - POST /videos response 402: removed",
        "    - GET /videos/models response 200 `data[].generate_audio`:"
        " type narrowed: boolean | null -> boolean",
        "Python API (openrouter_video_api, openrouter_video) against v0.1.0 (the latest v* tag):",
        "    - `openrouter_video.legacy`: Public object was removed",
        "    - `openrouter_video_api.models.video_generation_response.VideoGenerationResponse"
        ".generation_id`: Public object was removed",
        "CHANGELOG entries (not added: --no-changelog):",
    ):
        assert line in out.splitlines(), (line, out)
    # docs/spec.md's example of this report stays true (but for its base, HEAD there)
    (example,) = re.findall(
        r"^```text\n(update-spec: .*?)^```", (ROOT / "docs" / "spec.md").read_text(), re.S | re.M
    )
    shown = [
        line
        for line in example.splitlines()
        if line.startswith(("    - ", "  b", "  c", "Bump:", "gen", "dri"))
    ]
    assert len(shown) == 16 and not [line for line in shown if line not in out.splitlines()], (shown, out)
    # the narrowed response type is listed as compatible, after the breaking ones
    assert out.index("generate_audio") > out.index("  compatible (minor):") > out.index("  breaking (major):")
    # the entries describe this update only: the overlay change since the tag is not the spec's doing
    entries = out.split("CHANGELOG entries")[1]
    assert (
        "- `openapi.yaml` updated with `make update-spec`: a **major** change (next version 0.2.0)."
        in entries
    )
    assert "**Breaking:** POST /videos request body `prompt`: made required." in entries
    assert "Python API, **breaking:** `openrouter_video_api.models.video_generation_response" in entries
    assert "legacy" not in entries
    assert (project / "CHANGELOG.md").read_bytes() == (ROOT / "CHANGELOG.md").read_bytes()
    assert (project / "README.md").read_bytes() == (ROOT / "README.md").read_bytes()


@needs_git
def test_a_spec_the_generator_refuses_restores_the_old_one(tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    dangling = {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}
    broken = edits.apply_edit(
        yaml.safe_load((ROOT / "openapi.yaml").read_text()),
        [
            {
                "op": "replace",
                "path": ["paths", "/videos", "post", "requestBody", "content"],
                "value": dangling,
            }
        ],
    )
    spec = tmp_path / "broken.yaml"
    spec.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [sys.executable, str(project / "scripts/update_spec.py"), str(spec), "--root", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "generation failed; openapi.yaml and generated/ restored" in result.stderr
    assert _git(project, "status", "--porcelain") == ""


def test_the_edits_apply_to_the_current_spec_and_fail_loudly_when_they_no_longer_fit() -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    for name in ("additive", "breaking"):
        assert yaml.safe_load(edits.edited_spec(EDITS / f"{name}.yaml")) != spec
    with pytest.raises(ValueError, match="already in the spec"):
        edits.apply_edit(spec, [{"op": "add", "path": ["paths", "/videos"], "value": {}}])
    with pytest.raises(ValueError, match="not in the spec"):
        edits.apply_edit(spec, [{"op": "remove", "path": ["paths", "/nowhere"]}])
    with pytest.raises(ValueError, match="does not have"):
        edits.apply_edit(spec, [{"op": "test", "path": ["info", "version"], "value": "9"}])
