"""The options of ``generate``: typed for editors and mypy (:class:`GenerateOptions`), and checked against
the spec's ``VideoGenerationRequest`` before the paid ``POST /videos`` is sent.

Nothing here restates the spec: the types and the schema checked come from
``openrouter_video_api.spec``, which ``make generate`` writes from openapi.yaml (scripts/spec_types.py).
A field, an enum value or a bound that a new spec adds is typed and checked with no edit here. What is
written by hand is how a value is judged: its JSON type (an integer is never a ``bool``), ``enum``,
``minimum``/``exclusiveMinimum``/``maximum``, ``minLength``/``maxLength``, ``format: uri`` (an
``https://`` URL: the spec's ``callback_url`` says "Must be HTTPS"), arrays item by item, objects field
by field (a missing required field is judged as ``None``), and ``oneOf`` by its discriminator.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from openrouter_video_api.spec import (
    REQUEST,
    AspectRatio,
    AudioReferenceParam,
    FrameImageParam,
    FrameType,
    GenerateOptions,
    ImageReferenceParam,
    InputReferenceParam,
    MediaURLParam,
    ProviderParam,
    Resolution,
    VideoReferenceParam,
)

from .errors import InvalidRequestError

__all__ = [
    "ASPECT_RATIOS",
    "OPTION_NAMES",
    "PROPERTIES",
    "RESOLUTIONS",
    "AspectRatio",
    "AudioReferenceParam",
    "FrameImageParam",
    "FrameType",
    "GenerateOptions",
    "ImageReferenceParam",
    "InputReferenceParam",
    "MediaURLParam",
    "ProviderParam",
    "Resolution",
    "VideoReferenceParam",
    "check_value",
    "request_body",
]

#: The spec's ``VideoGenerationRequest`` fields, ``$ref`` resolved.
PROPERTIES: Final[Mapping[str, Any]] = REQUEST["properties"]
#: The values of ``resolution`` and ``aspect_ratio``, in the spec's order (for the CLI's help).
RESOLUTIONS: Final[tuple[str, ...]] = tuple(PROPERTIES.get("resolution", {}).get("enum", ()))
ASPECT_RATIOS: Final[tuple[str, ...]] = tuple(PROPERTIES.get("aspect_ratio", {}).get("enum", ()))
#: The names of :class:`GenerateOptions`: every field but ``model`` and ``prompt``.
OPTION_NAMES: Final = frozenset(PROPERTIES) - {"model", "prompt"}
#: The names ``generate`` takes besides the options (offered as "did you mean" too).
_PARAMETERS: Final = ("model", "prompt", "timeout", "extra_body")

#: Each JSON type: how a message names it, and whether a Python value is one (a bool is no number).
_KINDS: Final[dict[str, tuple[str, Callable[[Any], bool]]]] = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": (
        "a number",
        lambda v: (
            not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and math.isfinite(v)))
        ),
    ),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "array": ("a list", lambda v: isinstance(v, list | tuple)),
    "object": ("an object (a dict)", lambda v: isinstance(v, Mapping)),
}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _shown_with_type(value: Any) -> str:
    return f"{_show(value)} ({type(value).__name__})"


def _merged(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with its ``allOf`` parts merged in (their fields, in order, and required lists)."""
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _merged(part)
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _check_https(name: str, value: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
        valid = parts.scheme.lower() == "https" and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidRequestError(f"{name} must be an https:// URL; got {_show(value)}")


def _check_bounds(name: str, value: Any, schema: Mapping[str, Any]) -> None:
    low, exclusive = schema.get("minimum"), schema.get("exclusiveMinimum", False)
    if not isinstance(exclusive, bool):  # OpenAPI 3.1: exclusiveMinimum is the bound itself
        low, exclusive = exclusive, True
    if low is not None and not (value > low if exclusive else value >= low):
        raise InvalidRequestError(f"{name} must be {'>' if exclusive else '>='} {low:g}; got {_show(value)}")
    high = schema.get("maximum")
    if high is not None and not value <= high:
        raise InvalidRequestError(f"{name} must be <= {high:g}; got {_show(value)}")


def _check_length(name: str, value: str, schema: Mapping[str, Any]) -> None:
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if shortest is not None and len(value) < shortest:
        raise InvalidRequestError(f"{name} must be at least {shortest} characters; got {len(value)}")
    if longest is not None and len(value) > longest:
        raise InvalidRequestError(f"{name} must be at most {longest} characters; got {len(value)}")


def _check_one_of(name: str, value: Any, choices: Sequence[Mapping[str, Any]], tag: str) -> None:
    """One of ``choices``, told apart by the field ``tag`` (the spec's discriminator)."""
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"{name} must be {_KINDS['object'][0]}; got {_shown_with_type(value)}")
    by_tag = {str(v): choice for choice in map(_merged, choices) for v in choice["properties"][tag]["enum"]}
    if value.get(tag) not in by_tag:
        raise InvalidRequestError(
            f"{name}.{tag} must be one of {', '.join(by_tag)}; got {_show(value.get(tag))}"
        )
    check_value(name, value, by_tag[value[tag]])


def check_value(name: str, value: Any, schema: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidRequestError` naming ``name`` unless ``value`` is what ``schema`` (a
    resolved schema of ``openrouter_video_api.spec``) allows."""
    schema = _merged(schema)
    choices = schema.get("oneOf")
    if choices and "propertyName" in schema.get("discriminator", {}):
        _check_one_of(name, value, choices, schema["discriminator"]["propertyName"])
        return
    kind, enum = schema.get("type"), schema.get("enum")
    # (a type this version does not know passes: the server judges it)
    mistyped = isinstance(kind, str) and kind in _KINDS and not _KINDS[kind][1](value)
    if enum is not None and (mistyped or value not in enum):
        got = _shown_with_type(value) if mistyped else _show(value)
        raise InvalidRequestError(f"{name} must be one of {', '.join(str(v) for v in enum)}; got {got}")
    if mistyped:
        what = "an https:// URL" if schema.get("format") == "uri" else _KINDS[str(kind)][0]
        raise InvalidRequestError(f"{name} must be {what}; got {_shown_with_type(value)}")
    if kind in ("integer", "number"):
        _check_bounds(name, value, schema)
    if kind == "string":
        _check_length(name, value, schema)
        if schema.get("format") == "uri":
            _check_https(name, value)
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            check_value(f"{name}[{i}]", item, schema["items"])
    if kind == "object":
        properties: Mapping[str, Any] = schema.get("properties", {})
        # Keyed by data (a provider slug each), not by field names, when every value has one schema.
        keyed = len(properties) > 1 and len({json.dumps(p, sort_keys=True) for p in properties.values()}) == 1
        required = schema.get("required", ())
        for key, prop in properties.items():
            if key in value or key in required:
                check_value(f"{name}[{key!r}]" if keyed else f"{name}.{key}", value.get(key), prop)


def _unknown(keys: Sequence[str]) -> InvalidRequestError:
    import difflib  # (only for this message: not loaded by every `openrouter-video` run)

    known = [*sorted(OPTION_NAMES), *_PARAMETERS]
    parts = []
    for key in keys:
        close = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
        guess = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        parts.append(f"{key!r}{guess}")
    noun = "option" if len(keys) == 1 else "options"
    example = ", ".join(f"{key!r}: ..." for key in keys)
    return InvalidRequestError(
        f"unknown {noun} {', '.join(parts)}; pass extra_body={{{example}}} to send fields this client "
        "does not know"
    )


def request_body(
    model: Any, prompt: Any, options: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a ``generate`` call against the spec; return its checked fields and its ``extra_body``.
    Raises :class:`InvalidRequestError`, naming the field, for an unknown option (with the likely
    intended name), a value the spec does not allow, ``extra_body`` that is not an object with
    string keys, a key given both in ``extra_body`` and as an argument, or a body that cannot be
    sent as JSON. ``extra_body`` is not checked otherwise: it is sent as is."""
    unknown = [key for key in options if key not in OPTION_NAMES]
    if unknown:
        raise _unknown(unknown)
    body: dict[str, Any] = {"model": model}
    if prompt is not None:
        body["prompt"] = prompt
    body.update(options)
    for name, value in body.items():
        check_value(name, value, PROPERTIES[name])
    extra: dict[str, Any] = {}
    if extra_body is not None:
        if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
            raise InvalidRequestError(
                f"extra_body must be an object (a dict) with string keys; got {_shown_with_type(extra_body)}"
            )
        twice = sorted(set(extra_body) & set(body))
        if twice:
            names = ", ".join(repr(k) for k in twice)
            raise InvalidRequestError(f"{names} given both as an argument and in extra_body; give each once")
        extra = dict(extra_body)
    try:
        json.dumps({**body, **extra}, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"the request body cannot be sent as JSON: {exc}") from None
    return body, extra
