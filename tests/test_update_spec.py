"""`make update-spec SPEC=path-or-URL` (scripts/update_spec.py): the cut of OpenRouter's whole document,
the spec diff's rules one by one, the Python API diff (enum members that keep their name and change
value included), the version and changelog arithmetic, the real target end to end on the spec edits
kept in tests/spec_edits/ (additive: minor; breaking: major; an enum value listed first), on OpenRouter's
whole document served over HTTP, and `make check-generated` right after it, uncommitted. Each runs in a
scratch copy of the repository with its own git history, so the checkout is never touched and no tag
of this repository is needed; the scheduled workflow (.github/workflows/update-spec.yml) is read too.

tests/spec_edits/openrouter-full-2026-08-22.yaml.xz is OpenRouter's whole document of 2026-08-22 (97
operations; ../shared/spec/openrouter-full-2026-08-22.yaml, compressed), and
tests/spec_edits/openapi-2026-08-22.yaml the project's openapi.yaml of that date (`git show
b446cf0:openapi.yaml`, byte for byte): the cut of the one must be the other, whatever openapi.yaml
becomes later."""

from __future__ import annotations

import copy
import functools
import http.server
import importlib.util
import lzma
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
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
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
FULL = EDITS / "openrouter-full-2026-08-22.yaml.xz"
SUBSET_2026_08_22 = EDITS / "openapi-2026-08-22.yaml"
SHARED_FULL = ROOT.parent / "shared" / "spec" / "openrouter-full-2026-08-22.yaml"


@functools.cache
def _full_bytes() -> bytes:
    return lzma.decompress(FULL.read_bytes())


def _full() -> dict[str, Any]:
    """OpenRouter's whole document of 2026-08-22, parsed (a fresh copy each time)."""
    return yaml.load(_full_bytes(), Loader=us.LOADER)


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


def _project(dest: Path, literal_enums: bool | None = None) -> Path:
    """What `make update-spec` touches, committed to a fresh git repository (no tag).

    ``literal_enums``: generator-config.yml's setting in the copy (generated/ remade to match), else the
    checkout's.
    """
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
    if literal_enums is not None:
        config = dest / "generator-config.yml"
        lines = [line for line in config.read_text().splitlines() if not line.startswith("literal_enums:")]
        config.write_text("\n".join([*lines, f"literal_enums: {str(literal_enums).lower()}", ""]))
        subprocess.run(
            ["bash", str(dest / "scripts/generate.sh"), str(dest / "generated")],
            check=True,
            env={**os.environ, "VENV_BIN": str(VENV / "bin")},
        )
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-qm", "before the update")
    return dest


def _make(project: Path, target: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`make TARGET` with this test run's venv (-o: never rebuilt from the copy's requirements; VENV_BIN:
    the scripts' tools)."""
    stamp = VENV / ".installed"
    return subprocess.run(
        ["make", "-C", str(project), "-s", "-o", str(stamp), target, f"VENV={VENV}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VENV_BIN": str(VENV / "bin")},
    )


def _update_spec(project: Path, spec: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return _make(project, "update-spec", f"SPEC={spec}", *args)


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
    assert re.search(r"^generated/ regenerated: \d+ files changed, 1 added, 0 removed$", out, re.M), out
    for line in (
        f"update-spec: openapi.yaml replaced by {spec}",
        'taken as is: its 5 operations are all "Video Generation" ones',
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
    status = sorted(_git(project, "status", "--porcelain").splitlines())
    assert {
        " M CHANGELOG.md",
        " M generated/openrouter_video_api/api/video_generation/create_videos.py",
        " M generated/openrouter_video_api/models/video_generation_request.py",
        " M generated/openrouter_video_api/models/video_generation_response_status.py",
        " M openapi.yaml",
        "?? generated/openrouter_video_api/api/video_generation/cancel_videos.py",
    } <= set(status)
    assert [line for line in status if not line[3:].startswith("generated/")] == [
        " M CHANGELOG.md",
        " M openapi.yaml",
    ]
    # the overlay knows the new status without an edit: polling a "queued" job warns of no unknown status
    code = "from openrouter_video.jobs import KNOWN_STATUSES as k; print('queued' in k, 'pending' in k)"
    env = {**os.environ, "PYTHONPATH": f"{project / 'overlay'}{os.pathsep}{project / 'generated'}"}
    known = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert known.stdout.split() == ["True", "True"], known.stderr
    # `make test`'s own drift check passes before the update is committed (README: update-spec, make
    # test, then commit); it failed with "generated/ differs from what is committed" before issue 25
    check = _make(project, "check-generated")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines()[-1] == (
        "check-generated: generated/ matches openapi.yaml (not committed yet, with openapi.yaml: commit them"
        " together)"
    )
    # the spec committed without generated/ (a forgotten `git add generated`): out of step, refused
    _git(project, "commit", "-qm", "the spec alone", "--", "openapi.yaml", "CHANGELOG.md")
    check = _make(project, "check-generated")
    assert check.returncode == 2, check.stdout + check.stderr
    assert "generated/ differs from what is committed, and openapi.yaml" in check.stderr
    _git(project, "add", "generated")
    _git(project, "commit", "-qm", "generated/ too")
    check = _make(project, "check-generated")
    assert check.stdout.splitlines()[-1] == "check-generated: generated/ matches openapi.yaml", check.stderr


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
    # docs/spec.md's example of this report stays true: its spec part and bump (its Python API part
    # depends on generator-config.yml and the overlay of the day, and its base is HEAD there)
    (example,) = re.findall(
        r"^```text\n(update-spec: .*?)^```", (ROOT / "docs" / "spec.md").read_text(), re.S | re.M
    )
    spec_part, python_part = example.split("\nPython API")
    shown = [
        line
        for line in [*spec_part.splitlines(), *re.findall(r"^Bump: .*$", python_part, re.M)]
        if line.startswith(("taken", "    - ", "  b", "  c", "Bump:", "dri"))
    ]
    assert len(shown) == 13 and not [line for line in shown if line not in out.splitlines()], (shown, out)
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
    assert "What to do: the generator runs with --fail-on-warning" in result.stderr
    assert "DROPPED_KEYS in scripts/update_spec.py" in result.stderr
    assert _git(project, "status", "--porcelain") == ""


@needs_git
def test_an_in_place_edit_the_generator_refuses_is_kept(tmp_path: Path) -> None:
    """SPEC=openapi.yaml after editing it: a refused edit stays in the file, generated/ is unchanged (before
    issue 25 the file was overwritten with HEAD's, and the edit lost)."""
    project = _project(tmp_path / "project")
    target = project / "openapi.yaml"
    edit = target.read_text().replace(
        "$ref: '#/components/schemas/VideoGenerationRequest'", "$ref: '#/components/schemas/Nope'", 1
    )
    assert edit != target.read_text()
    target.write_text(edit)
    result = subprocess.run(
        [sys.executable, str(project / "scripts/update_spec.py"), str(target), "--root", str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "generation failed; openapi.yaml and generated/ restored" in result.stderr
    assert target.read_text() == edit
    assert _git(project, "status", "--porcelain") == " M openapi.yaml\n"


def test_the_edits_apply_to_the_current_spec_and_fail_loudly_when_they_no_longer_fit() -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    for name in edits.EDITS:
        for base in (ROOT / "openapi.yaml", SUBSET_2026_08_22):
            assert yaml.safe_load(edits.edited_spec(EDITS / f"{name}.yaml", base)) != spec
    # a list item named by its value or a field: found wherever it is, and exactly once
    assert edits.apply_edit({"a": [1, 2, 3]}, [{"op": "remove", "path": ["a", {"=": 2}]}]) == {"a": [1, 3]}
    assert edits.apply_edit({"a": [1]}, [{"op": "add", "path": ["a", 0], "value": 0}]) == {"a": [0, 1]}
    named = {"p": [{"name": "x", "v": 1}, {"name": "y", "v": 2}]}
    edited = edits.apply_edit(named, [{"op": "replace", "path": ["p", {"name": "y"}, "v"], "value": 3}])
    assert edited == {"p": [{"name": "x", "v": 1}, {"name": "y", "v": 3}]}
    with pytest.raises(ValueError, match="matches 0 items"):
        edits.apply_edit(named, [{"op": "remove", "path": ["p", {"name": "z"}]}])
    with pytest.raises(ValueError, match="matches 2 items"):
        edits.apply_edit({"a": [1, 1]}, [{"op": "remove", "path": ["a", {"=": 1}]}])
    with pytest.raises(ValueError, match="already in the spec"):
        edits.apply_edit(spec, [{"op": "add", "path": ["paths", "/videos"], "value": {}}])
    with pytest.raises(ValueError, match="not in the spec"):
        edits.apply_edit(spec, [{"op": "remove", "path": ["paths", "/nowhere"]}])
    with pytest.raises(ValueError, match="does not have"):
        edits.apply_edit(spec, [{"op": "test", "path": ["info", "version"], "value": "9"}])


# --- OpenRouter's whole document: the cut ------------------------------------------------------------------


def test_the_cut_of_openrouters_whole_document_is_the_projects_openapi_yaml_of_that_date() -> None:
    """Issue 25: the 2026-08-22 openapi.yaml is the cut of the 2026-08-22 whole document, with no difference
    left but the ones update_spec.DROPPED_KEYS names."""
    full = _full_bytes()
    data, line = us.take(full, "full.yaml")
    assert yaml.safe_load(data) == yaml.safe_load(SUBSET_2026_08_22.read_bytes())
    assert line == (
        'cut to its 4 "Video Generation" operations of 97 and the 27 components of 774 they reference;'
        " left out as the project's choice (DROPPED_KEYS): x-speakeasy-globals (1),"
        " x-speakeasy-unknown-values (8)"
    )
    # deterministic, in the source's key order, every shared node written out (no YAML anchors)
    assert us.take(full, "elsewhere.json") == (data, line)
    text = data.decode()
    assert text.startswith(us.CUT_HEADER) and "&id" not in text and "*id" not in text
    source = _full()
    cut = yaml.safe_load(data)
    assert list(cut) == [key for key in source if key != "x-speakeasy-globals"]
    assert list(cut["components"]["schemas"]) == [
        name for name in source["components"]["schemas"] if name in cut["components"]["schemas"]
    ]


def test_the_project_drops_exactly_what_dropped_keys_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without DROPPED_KEYS the cut differs from openapi.yaml of 2026-08-22 in these places, and no other:
    the project's deliberate differences, named."""
    monkeypatch.setattr(us, "DROPPED_KEYS", {})
    cut = us.Cut(_full()).doc
    found: list[str] = []

    def compare(a: Any, b: Any, where: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a.keys() | b.keys():
                if key not in b:
                    found.append(f"{where}/{key}")
                elif key in a:
                    compare(a[key], b[key], f"{where}/{key}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for number, (one, other) in enumerate(zip(a, b, strict=True)):
                compare(one, other, f"{where}/{number}")
        else:
            assert a == b, where

    compare(cut, yaml.safe_load(SUBSET_2026_08_22.read_bytes()), "")
    unknown = [place for place in found if place.endswith("/x-speakeasy-unknown-values")]
    headers = ["/paths/" + path + "/parameters" for path in cut["paths"]]
    assert sorted(found) == sorted(["/x-speakeasy-globals", "/components/parameters", *headers, *unknown]), (
        found
    )
    assert len(unknown) == 8
    assert set(cut["components"]["parameters"]) == {"AppIdentifier", "AppDisplayName", "AppCategories"}


def test_the_vendored_document_is_the_shared_one() -> None:
    if not SHARED_FULL.is_file():
        pytest.skip(f"{SHARED_FULL} is not on this machine")
    assert _full_bytes() == SHARED_FULL.read_bytes()


@pytest.mark.parametrize("name", ["openapi.yaml", "tests/spec_edits/openapi-2026-08-22.yaml"])
def test_a_subset_is_taken_as_is(name: str) -> None:
    data = (ROOT / name).read_bytes()
    assert us.take(data, name) == (data, 'taken as is: its 4 operations are all "Video Generation" ones')


def _document() -> dict[str, Any]:
    """A small whole document: a video path that also has another operation, an unrelated path, and
    components reached every way (schemas, parameters, responses, bodies, headers, discriminator)."""

    def ref(kind: str, name: str) -> dict[str, str]:
        return {"$ref": f"#/components/{kind}/{name}"}

    video = {"tags": ["Video Generation"], "x-speakeasy-name-override": "v"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "x-speakeasy-globals": {"parameters": [ref("parameters", "Referer")]},
        "security": [{"key": []}],
        "tags": [{"name": "Chat"}, {"name": "Video Generation"}],
        "paths": {
            "/chat": {"post": {"tags": ["Chat"], "requestBody": ref("requestBodies", "ChatBody")}},
            "/videos": {
                "parameters": [ref("parameters", "Referer")],
                "delete": {"tags": ["Chat"], "responses": {"200": ref("responses", "Chat")}},
                "post": {
                    **video,
                    "parameters": [ref("parameters", "Referer"), ref("parameters", "Trace")],
                    "requestBody": ref("requestBodies", "VideoBody"),
                    "responses": {"202": ref("responses", "Job")},
                    "security": [{"oauth": []}],
                },
            },
        },
        "webhooks": {"done": {"post": video}},
        "components": {
            "parameters": {
                "Referer": {"name": "HTTP-Referer", "in": "header", "schema": {"type": "string"}},
                "Trace": {"name": "trace", "in": "query", "schema": ref("schemas", "Id")},
            },
            "requestBodies": {
                "ChatBody": {"content": {"application/json": {"schema": ref("schemas", "Chat")}}},
                "VideoBody": {"content": {"application/json": {"schema": ref("schemas", "Video")}}},
            },
            "responses": {
                "Chat": {"description": "c"},
                "Job": {
                    "description": "j",
                    "headers": {"X-Id": ref("headers", "Id")},
                    "content": {"application/json": {"schema": ref("schemas", "Job")}},
                },
            },
            "headers": {"Id": {"schema": ref("schemas", "Id")}, "Other": {"schema": {"type": "string"}}},
            "schemas": {
                "Chat": {"type": "object"},
                "Video": {
                    "type": "object",
                    "properties": {
                        "size": {"type": "string", "enum": ["a"], "x-speakeasy-unknown-values": "allow"},
                        "part": {
                            "oneOf": [ref("schemas", "Image"), {"$ref": "#/components/schemas/Sound"}],
                            "discriminator": {
                                "propertyName": "t",
                                "mapping": {"i": "Image", "f": "#/components/schemas/Film"},
                            },
                        },
                    },
                },
                "Image": {"type": "object"},
                "Sound": {"type": "object", "properties": {"next": ref("schemas", "Video")}},
                "Film": {"type": "object"},
                "Job": {"type": "object", "properties": {"id": ref("schemas", "Id")}},
                "Id": {"type": "string"},
                "Unused": {"type": "string"},
            },
            "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}, "oauth": {"type": "oauth2"}},
        },
    }


def test_the_cut_keeps_the_video_operations_and_what_they_reference_transitively() -> None:
    cut = us.Cut(_document()).doc
    assert list(cut) == ["openapi", "info", "security", "tags", "paths", "components"]
    assert cut["tags"] == [{"name": "Video Generation"}]
    assert list(cut["paths"]) == ["/videos"]
    assert list(cut["paths"]["/videos"]) == ["post"]  # the other operation and the global header go
    post = cut["paths"]["/videos"]["post"]
    assert post["parameters"] == [{"$ref": "#/components/parameters/Trace"}]
    assert "x-speakeasy-unknown-values" not in cut["components"]["schemas"]["Video"]["properties"]["size"]
    assert {kind: list(entries) for kind, entries in cut["components"].items()} == {
        "parameters": ["Trace"],
        "requestBodies": ["VideoBody"],
        "responses": ["Job"],
        "headers": ["Id"],
        "schemas": ["Video", "Image", "Sound", "Film", "Job", "Id"],
        "securitySchemes": ["key", "oauth"],
    }
    assert us.Cut(_document()).components == (12, 18)


def test_the_cut_of_a_cut_is_itself_and_a_document_without_video_operations_is_refused() -> None:
    data, _ = us.take(yaml.safe_dump(_document()).encode(), "doc.yaml")
    assert us.take(data, "cut.yaml") == (
        data,
        'taken as is: its 1 operations are all "Video Generation" ones',
    )
    chat_only = _document()
    del chat_only["paths"]["/videos"]
    with pytest.raises(SystemExit, match=r'doc.yaml has no operation tagged "Video Generation" \(of 1\)'):
        us.take(yaml.safe_dump(chat_only).encode(), "doc.yaml")
    # a reference to nothing is kept as it is: the generator names it
    dangling = _document()
    del dangling["components"]["schemas"]["Id"]
    cut = us.Cut(dangling).doc
    assert cut["components"]["headers"]["Id"] == {"schema": {"$ref": "#/components/schemas/Id"}}
    with pytest.raises(SystemExit, match="is not an OpenAPI document"):
        us.take(b"[1, 2]", "list.yaml")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """http://127.0.0.1:port/ serving a directory that holds OpenRouter's whole document of 2026-08-22."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "openrouter-full-2026-08-22.yaml").write_bytes(_full_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@needs_git
@needs_make
def test_openrouters_whole_document_from_a_url(tmp_path: Path, served: str) -> None:
    """Issue 25: the whole document (97 operations) is cut and generated; before, the generator got all of
    it and stopped on 18 warnings. Then `make check-generated` passes, uncommitted."""
    project = _project(tmp_path / "project")
    url = served + "openrouter-full-2026-08-22.yaml"
    script = [sys.executable, str(project / "scripts/update_spec.py"), "--root", str(project)]
    result = subprocess.run(
        [*script, "--from-url", url, "--no-changelog"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"update-spec: openapi.yaml replaced by {url}"
    assert lines[1].startswith('cut to its 4 "Video Generation" operations of 97 ')
    taken = (project / "openapi.yaml").read_bytes()
    assert taken == us.take(_full_bytes(), url)[0]
    assert yaml.safe_load(taken) == yaml.safe_load(SUBSET_2026_08_22.read_bytes())
    check = _make(project, "check-generated")
    assert check.returncode == 0, check.stdout + check.stderr
    # `make update-spec SPEC=URL` hands the URL to the script as it is
    dry = _make(project, "update-spec", f"SPEC={url}", "CHANGELOG=0", "-n")
    assert f'scripts/update_spec.py "{url}"  --no-changelog' in dry.stdout, dry.stdout + dry.stderr


@needs_git
def test_a_url_that_fails_or_is_not_http_is_refused(tmp_path: Path, served: str) -> None:
    script = [sys.executable, str(ROOT / "scripts/update_spec.py"), "--root", str(tmp_path)]
    missing = subprocess.run([*script, "--from-url", served + "nope.json"], capture_output=True, text=True)
    assert missing.returncode == 2
    assert f"update-spec: could not download {served}nope.json: HTTP Error 404" in missing.stderr
    for args in (["--from-url", "file:///etc/hosts"], [], ["a.yaml", "--from-url", served]):
        refused = subprocess.run([*script, *args], capture_output=True, text=True)
        assert refused.returncode == 2 and "update_spec.py: error:" in refused.stderr, args
    ftp = subprocess.run([*script, "ftp://127.0.0.1/x.yaml"], capture_output=True, text=True)
    assert ftp.returncode == 2 and "only http:// and https:// URLs are downloaded" in ftp.stderr


# --- names that cannot shift --------------------------------------------------------------------------------

ENUM_OLD = 'from enum import StrEnum\n\n\nclass Size(StrEnum):\n    VALUE_0 = "480p"\n    VALUE_1 = "720p"\n'
ENUM_NEW = ENUM_OLD.replace(
    '"480p"\n    VALUE_1 = "720p"', '"360p"\n    VALUE_1 = "480p"\n    VALUE_2 = "720p"'
)


def test_an_enum_member_that_keeps_its_name_and_changes_value_is_breaking(tmp_path: Path) -> None:
    """Issue 25: griffe does not compare values, so a value listed first (VALUE_0 now another value) was a
    minor change."""
    old = _package(tmp_path / "old", "", ENUM_OLD)
    new = _package(tmp_path / "new", "", ENUM_NEW)
    lines = [f"{change.level} {change}" for change in us.diff_apis(us.load_api(old), us.load_api(new))]
    shifted = "(code using this name now sends or reads another value)"
    assert lines == [
        f"major `openrouter_video_api.Size.VALUE_0`: value changed: '480p' -> '360p' {shifted}",
        f"major `openrouter_video_api.Size.VALUE_1`: value changed: '720p' -> '480p' {shifted}",
        "minor `openrouter_video_api.Size.VALUE_2`: added",
    ]
    # a value added last shifts nothing; a Literal alias (literal_enums) has no member names to shift
    last = _package(tmp_path / "last", "", ENUM_OLD + '    VALUE_2 = "1080p"\n')
    assert [c.level for c in us.diff_apis(us.load_api(old), us.load_api(last))] == ["minor"]
    literal = "from typing import Literal\n\nSize = Literal[{}]\n"
    old = _package(tmp_path / "lit-old", "", literal.format('"480p", "720p"'))
    new = _package(tmp_path / "lit-new", "", literal.format('"360p", "480p", "720p"'))
    assert [c for c in us.diff_apis(us.load_api(old), us.load_api(new)) if c.level == "major"] == []


@needs_git
@needs_make
@pytest.mark.parametrize("literal_enums", [False, True])
def test_an_enum_value_listed_first(tmp_path: Path, literal_enums: bool) -> None:
    """The generated names of a class enum shift (major, each named); Literal aliases take the value as an
    addition (minor)."""
    project = _project(tmp_path / "project", literal_enums=literal_enums)
    spec = tmp_path / "enum_first.yaml"
    spec.write_text(edits.edited_spec(EDITS / "enum_first.yaml", project / "openapi.yaml"))
    result = _update_spec(project, spec, "CHANGELOG=0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert "    - POST /videos request body `resolution`: enum value added: 240p" in out
    enum = "`openrouter_video_api.models.video_generation_request_resolution.VideoGenerationRequestResolution"
    shifts = [line for line in out if line.startswith(f"    - {enum}.VALUE_") and "value changed" in line]
    if literal_enums:
        assert shifts == [] and "breaking (major)" not in result.stdout
        assert "Bump: minor (next version 0.1.1" in result.stdout
    else:
        values = yaml.safe_load(spec.read_text())["components"]["schemas"]["VideoGenerationRequest"]
        values = values["properties"]["resolution"]["enum"]
        assert values[0] == "240p"
        expected = [
            f"    - {enum}.VALUE_{i}`: value changed: '{values[i + 1]}' -> '{values[i]}'"
            " (code using this name now sends or reads another value)"
            for i in range(len(values) - 1)
        ]
        assert shifts == expected, out
        assert "Bump: major (next version 0.2.0" in result.stdout
        entries = result.stdout.split("CHANGELOG entries")[1]
        assert f"Python API, **breaking:** {enum}.VALUE_0`: value changed: '{values[1]}' -> '240p'" in entries


# --- the scheduled update -----------------------------------------------------------------------------------


def test_the_scheduled_workflow_takes_the_published_document_tests_and_opens_a_pull_request() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/update-spec.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"} and triggers["schedule"][0]["cron"]
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert any(use.startswith("actions/checkout@") for use in uses)
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    assert any(use.startswith("actions/setup-node@") for use in uses)
    update = runs.index("make update-spec SPEC=https://openrouter.ai/openapi.json")
    assert runs.index("make test", update) > update
    pull = next(step for step in steps if step.get("uses", "").startswith("peter-evans/create-pull-request@"))
    assert set(pull["with"]["add-paths"].split()) == {"openapi.yaml", "generated", "CHANGELOG.md"}
    # the pull request's body is the report update-spec printed
    assert pull["with"]["body-path"] == "${{ env.REPORT }}" and "report" in job["env"]["REPORT"]
    assert '| tee "$RUNNER_TEMP/update-spec.txt"' in runs
    assert 'cat "$RUNNER_TEMP/update-spec.txt"' in runs and '} > "$REPORT"' in runs


@needs_git
@needs_make
def test_a_spec_edit_the_tests_have_not_seen_needs_no_hand_edit(tmp_path: Path) -> None:
    """A new optional request field (with an enum), a new optional response field, an enum value listed
    first and a new error status: after `make update-spec`, check-generated and lint pass and the
    project's own tests of options, jobs and layout pass on the result, with no edit but the spec's; the
    new field is typed, checked and sent, the new job field is read."""
    project = _project(tmp_path / "project")
    for name in ("tests", "bench"):  # (make lint reads both)
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / ".castiron-ratchet.json", project)
    spec = tmp_path / "unseen.yaml"
    spec.write_text(edits.edited_spec(EDITS / "unseen.yaml", project / "openapi.yaml"))
    result = _update_spec(project, spec, "CHANGELOG=0")
    assert result.returncode == 0, result.stdout + result.stderr
    for target in ("check-generated", "lint"):
        made = _make(project, target)
        assert made.returncode == 0, (target, made.stdout + made.stderr)
    env = {**os.environ, "PYTHONPATH": f"{project / 'overlay'}:{project / 'generated'}"}
    probe = (
        "from openrouter_video import GenerateOptions, VideoJob, InvalidRequestError\n"
        "from openrouter_video._options import request_body, ASPECT_RATIOS\n"
        "assert 'camera_motion' in GenerateOptions.__annotations__ and ASPECT_RATIOS[0] == '5:4'\n"
        "assert request_body('m', 'p', {'camera_motion': 'pan'})[0]['camera_motion'] == 'pan'\n"
        "try:\n    request_body('m', 'p', {'camera_motion': 'spin'})\n"
        "except InvalidRequestError as e:\n    assert 'static, pan, dolly' in str(e)\n"
        "else:\n    raise AssertionError('spin was accepted')\n"
        "job = VideoJob.from_json({'id': 'j', 'status': 'completed', 'thumbnail_url': 'https://t'})\n"
        "assert job.thumbnail_url == 'https://t'\n"
    )
    checked = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    tests = [
        "tests/test_options.py",
        "tests/test_layout.py",
        "tests/test_engine_core.py",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", *tests],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout[-3000:]
