"""``make update-spec SPEC=path-or-URL``: take a new openapi.yaml and say what it changes for clients.

Reads the document at SPEC (a path, or an http(s) URL: ``SPEC`` or ``--from-url URL``; JSON or YAML).
OpenRouter's whole document is cut to its "Video Generation" operations and everything they reference,
less the project's deliberate differences (``DROPPED_KEYS``; see ``Cut``); a document whose operations
are all video ones is taken as it is. That replaces ``openapi.yaml``; then this regenerates
``generated/`` (``scripts/generate.sh``), runs the drift check (``scripts/check-generated.sh
--allow-uncommitted``), and prints a report:

- the spec changes, old ``openapi.yaml`` against the new one: operations, parameters, request and
  response fields (``$ref``, ``allOf``, ``oneOf``/``anyOf`` and ``items`` followed), statuses, and the
  schema changes a client notices (types, required fields, enums, bounds, defaults, formats, patterns);
- the public Python API of ``openrouter_video_api`` (generated/) and ``openrouter_video`` (overlay/),
  loaded with griffe, against BASE: ``--base REF``, by default the latest ``v*`` tag, or HEAD (the state
  before this update) when there is no such tag; ``griffe.find_breaking_changes`` gives the breaks,
  the objects and optional parameters that only the new tree has are the additions;
- the semver bump these call for, the next version, and CHANGELOG entries, which are also put under
  the ``**Unreleased**`` heading of ``CHANGELOG.md`` unless ``--no-changelog`` is given.

Each change is classed by what it does to a client of this package (docs/spec.md, "Taking a new spec"):

- requests (parameters and bodies, what a caller sends): a change that may refuse what a caller could
  send before is breaking (major): something removed, made required or added as required, a type
  narrowed, an enum value removed, a bound tightened, a pattern added, a default changed; one that
  accepts more is an addition (minor);
- responses (what a caller receives): a change to the Python type of something a caller reads is
  breaking: a field or status removed, a field made optional, a type widened (``null`` allowed); a new
  value within the same type (an enum value, a ``oneOf`` variant, a status, a wider bound) is an
  addition, marked "exhaustive matches see a new case"; a narrowing (field made required, type
  narrowed) is an addition too;
- the Python API: every griffe breakage is major, every new public object or optional parameter minor;
  so is an Enum member that keeps its name and changes value (griffe compares no values; the generator
  names class enum members by position, so a value listed first shifts them);
- descriptions, examples, ``x-*`` keys, ``info.version``: patch; keys this tool does not class are
  listed as patch with "review by hand".

The bump is the highest class found (spec changes and Python API against BASE). The next version
follows semver from ``pyproject.toml``'s version; before 1.0.0 a breaking change bumps the second number
(0.1.0 -> 0.2.0) and anything else the third (0.1.0 -> 0.1.1), so ``~=0.1.0`` only ever takes
compatible releases.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: (import package, the directory of the repository it lives in)
PACKAGES = (("openrouter_video_api", "generated"), ("openrouter_video", "overlay"))

MAJOR, MINOR, PATCH = "major", "minor", "patch"
RANK = {PATCH: 0, MINOR: 1, MAJOR: 2}
HEADINGS = {MAJOR: "breaking (major)", MINOR: "compatible (minor)", PATCH: "other (patch)"}
REQUEST, RESPONSE = "request", "response"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEXT_KEYS = frozenset({"description", "summary", "example", "examples", "title", "externalDocs"})
EXHAUSTIVE = "exhaustive matches see a new case"
REVIEW = "not classified: review by hand"
#: formats openapi-python-client turns into another Python type than the plain one
PYTHON_FORMATS = frozenset({"date", "date-time", "binary", "uuid"})
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
SCHEMA_KEYS_HANDLED = frozenset(
    {
        "$ref",
        "type",
        "nullable",
        "enum",
        "default",
        "format",
        "pattern",
        "properties",
        "required",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        *LOWER_BOUNDS,
        *UPPER_BOUNDS,
    }
)


@dataclasses.dataclass(frozen=True)
class Change:
    """One line of the report: ``subject: detail (note)``, classed major, minor or patch."""

    level: str
    subject: str
    detail: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}" + (f" ({self.note})" if self.note else "")

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-RANK[self.level], self.subject, self.detail, self.note)


def bump_of(changes: Sequence[Change]) -> str | None:
    """The semver class of a set of changes: the highest level among them, None for none."""
    return max((c.level for c in changes), key=RANK.__getitem__, default=None)


def next_version(version: str, bump: str | None) -> str:
    """``version`` bumped by ``bump`` (semver; before 1.0.0 a breaking change bumps the second number)."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"not a MAJOR.MINOR.PATCH version: {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    if bump is None:
        return version
    if major == 0:
        return f"0.{minor + 1}.0" if bump == MAJOR else f"0.{minor}.{patch + 1}"
    if bump == MAJOR:
        return f"{major + 1}.0.0"
    if bump == MINOR:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# --- the spec -----------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema allows (``nullable: true`` adds null), None when it says nothing."""
    declared = schema.get("type")
    if declared is None:
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("nullable") is True:
        types.add("null")
    return frozenset(types)


def _covers(types: frozenset[str], one: str) -> bool:
    return one in types or (one == "integer" and "number" in types)


class SpecDiff:
    """The changes from one OpenAPI document to another, classed for a client (see the module doc)."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: set[Change] = set()

    def run(self) -> list[Change]:
        self._operations()
        self._top_level()
        places = _text_changes(self.old, self.new)
        if places:
            self._add(
                PATCH, "text", f"descriptions, summaries, examples or x-* keys changed in {places} places"
            )
        return sorted(self.changes, key=Change.sort_key)

    def _add(self, level: str, subject: str, detail: str, note: str = "") -> None:
        self.changes.add(Change(level, subject, detail, note))

    def _added(self, subject: str, required: bool) -> None:
        """Something a request may carry that it could not before: breaking when it must be sent."""
        self._add(MAJOR if required else MINOR, subject, f"added ({'required' if required else 'optional'})")

    def _required(self, subject: str, required: bool, direction: str) -> None:
        """A field, parameter or body made required (narrows) or optional (widens)."""
        detail = "made required" if required else "made optional"
        self._add(self._by_direction(direction, required), subject, detail)

    def _by_direction(self, direction: str, narrows: bool) -> str:
        """Narrowing what a request may carry breaks callers; narrowing what a response may carry does not."""
        if direction == REQUEST:
            return MAJOR if narrows else MINOR
        return MINOR if narrows else MAJOR

    # $ref and allOf

    @staticmethod
    def _resolve(doc: Mapping[str, Any], node: Any) -> tuple[Any, tuple[str, ...]]:
        """``node`` with its local ``$ref`` chain followed, and the refs followed."""
        refs: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in refs:
                break
            refs.append(ref)
            target: Any = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise ValueError(f"unresolvable $ref {ref!r}")
                target = target[part]
            node = target
        return node, tuple(refs)

    def _flatten(
        self, doc: Mapping[str, Any], node: Any, depth: int = 0
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The schema ``node`` resolved, with its ``allOf`` parts merged into it."""
        resolved, refs = self._resolve(doc, node)
        if not isinstance(resolved, Mapping):
            return {}, refs
        merged = {key: value for key, value in resolved.items() if key != "allOf"}
        if "allOf" not in resolved or depth > 20:
            return merged, refs
        properties = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        for part in resolved["allOf"]:
            sub, _ = self._flatten(doc, part, depth + 1)
            for name, value in (sub.get("properties") or {}).items():
                properties.setdefault(name, value)
            required += [name for name in sub.get("required") or [] if name not in required]
            for key, value in sub.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged, refs

    # operations

    def _operations_of(
        self, doc: Mapping[str, Any]
    ) -> dict[tuple[str, str], tuple[dict[str, Any], list[Any]]]:
        found = {}
        for path, item in (doc.get("paths") or {}).items():
            item, _ = self._resolve(doc, item)
            for method in METHODS:
                if isinstance(item.get(method), Mapping):
                    found[(path, method)] = (item[method], list(item.get("parameters") or []))
        return found

    def _operations(self) -> None:
        old, new = self._operations_of(self.old), self._operations_of(self.new)
        for key in sorted(old.keys() | new.keys()):
            path, method = key
            name = f"{method.upper()} {path}"
            if key not in new:
                self._add(MAJOR, name, "operation removed")
            elif key not in old:
                self._add(MINOR, name, "operation added")
            else:
                self._operation(name, old[key], new[key])

    def _operation(
        self, name: str, old: tuple[dict[str, Any], list[Any]], new: tuple[dict[str, Any], list[Any]]
    ) -> None:
        (old_op, old_shared), (new_op, new_shared) = old, new
        if old_op.get("operationId") != new_op.get("operationId"):
            self._add(
                MAJOR,
                name,
                f"operationId changed: {old_op.get('operationId')} -> {new_op.get('operationId')}",
                "the generated function's module is renamed",
            )
        if bool(old_op.get("deprecated")) != bool(new_op.get("deprecated")):
            self._add(MINOR, name, "deprecated" if new_op.get("deprecated") else "no longer deprecated")
        self._parameters(
            name,
            self._parameters_of(self.old, old_op, old_shared),
            self._parameters_of(self.new, new_op, new_shared),
        )
        self._request_body(name, old_op.get("requestBody"), new_op.get("requestBody"))
        self._responses(name, old_op.get("responses") or {}, new_op.get("responses") or {})
        handled = {"operationId", "deprecated", "parameters", "requestBody", "responses"}
        for key in sorted((old_op.keys() | new_op.keys()) - handled - TEXT_KEYS):
            if not key.startswith("x-") and old_op.get(key) != new_op.get(key):
                note = "the generated module may move" if key == "tags" else ""
                self._add(PATCH, name, f"`{key}` changed", ", ".join(filter(None, (REVIEW, note))))

    def _parameters_of(
        self, doc: Mapping[str, Any], op: Mapping[str, Any], shared: list[Any]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*shared, *(op.get("parameters") or [])]:  # the operation's own override the path's
            parameter, _ = self._resolve(doc, raw)
            if isinstance(parameter, Mapping):
                found[(str(parameter.get("in")), str(parameter.get("name")))] = dict(parameter)
        return found

    def _parameters(
        self,
        name: str,
        old: dict[tuple[str, str], dict[str, Any]],
        new: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        for key in sorted(old.keys() | new.keys()):
            where, param = key
            subject = f"{name} parameter `{param}` ({where})"
            if key not in new:
                self._add(MAJOR, subject, "removed")
                continue
            required = bool(new[key].get("required"))
            if key not in old:
                self._added(subject, required)
                continue
            if required != bool(old[key].get("required")):
                self._required(subject, required, REQUEST)
            self._schema(old[key].get("schema"), new[key].get("schema"), subject, "", REQUEST, ())
            handled = {"in", "name", "required", "schema", "deprecated"}
            for other in sorted((old[key].keys() | new[key].keys()) - handled - TEXT_KEYS):
                if not other.startswith("x-") and old[key].get(other) != new[key].get(other):
                    self._add(PATCH, subject, f"`{other}` changed", REVIEW)

    def _content(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any], direction: str) -> None:
        old_content, new_content = old.get("content") or {}, new.get("content") or {}
        for media in sorted(old_content.keys() | new_content.keys()):
            subject = name if media == "application/json" else f"{name} ({media})"
            if media not in new_content:
                self._add(MAJOR, name, f"media type {media} removed")
            elif media not in old_content:
                self._add(MINOR, name, f"media type {media} added")
            else:
                self._schema(
                    (old_content[media] or {}).get("schema"),
                    (new_content[media] or {}).get("schema"),
                    subject,
                    "",
                    direction,
                    (),
                )

    def _request_body(self, name: str, old_raw: Any, new_raw: Any) -> None:
        subject = f"{name} request body"
        old, _ = self._resolve(self.old, old_raw)
        new, _ = self._resolve(self.new, new_raw)
        if not old and not new:
            return
        required = bool((new or {}).get("required"))
        if not new:
            self._add(MAJOR, subject, "removed")
        elif not old:
            self._added(subject, required)
        else:
            if required != bool(old.get("required")):
                self._required(subject, required, REQUEST)
            self._content(subject, old, new, REQUEST)

    def _responses(self, name: str, old: Mapping[Any, Any], new: Mapping[Any, Any]) -> None:
        old = {str(status): value for status, value in old.items()}
        new = {str(status): value for status, value in new.items()}
        for status in sorted(old.keys() | new.keys()):
            subject = f"{name} response {status}"
            if status not in new:
                self._add(MAJOR, subject, "removed")
            elif status not in old:
                self._add(MINOR, subject, "added", EXHAUSTIVE)
            else:
                old_response = self._resolve(self.old, old[status])[0] or {}
                new_response = self._resolve(self.new, new[status])[0] or {}
                self._content(subject, old_response, new_response, RESPONSE)
                handled = {"content"}
                for other in sorted((old_response.keys() | new_response.keys()) - handled - TEXT_KEYS):
                    if not other.startswith("x-") and old_response.get(other) != new_response.get(other):
                        self._add(PATCH, subject, f"`{other}` changed", REVIEW)

    # schemas

    def _schema(
        self,
        old_node: Any,
        new_node: Any,
        base: str,
        path: str,
        direction: str,
        stack: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
    ) -> None:
        old, old_refs = self._flatten(self.old, old_node)
        new, new_refs = self._flatten(self.new, new_node)
        if old_refs and new_refs:
            if (old_refs, new_refs) in stack:  # a recursive schema: compared once
                return
            stack = (*stack, (old_refs, new_refs))
        subject = f"{base} `{path}`" if path else base
        self._type(old, new, subject, direction)
        self._enum(old, new, subject, direction)
        self._bounds(old, new, subject, direction)
        self._scalars(old, new, subject, direction)
        self._properties(old, new, base, path, direction, stack)
        if "items" in old or "items" in new:
            self._schema(old.get("items"), new.get("items"), base, f"{path}[]", direction, stack)
        self._variants(old, new, base, path, direction, stack)
        for key in sorted((old.keys() | new.keys()) - SCHEMA_KEYS_HANDLED - TEXT_KEYS):
            if not key.startswith("x-") and old.get(key) != new.get(key):
                self._add(PATCH, subject, f"`{key}` changed", REVIEW)

    def _type(self, old: Mapping[str, Any], new: Mapping[str, Any], subject: str, direction: str) -> None:
        old_types, new_types = _types(old), _types(new)
        if old_types == new_types:
            return
        shown = " | ".join(sorted(old_types or {"any"})) + " -> " + " | ".join(sorted(new_types or {"any"}))
        if old_types is None or new_types is None:  # unconstrained before, or after
            removed, added = new_types is not None, old_types is not None
        else:
            removed = any(not _covers(new_types, one) for one in old_types)
            added = any(not _covers(old_types, one) for one in new_types)
        if removed and added:
            self._add(MAJOR, subject, f"type changed: {shown}")
        elif removed or added:
            detail = f"type {'narrowed' if removed else 'widened'}: {shown}"
            self._add(self._by_direction(direction, removed), subject, detail)

    def _enum(self, old: Mapping[str, Any], new: Mapping[str, Any], subject: str, direction: str) -> None:
        old_values, new_values = old.get("enum"), new.get("enum")
        if old_values == new_values:
            return
        if old_values is None:
            shown = ", ".join(sorted(map(_show, new_values or [])))
            self._add(self._by_direction(direction, True), subject, f"enum added: only {shown}")
            return
        if new_values is None:
            # a response field that was an Enum becomes a plain value: its Python type changes
            self._add(MINOR if direction == REQUEST else MAJOR, subject, "enum dropped: any value")
            return
        for value in sorted(map(_show, (v for v in old_values if v not in new_values))):
            self._add(self._by_direction(direction, True), subject, f"enum value removed: {value}")
        for value in sorted(map(_show, (v for v in new_values if v not in old_values))):
            note = EXHAUSTIVE if direction == RESPONSE else ""
            self._add(MINOR, subject, f"enum value added: {value}", note)

    def _bounds(self, old: Mapping[str, Any], new: Mapping[str, Any], subject: str, direction: str) -> None:
        for keys, lower in ((LOWER_BOUNDS, True), (UPPER_BOUNDS, False)):
            for key in keys:
                before, after = old.get(key), new.get(key)
                if before == after:
                    continue
                if isinstance(before, bool) or isinstance(after, bool):  # 3.0's exclusiveMinimum: true
                    tightens = bool(after)
                    detail = f"{key}: {_show(bool(before))} -> {_show(bool(after))}"
                elif before is None:
                    tightens, detail = True, f"{key} added: {_show(after)}"
                elif after is None:
                    tightens, detail = False, f"{key} removed (was {_show(before)})"
                else:
                    tightens = after > before if lower else after < before
                    verb = "raised" if after > before else "lowered"
                    detail = f"{key} {verb}: {_show(before)} -> {_show(after)}"
                if direction == REQUEST:
                    self._add(MAJOR if tightens else MINOR, subject, detail)
                else:
                    self._add(MINOR, subject, detail, "" if tightens else EXHAUSTIVE)

    def _scalars(self, old: Mapping[str, Any], new: Mapping[str, Any], subject: str, direction: str) -> None:
        if old.get("default") != new.get("default"):
            detail = f"default changed: {_show(old.get('default'))} -> {_show(new.get('default'))}"
            if direction == RESPONSE:
                self._add(PATCH, subject, detail)
            elif "default" in old and "default" in new:
                self._add(MAJOR, subject, detail, "leaving it out now means something else")
            else:
                self._add(MINOR, subject, detail)
        if old.get("format") != new.get("format"):
            detail = f"format changed: {old.get('format')} -> {new.get('format')}"
            if {old.get("format"), new.get("format")} & PYTHON_FORMATS:
                self._add(MAJOR, subject, detail, "the generated Python type changes")
            else:
                self._add(PATCH, subject, detail)
        if old.get("pattern") != new.get("pattern"):
            detail = f"pattern changed: {old.get('pattern')} -> {new.get('pattern')}"
            if direction == RESPONSE:
                self._add(PATCH, subject, detail)
            else:
                self._add(MINOR if new.get("pattern") is None else MAJOR, subject, detail)

    def _properties(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        base: str,
        path: str,
        direction: str,
        stack: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
    ) -> None:
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(old_props.keys() | new_props.keys()):
            field = f"{path}.{name}" if path else name
            subject = f"{base} `{field}`"
            required = name in new_required
            if name not in new_props:
                self._add(MAJOR, subject, "removed")
            elif name not in old_props:
                if direction == RESPONSE:
                    self._add(MINOR, subject, "added")
                else:
                    self._added(subject, required)
            else:
                if required != (name in old_required):
                    self._required(subject, required, direction)
                self._schema(old_props[name], new_props[name], base, field, direction, stack)

    def _variants(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        base: str,
        path: str,
        direction: str,
        stack: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
    ) -> None:
        subject = f"{base} `{path}`" if path else base
        for key in ("oneOf", "anyOf"):
            if key not in old and key not in new:
                continue
            if key not in old or key not in new:
                self._add(
                    MAJOR,
                    subject,
                    f"{key} {'added' if key in new else 'removed'}",
                    "the generated Python type changes",
                )
                continue
            old_variants, new_variants = self._named(old[key]), self._named(new[key])
            for name in sorted(old_variants.keys() | new_variants.keys()):
                if name not in new_variants:
                    self._add(self._by_direction(direction, True), subject, f"{key} variant removed: {name}")
                elif name not in old_variants:
                    self._add(
                        MINOR,
                        subject,
                        f"{key} variant added: {name}",
                        EXHAUSTIVE if direction == RESPONSE else "",
                    )
                else:
                    self._schema(
                        old_variants[name], new_variants[name], base, f"{path}<{name}>", direction, stack
                    )

    @staticmethod
    def _named(variants: Sequence[Any]) -> dict[str, Any]:
        named = {}
        for index, variant in enumerate(variants):
            ref = variant.get("$ref") if isinstance(variant, Mapping) else None
            named[ref.rsplit("/", 1)[-1] if isinstance(ref, str) else f"#{index}"] = variant
        return named

    # the rest of the document

    def _top_level(self) -> None:
        old_version = (self.old.get("info") or {}).get("version")
        new_version = (self.new.get("info") or {}).get("version")
        if old_version != new_version:
            self._add(PATCH, "info.version", f"{old_version} -> {new_version}")
        for key in sorted((self.old.keys() | self.new.keys()) - {"paths", "components", "info"} - TEXT_KEYS):
            if not key.startswith("x-") and self.old.get(key) != self.new.get(key):
                self._add(PATCH, f"`{key}`", "changed", REVIEW)
        old_parts, new_parts = self.old.get("components") or {}, self.new.get("components") or {}
        for key in sorted((old_parts.keys() | new_parts.keys()) - {"schemas"}):
            if not key.startswith("x-") and old_parts.get(key) != new_parts.get(key):
                self._add(PATCH, f"`components.{key}`", "changed", REVIEW)
        for path in sorted((self.old.get("paths") or {}).keys() & (self.new.get("paths") or {}).keys()):
            old_item, new_item = self.old["paths"][path] or {}, self.new["paths"][path] or {}
            for key in sorted(
                (old_item.keys() | new_item.keys()) - set(METHODS) - {"parameters"} - TEXT_KEYS
            ):
                if not key.startswith("x-") and old_item.get(key) != new_item.get(key):
                    self._add(PATCH, path, f"`{key}` changed", REVIEW)


def _text_changes(old: Any, new: Any) -> int:
    """How many descriptions, summaries, examples, titles and ``x-*`` values differ (unresolved)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        count = 0
        for key in old.keys() | new.keys():
            if key in TEXT_KEYS or str(key).startswith("x-"):
                count += old.get(key) != new.get(key)
            elif key in old and key in new:
                count += _text_changes(old[key], new[key])
        return count
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return sum(_text_changes(a, b) for a, b in zip(old, new, strict=True))
    return 0


def diff_specs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted: major first, then by subject."""
    return SpecDiff(old, new).run()


# --- taking OpenRouter's whole document -----------------------------------------------------------------

#: The tag of the operations this package covers: the cut keeps them and what they reference.
VIDEO_TAG = "Video Generation"
#: The project's deliberate differences from the video part of OpenRouter's document, in one place. The
#: cut leaves these keys out wherever they are; with ``x-speakeasy-globals`` go the parameters it names
#: from every ``parameters`` list, and so ``components.parameters`` unless a kept operation has its own.
DROPPED_KEYS: dict[str, str] = {
    "x-speakeasy-unknown-values": "Speakeasy's open enums (`allow`, on 8 enums of the video part), which"
    " openapi-python-client does not read",
    "x-speakeasy-globals": "the headers OpenRouter's SDKs send with every request (HTTP-Referer,"
    " X-OpenRouter-Title, X-OpenRouter-Categories: components.parameters, named in each path's"
    " `parameters`), which this package does not send",
}
#: Components the cut keeps whole, used or not: the API's ways to authenticate (2 on 2026-08-22: `apiKey`,
#: which the video operations name, and `bearer`, the same HTTP bearer scheme under another name).
KEPT_WHOLE = ("securitySchemes",)
#: The first lines of a cut openapi.yaml (fixed: the same document always gives the same bytes).
CUT_HEADER = (
    f'# OpenRouter\'s OpenAPI document cut to its "{VIDEO_TAG}" operations and everything they reference\n'
    "# by `make update-spec` (scripts/update_spec.py, docs/spec.md); otherwise as published.\n"
)
_COMPONENT = re.compile(r"#/components/([^/]+)/([^/]+)")


#: libyaml's safe loader when PyYAML has it (5x faster on OpenRouter's 1.4 MB document), else PyYAML's.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoAliases(yaml.SafeDumper):
    """Writes a node the source shares (a YAML anchor) out in full at each use."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_spec(doc: Mapping[str, Any]) -> str:
    """``doc`` as YAML, in its own key order and the style of the project's openapi.yaml."""
    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)


def load_spec(data: bytes, source: str) -> dict[str, Any]:
    """The OpenAPI document in ``data`` (JSON or YAML); SystemExit with the reason when it is not one."""
    try:
        doc = yaml.load(data, Loader=LOADER)
    except yaml.YAMLError as exc:
        raise SystemExit(f"update-spec: {source} is neither JSON nor YAML: {exc}") from None
    if not isinstance(doc, dict) or "openapi" not in doc or not isinstance(doc.get("paths"), Mapping):
        raise SystemExit(f"update-spec: {source} is not an OpenAPI document (no 'openapi' and 'paths')")
    return doc


def operations_of(doc: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(path, method, operation) of every operation of ``doc``, in document order."""
    return [
        (path, method, item[method])
        for path, item in (doc.get("paths") or {}).items()
        if isinstance(item, Mapping)
        for method in item
        if method in METHODS and isinstance(item[method], Mapping)
    ]


def is_video(operation: Mapping[str, Any]) -> bool:
    return VIDEO_TAG in (operation.get("tags") or [])


@dataclasses.dataclass
class Cut:
    """The video part of an OpenAPI document: its ``VIDEO_TAG`` operations and what they reference.

    Kept: those operations (a path keeps its other keys, but not its other operations), every component
    they reference, transitively (``$ref`` and discriminator mappings, in schemas, parameters, responses,
    request bodies, headers...), the security schemes they or the top-level ``security`` name, the tags
    they use, and the rest of the top level (``servers``, ``info``, ``x-*``...) but ``webhooks``. Left
    out: everything else, and ``DROPPED_KEYS``. Keys stay in the source's order, so the same document
    gives the same cut.
    """

    source: Mapping[str, Any]
    doc: dict[str, Any] = dataclasses.field(init=False)
    dropped: dict[str, int] = dataclasses.field(init=False, default_factory=dict)
    components: tuple[int, int] = dataclasses.field(init=False, default=(0, 0))

    def __post_init__(self) -> None:
        globals_: list[Any] = []
        if "x-speakeasy-globals" in DROPPED_KEYS:
            globals_ = (self.source.get("x-speakeasy-globals") or {}).get("parameters") or []
        self._globals = {p.get("$ref") for p in globals_ if isinstance(p, Mapping)} - {None}
        paths = {}
        for path, item in (self.source.get("paths") or {}).items():
            if isinstance(item, Mapping) and any(
                is_video(op) for _, _, op in operations_of({"paths": {0: item}})
            ):
                paths[path] = {
                    key: value
                    for key, value in item.items()
                    if key not in METHODS or (isinstance(value, Mapping) and is_video(value))
                }
        used_tags = {tag for _, _, op in operations_of({"paths": paths}) for tag in op.get("tags") or []}
        doc: dict[str, Any] = {}
        for key, value in self.source.items():
            if key == "paths":
                doc[key] = paths
            elif key == "tags" and isinstance(value, list):
                doc[key] = [tag for tag in value if isinstance(tag, Mapping) and tag.get("name") in used_tags]
            elif key == "components":
                doc[key] = {}  # filled below, in its place
            elif key != "webhooks":
                doc[key] = value
        doc = self._without(doc)
        wanted: list[tuple[str, str]] = []
        self._references(doc, wanted)
        available = self.source.get("components") or {}
        wanted += [(kind, name) for kind in KEPT_WHOLE for name in available.get(kind) or {}]
        for requirements in [doc.get("security"), *(op.get("security") for _, _, op in operations_of(doc))]:
            for requirement in requirements or []:
                wanted += [("securitySchemes", name) for name in requirement]
        reached: dict[tuple[str, str], Any] = {}
        while wanted:
            kind, name = wanted.pop()
            if (kind, name) in reached or name not in (available.get(kind) or {}):
                continue  # a reference to nothing stays as it is: the generator names it
            reached[(kind, name)] = self._without(available[kind][name])
            self._references(reached[(kind, name)], wanted)
        components = {
            kind: {name: reached[(kind, name)] for name in entries if (kind, name) in reached}
            for kind, entries in available.items()
            if isinstance(entries, Mapping)
        }
        doc["components"] = {kind: entries for kind, entries in components.items() if entries}
        if not doc["components"]:
            del doc["components"]
        self.doc = doc
        total = sum(len(entries) for entries in available.values() if isinstance(entries, Mapping))
        self.components = (len(reached), total)

    def _without(self, node: Any) -> Any:
        """A copy of ``node`` without DROPPED_KEYS, nor references to the parameters they name."""
        if isinstance(node, Mapping):
            out = {}
            for key, value in node.items():
                if key in DROPPED_KEYS:
                    self.dropped[key] = self.dropped.get(key, 0) + 1
                    continue
                value = self._without(value)
                if key == "parameters" and isinstance(value, list):
                    value = [
                        p for p in value if not (isinstance(p, Mapping) and p.get("$ref") in self._globals)
                    ]
                    if not value:
                        continue
                out[key] = value
            return out
        if isinstance(node, list):
            return [self._without(item) for item in node]
        return node

    @staticmethod
    def _references(node: Any, into: list[tuple[str, str]]) -> None:
        """Every component ``node`` points to (``$ref``, discriminator mappings), appended to ``into``."""
        if isinstance(node, Mapping):
            for key, value in node.items():
                targets: list[Any] = [value] if key == "$ref" else []
                if key == "discriminator" and isinstance(value, Mapping):
                    targets = [
                        target if "#" in target else f"#/components/schemas/{target}"
                        for target in (value.get("mapping") or {}).values()
                        if isinstance(target, str)
                    ]
                for target in targets:
                    match = _COMPONENT.fullmatch(target) if isinstance(target, str) else None
                    if match:
                        into.append((match[1], match[2].replace("~1", "/").replace("~0", "~")))
                Cut._references(value, into)
        elif isinstance(node, list):
            for item in node:
                Cut._references(item, into)


def take(data: bytes, source: str) -> tuple[bytes, str]:
    """What ``make update-spec`` writes to openapi.yaml for the document ``data``, and a line saying so.

    A document whose every operation is a ``VIDEO_TAG`` one (the project's own subset, edited or not) is
    taken byte for byte, as it is; any other (OpenRouter's whole document) is cut (``Cut``).
    """
    doc = load_spec(data, source)
    operations = operations_of(doc)
    video = sum(1 for _, _, op in operations if is_video(op))
    if not video:
        raise SystemExit(
            f'update-spec: {source} has no operation tagged "{VIDEO_TAG}" (of {len(operations)}); give'
            " OpenRouter's whole document (https://openrouter.ai/openapi.json) or a part of it that has them"
        )
    if video == len(operations):
        return data, f'taken as is: its {video} operations are all "{VIDEO_TAG}" ones'
    cut = Cut(doc)
    kept, total = cut.components
    line = (
        f'cut to its {video} "{VIDEO_TAG}" operations of {len(operations)}'
        f" and the {kept} components of {total} they reference"
    )
    if cut.dropped:
        left_out = ", ".join(f"{key} ({count})" for key, count in cut.dropped.items())
        line += f"; left out as the project's choice (DROPPED_KEYS): {left_out}"
    return (CUT_HEADER + dump_spec(cut.doc)).encode(), line


def read_source(source: str) -> bytes:
    """The bytes of the document at ``source``: a path, or an http(s) URL (downloaded)."""
    if re.match(r"https?://", source):
        import urllib.request

        request = urllib.request.Request(source, headers={"User-Agent": "openrouter-video update-spec"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                data: bytes = response.read()
                return data
        except OSError as exc:
            raise SystemExit(f"update-spec: could not download {source}: {exc}") from None
    if "://" in source:
        raise SystemExit(f"update-spec: {source}: only http:// and https:// URLs are downloaded")
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise SystemExit(f"update-spec: cannot read {source}: {exc.strerror}") from None


# --- the Python API -----------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)


@dataclasses.dataclass
class Base:
    """What the Python API is compared with: a git ref (None: not compared) and a note on why that one."""

    ref: str | None
    note: str

    def heading(self) -> str:
        what = "Python API (openrouter_video_api, openrouter_video)"
        if self.ref is None:
            return f"{what}: not compared ({self.note})"
        return f"{what} against {self.ref}" + (f" ({self.note})" if self.note else "") + ":"


def find_base(root: Path, requested: str | None) -> Base:
    """``requested``, else the latest ``v*`` tag, else HEAD; None when there is no git history."""
    if _git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}").returncode != 0:
        return Base(None, "not a git repository with a commit")
    if requested:
        if _git(root, "rev-parse", "--verify", "-q", f"{requested}^{{commit}}").returncode != 0:
            raise SystemExit(f"update-spec: BASE={requested} is not a commit in {root}")
        return Base(requested, "")
    tags = _git(root, "tag", "--list", "v*", "--sort=-version:refname").stdout.split()
    if tags:
        return Base(tags[0], "the latest v* tag")
    return Base(
        "HEAD", "no v* tag in this repository: the state before this update stands in for the last release"
    )


def _extract(root: Path, ref: str, dest: Path) -> None:
    """The packages' directories as they are at ``ref``, written under ``dest``."""
    present = [
        f"{directory}/{package}"
        for package, directory in PACKAGES
        if _git(root, "ls-tree", "-d", "--name-only", ref, "--", f"{directory}/{package}").stdout.strip()
    ]
    if not present:
        return
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", ref, "--", *present],
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")


def load_api(tree: Path) -> dict[str, Any]:
    """The two packages under ``tree`` (``generated/``, ``overlay/``), loaded by griffe without importing."""
    import griffe

    logging.getLogger("griffe").setLevel(logging.ERROR)
    loader = griffe.GriffeLoader(search_paths=[tree / directory for _, directory in PACKAGES])
    modules = {}
    for package, directory in PACKAGES:
        if (tree / directory / package).is_dir():
            modules[package] = loader.load(package)
    loader.resolve_aliases(implicit=False, external=False)
    return modules


def _public(obj: Any, into: dict[str, Any]) -> dict[str, Any]:
    for member in obj.members.values():
        try:
            public = member.is_public
        except Exception:  # an alias griffe cannot follow
            public = False
        if not public:
            continue
        into[member.path] = member
        if not member.is_alias and (member.is_module or member.is_class):
            _public(member, into)
    return into


def _breakage(breakage: Any) -> Change:
    import griffe

    kind = breakage.kind
    old, new = breakage.old_value, breakage.new_value
    subject = f"`{breakage.obj.path}`"
    if kind.name.startswith("PARAMETER_"):
        subject = f"`{breakage.obj.path}({(old if old is not None else new).name})`"
    detail = kind.value
    if kind is griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
        detail += f": {old.default} -> {new.default}"
    elif kind in (griffe.BreakageKind.PARAMETER_CHANGED_KIND, griffe.BreakageKind.OBJECT_CHANGED_KIND):
        detail += f": {old.kind.value} -> {new.kind.value}"
    elif kind is griffe.BreakageKind.CLASS_REMOVED_BASE:
        detail += f": {old}"
    elif kind.name in ("ATTRIBUTE_CHANGED_VALUE", "ATTRIBUTE_CHANGED_TYPE", "RETURN_CHANGED_TYPE"):
        detail += f": {old} -> {new}"
    return Change(MAJOR, subject, detail)


ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag", "ReprEnum"})
SHIFTED = "code using this name now sends or reads another value"


def enum_members(cls: Any) -> dict[str, str] | None:
    """Name -> value (as written) of the members of an Enum subclass, None for another class."""
    if not {str(base).rsplit(".", 1)[-1] for base in cls.bases} & ENUM_BASES:
        return None
    return {
        name: str(member.value)
        for name, member in cls.members.items()
        if not member.is_alias and member.is_attribute and member.value is not None
    }


def _enum_shifts(path: str, then: Any, now: Any) -> list[Change]:
    """An Enum member whose name stays and whose value changes: breaking, which griffe does not see.

    openapi-python-client names the members of a class enum by position (VALUE_0, VALUE_1...), so a
    value listed first moves every name to another value. With ``literal_enums`` there are no classes.
    """
    old, new = enum_members(then), enum_members(now)
    if old is None or new is None:
        return []
    return [
        Change(MAJOR, f"`{path}.{name}`", f"value changed: {old[name]} -> {new[name]}", SHIFTED)
        for name in old.keys() & new.keys()
        if old[name] != new[name]
    ]


def diff_apis(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """griffe's breaking changes (major), and the public objects and optional parameters only ``new`` has."""
    import griffe

    changes: set[Change] = set()
    for package in sorted(old.keys() | new.keys()):
        if package not in new:
            changes.add(Change(MAJOR, f"`{package}`", "Public object was removed"))
            continue
        if package not in old:
            changes.add(Change(MINOR, f"`{package}`", "added"))
            continue
        changes.update(_breakage(b) for b in griffe.find_breaking_changes(old[package], new[package]))
        before, after = _public(old[package], {}), _public(new[package], {})
        added = set(after) - set(before)
        for path in sorted(added):
            if path.rsplit(".", 1)[0] not in added:  # only the outermost of what is new
                changes.add(Change(MINOR, f"`{path}`", "added"))
        for path in sorted(set(before) & set(after)):
            then, now = before[path], after[path]
            if then.is_alias or now.is_alias:
                continue
            if then.is_class and now.is_class:
                changes.update(_enum_shifts(path, then, now))
            if not (then.is_function and now.is_function):
                continue
            known = {parameter.name for parameter in then.parameters}
            for parameter in now.parameters:
                if parameter.name not in known and parameter.default is not None:
                    changes.add(Change(MINOR, f"`{path}({parameter.name})`", "parameter added (optional)"))
    return sorted(changes, key=Change.sort_key)


def api_changes(root: Path, ref: str) -> list[Change]:
    """The Python API of ``root``'s working tree against the one at ``ref``."""
    with tempfile.TemporaryDirectory(prefix="update-spec-") as scratch:
        _extract(root, ref, Path(scratch))
        return diff_apis(load_api(Path(scratch)), load_api(root))


# --- regeneration, report, changelog ------------------------------------------------------------------


def _tree_digests(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        return {}
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _run_script(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("VENV_BIN", str(Path(sys.executable).parent))  # the tools of the venv running this
    return subprocess.run(["bash", *args], cwd=root, capture_output=True, text=True, env=env, check=False)


@dataclasses.dataclass
class Report:
    spec: str
    regenerated: str
    drift: str
    spec_changes: list[Change]
    base: Base
    api_since_base: list[Change] | None
    api_this_update: list[Change] | None
    version: str

    @property
    def bump(self) -> str | None:
        return bump_of([*self.spec_changes, *(self.api_since_base or [])])

    def next_version(self) -> str:
        return next_version(self.version, self.bump)

    def bump_line(self) -> str:
        if self.bump is None:
            return "Bump: none (no change to the spec or the Python API)"
        rule = "before 1.0.0 a breaking change bumps the second number, anything else the third"
        if not self.version.startswith("0."):
            rule = "semver"
        return f"Bump: {self.bump} (next version {self.next_version()}, from {self.version}; {rule})"

    def changelog(self) -> list[str]:
        """Markdown bullets for CHANGELOG.md: this update's spec and Python API changes."""
        if self.bump is None or not (self.spec_changes or self.api_this_update):
            return []
        lines = [
            f"- `openapi.yaml` updated with `make update-spec`: a **{self.bump}** change "
            f"(next version {self.next_version()})."
        ]
        label = {MAJOR: "**Breaking:**", MINOR: "Compatible:", PATCH: "Other:"}
        python_label = {MAJOR: "**breaking:**", MINOR: "compatible:", PATCH: "other:"}
        for change in self.spec_changes:
            lines.append(f"  - {label[change.level]} {change}.")
        for change in self.api_this_update or []:
            lines.append(f"  - Python API, {python_label[change.level]} {change}.")
        return lines

    def text(self) -> str:
        out = [
            self.spec,
            self.regenerated,
            self.drift,
            "",
            "Spec changes (the old openapi.yaml -> the new one):",
        ]
        out += _grouped(self.spec_changes)
        out += ["", self.base.heading()]
        out += [] if self.api_since_base is None else _grouped(self.api_since_base)
        out += ["", self.bump_line()]
        return "\n".join(out)


def _grouped(changes: Sequence[Change]) -> list[str]:
    if not changes:
        return ["  none"]
    lines = []
    for level in (MAJOR, MINOR, PATCH):
        mine = [change for change in changes if change.level == level]
        if mine:
            lines.append(f"  {HEADINGS[level]}:")
            lines += [f"    - {change}" for change in mine]
    return lines


def insert_changelog(changelog: Path, entries: Sequence[str]) -> str:
    """Put ``entries`` first under the ``**Unreleased**`` heading of ``changelog`` (CHANGELOG.md).

    The file starts with its ``# Changelog`` title; ``**Unreleased**`` is made right under the title if
    it is missing (an ``**Unreleased**`` under a later ``## `` section is not the changelog's).
    """
    name = changelog.name
    if not changelog.is_file():
        return f"{name} does not exist: not added"
    text = changelog.read_text()
    block = "\n".join(entries) + "\n"
    if block in text:
        return f"already in {name}"
    title = re.search(r"^# Changelog\n\n", text, flags=re.M)
    if title is None:
        return f"{name} has no '# Changelog' title: not added"
    unreleased = re.compile(r"^\*\*Unreleased\*\*\n\n", flags=re.M)
    found = unreleased.search(text, title.end())
    next_section = re.compile(r"^## ", flags=re.M).search(text, title.end())
    if found is not None and (next_section is None or found.start() < next_section.start()):
        text = text[: found.end()] + block + text[found.end() :]
    else:
        text = text[: title.end()] + "**Unreleased**\n\n" + block + "\n" + text[title.end() :]
    changelog.write_text(text)
    return f"added to {name} under **Unreleased**"


GENERATION_FAILED = """\
What to do: the generator runs with --fail-on-warning, so each warning above has to go. Each names the
schema or operation it comes from. If the document is OpenRouter's whole one, update-spec has already
cut it to its "{tag}" operations (see the line about the cut); a warning left comes from a key of
those operations or their components: fix it in the document, or, if the project leaves that key out
on purpose, add it to DROPPED_KEYS in scripts/update_spec.py (docs/spec.md, "What update-spec takes")."""


def update_spec(spec: str | Path, root: Path = ROOT, base: str | None = None, changelog: bool = True) -> int:
    """Take the document at ``spec`` (a path or an http(s) URL), regenerate, check and report."""
    target = root / "openapi.yaml"
    spec = str(spec)
    try:
        new_bytes, taken = take(read_source(spec), spec)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    new = yaml.load(new_bytes, Loader=LOADER)
    old_bytes = was = target.read_bytes()
    source = f"update-spec: openapi.yaml replaced by {spec}"
    local = not re.match(r"https?://", spec)
    if local and Path(spec).resolve() == target.resolve():  # edited in place: the old one is HEAD's
        committed = _git(root, "show", "HEAD:openapi.yaml")
        old_bytes = committed.stdout.encode() if committed.returncode == 0 else old_bytes
        source = "update-spec: openapi.yaml edited in place, compared with HEAD's"
    old = yaml.load(old_bytes, Loader=LOADER)
    resolved_base = find_base(root, base)

    before = _tree_digests(root / "generated")
    with tempfile.TemporaryDirectory(prefix="update-spec-") as scratch:
        backup = Path(scratch) / "generated"
        if (root / "generated").is_dir():
            shutil.copytree(root / "generated", backup, symlinks=True)
        target.write_bytes(new_bytes)
        generated = _run_script(root, "scripts/generate.sh", "generated")
        if generated.returncode != 0:  # put back what was there: the file as it was, generated/ too
            target.write_bytes(was)
            shutil.rmtree(root / "generated", ignore_errors=True)
            if backup.is_dir():
                shutil.copytree(backup, root / "generated", symlinks=True)
            print(f"{source}\n{taken}", file=sys.stderr)
            print(generated.stderr or generated.stdout, file=sys.stderr)
            print("update-spec: generation failed; openapi.yaml and generated/ restored", file=sys.stderr)
            print(GENERATION_FAILED.format(tag=VIDEO_TAG), file=sys.stderr)
            return 1
    after = _tree_digests(root / "generated")
    changed = sum(1 for path in before.keys() & after.keys() if before[path] != after[path])
    regenerated = (
        f"generated/ regenerated: {changed} files changed, {len(after.keys() - before.keys())} added, "
        f"{len(before.keys() - after.keys())} removed"
    )
    drift = _run_script(root, "scripts/check-generated.sh", "--allow-uncommitted")
    if drift.returncode == 0:
        drift_line = "drift check: " + drift.stdout.strip().splitlines()[-1].removeprefix("check-generated: ")
    else:
        drift_line = "drift check: FAILED (its output follows the report, on stderr)"

    since_base = this_update = None
    if resolved_base.ref is not None:
        since_base = api_changes(root, resolved_base.ref)
        head = _git(root, "rev-parse", "HEAD").stdout
        same = _git(root, "rev-parse", f"{resolved_base.ref}^{{commit}}").stdout == head
        this_update = since_base if same else api_changes(root, "HEAD")
    version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    report = Report(
        f"{source}\n{taken}",
        regenerated,
        drift_line,
        diff_specs(old, new),
        resolved_base,
        since_base,
        this_update,
        version,
    )
    print(report.text())
    entries = report.changelog()
    if entries:
        where = insert_changelog(root / "CHANGELOG.md", entries) if changelog else "not added: --no-changelog"
        print(f"\nCHANGELOG entries ({where}):")
        print("\n".join(entries))
    if drift.returncode != 0:
        print(drift.stderr, file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="update_spec.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "spec",
        nargs="?",
        help="the new OpenAPI document: a path or an http(s) URL; OpenRouter's whole document is cut"
        f' to its "{VIDEO_TAG}" operations',
    )
    parser.add_argument("--from-url", metavar="URL", help="download the document from URL (http or https)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    parser.add_argument(
        "--base", help="git ref to compare the Python API with (default: the latest v* tag, else HEAD)"
    )
    parser.add_argument("--no-changelog", action="store_true", help="print the CHANGELOG entries only")
    args = parser.parse_args(argv)
    if (args.spec is None) == (args.from_url is None):
        parser.error("give the document: SPEC (a path or URL) or --from-url URL, not both")
    if args.from_url is not None and not re.match(r"https?://", args.from_url):
        parser.error(f"--from-url takes an http:// or https:// URL, not {args.from_url!r}")
    with contextlib.suppress(BrokenPipeError):
        spec = args.from_url or args.spec
        return update_spec(spec, args.root.resolve(), args.base, not args.no_changelog)
    return 1


if __name__ == "__main__":
    sys.exit(main())
