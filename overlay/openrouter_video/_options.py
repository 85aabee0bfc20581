"""The options of ``generate``: typed for editors and mypy (:class:`GenerateOptions`), and checked against
the spec's ``VideoGenerationRequest`` before the paid ``POST /videos`` is sent.

What is checked comes from the generated client where it says it (the allowed values of an enum are
read from the generated enum classes) and from :data:`RULES` for what it does not keep (each field's
JSON type, ``minimum``/``exclusiveMinimum`` and ``format: uri``); ``tests/test_options.py`` fails
when :data:`RULES` or :class:`GenerateOptions` no longer match ``openapi.yaml`` or the generated
model. This module imports nothing from the generated package until a request is checked, so the
command line can list the allowed values in its help without loading the client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal, TypeAlias, TypedDict, get_args
from urllib.parse import urlsplit

from .errors import InvalidRequestError

__all__ = [
    "ASPECT_RATIOS",
    "OPTION_NAMES",
    "RESOLUTIONS",
    "RULES",
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
    "Rule",
    "VideoReferenceParam",
    "check_value",
    "enum_values",
    "request_body",
]

#: The values of ``resolution`` (the spec's enum; checked at run time against the generated enum).
Resolution: TypeAlias = Literal["480p", "720p", "768p", "1080p", "1K", "2K", "4K"]
#: The values of ``aspect_ratio`` (the spec's enum).
AspectRatio: TypeAlias = Literal["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"]
#: The values of a frame image's ``frame_type``.
FrameType: TypeAlias = Literal["first_frame", "last_frame"]

#: The values of :data:`Resolution` and :data:`AspectRatio`, in the spec's order (for the CLI's help).
RESOLUTIONS: Final[tuple[str, ...]] = get_args(Resolution)
ASPECT_RATIOS: Final[tuple[str, ...]] = get_args(AspectRatio)


class MediaURLParam(TypedDict):
    """``{"url": ...}``: where an image, audio or video reference is."""

    url: str


class ImageReferenceParam(TypedDict):
    """An image reference (the spec's ``ContentPartImage``):
    ``{"type": "image_url", "image_url": {"url": ...}}``."""

    type: Literal["image_url"]
    image_url: MediaURLParam


class AudioReferenceParam(TypedDict):
    """An audio reference (``ContentPartAudio``): ``{"type": "audio_url", "audio_url": {"url": ...}}``."""

    type: Literal["audio_url"]
    audio_url: MediaURLParam


class VideoReferenceParam(TypedDict):
    """A video reference (``ContentPartVideo``): ``{"type": "video_url", "video_url": {"url": ...}}``."""

    type: Literal["video_url"]
    video_url: MediaURLParam


#: One of ``input_references`` (the spec's ``InputReference``, discriminated by ``type``).
InputReferenceParam: TypeAlias = ImageReferenceParam | AudioReferenceParam | VideoReferenceParam


class FrameImageParam(ImageReferenceParam):
    """One of ``frame_images`` (the spec's ``FrameImage``): an image reference with a ``frame_type``."""

    frame_type: FrameType
    """Whether this image represents the first or last frame of the video."""


class ProviderParam(TypedDict, total=False):
    """``provider``: provider-specific passthrough configuration."""

    options: Mapping[str, Mapping[str, Any]]
    """Provider-specific options keyed by provider slug (e.g. ``{"google-vertex": {...}}``). Only
    options for the matched provider are forwarded; the rest are ignored. Unrecognized keys are
    silently dropped."""


class GenerateOptions(TypedDict, total=False):
    """The keyword options of ``generate`` and ``generate_and_download``: every field of the spec's
    ``VideoGenerationRequest`` but ``model`` and ``prompt`` (their own parameters).

    Each is checked before anything is sent (:class:`~openrouter_video.errors.InvalidRequestError`
    otherwise): its JSON type (an integer is never a ``bool``), the spec's enums, minimums, and
    ``callback_url`` being an ``https://`` URL. ``None`` is not a value of any of them: leave an
    option out to let the server choose. Fields this version does not know go in ``extra_body``.
    """

    aspect_ratio: AspectRatio
    """Aspect ratio of the generated video"""

    callback_url: str
    """URL to receive a webhook notification when the video generation job completes. Overrides the
    workspace-level default callback URL if set. Must be HTTPS."""

    creativity: int
    """Creativity level for video upscaling models only. This parameter is not supported by video
    generation models."""

    duration: int
    """Duration of the generated video in seconds (at least 1)."""

    frame_images: Sequence[FrameImageParam]
    """Images to use as the first and/or last frame of the generated video. Each image must specify a
    frame_type of first_frame or last_frame."""

    generate_audio: bool
    """Whether to generate audio alongside the video. Defaults to the endpoint's generate_audio
    capability flag, false if not set."""

    input_references: Sequence[InputReferenceParam]
    """Reference assets to guide video generation. Accepts image, audio, and video references. Audio
    and video references are only honored by providers that support them (including BytePlus
    Seedance generation 2 and newer); other providers use image references and ignore the rest."""

    provider: ProviderParam
    """Provider-specific passthrough configuration"""

    resolution: Resolution
    """Resolution of the generated video"""

    seed: int
    """If specified, the generation will sample deterministically, such that repeated requests with
    the same seed and parameters should return the same result. Determinism is not guaranteed for
    all providers."""

    size: str
    """Exact pixel dimensions of the generated video in "WIDTHxHEIGHT" format (e.g. "1280x720").
    Interchangeable with resolution + aspect_ratio."""

    upscale_factor: float
    """Upscale factor for video upscaling models only. This parameter is not supported by video
    generation models. (Greater than 0.)"""


# -- the rules ------------------------------------------------------------------------------------------
_KIND_NAMES: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object (a dict)",
}


@dataclass(frozen=True)
class Rule:
    """What the spec says of one ``VideoGenerationRequest`` field.

    Attributes:
        kind: The JSON Schema ``type``.
        enum: The generated enum class (in ``openrouter_video_api.models``) listing the allowed values.
        minimum: The spec's ``minimum``.
        exclusive_minimum: Whether the minimum itself is excluded (``exclusiveMinimum``).
        format: The spec's ``format``; ``"uri"`` is checked as an ``https://`` URL (the field's
            description says "Must be HTTPS").
        items: Checks each item of an array, given its name (``frame_images[0]``) and value.
        check: Checks the value of an object beyond its type.
    """

    kind: str
    enum: str | None = None
    minimum: float | None = None
    exclusive_minimum: bool = False
    format: str | None = None
    items: Callable[[str, Any], None] | None = None
    check: Callable[[str, Any], None] | None = None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _shown_with_type(value: Any) -> str:
    return f"{_show(value)} ({type(value).__name__})"


def _fail(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


@cache
def enum_values(name: str) -> tuple[str, ...]:
    """The values of the generated enum class ``name`` (``openrouter_video_api.models.<name>``)."""
    from openrouter_video_api import models

    return tuple(str(member.value) for member in getattr(models, name))


def _is_kind(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    raise AssertionError(f"unknown JSON type {kind!r}")


def _check_enum(name: str, value: Any, enum: str) -> None:
    allowed = enum_values(enum)
    if value not in allowed:
        raise _fail(f"{name} must be one of {', '.join(allowed)}; got {_show(value)}")


def _check_https(name: str, value: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        parts = None
    valid = (
        parts is not None
        and parts.scheme.lower() == "https"
        and bool(parts.hostname)
        and not any(c.isspace() or not c.isprintable() for c in value)
    )
    if not valid:
        raise _fail(f"{name} must be an https:// URL; got {_show(value)}")


def check_value(name: str, value: Any, rule: Rule) -> None:
    """Raise :class:`InvalidRequestError` naming ``name`` unless ``value`` follows ``rule``."""
    if not _is_kind(rule.kind, value):
        if rule.enum is not None:
            allowed = ", ".join(enum_values(rule.enum))
            raise _fail(f"{name} must be one of {allowed}; got {_shown_with_type(value)}")
        what = "an https:// URL" if rule.format == "uri" else _KIND_NAMES[rule.kind]
        raise _fail(f"{name} must be {what}; got {_shown_with_type(value)}")
    if rule.enum is not None:
        _check_enum(name, value, rule.enum)
    if rule.minimum is not None:
        if rule.exclusive_minimum and not value > rule.minimum:
            raise _fail(f"{name} must be > {rule.minimum:g}; got {_show(value)}")
        if not rule.exclusive_minimum and not value >= rule.minimum:
            raise _fail(f"{name} must be >= {rule.minimum:g}; got {_show(value)}")
    if rule.format == "uri":
        _check_https(name, value)
    if rule.items is not None:
        for i, item in enumerate(value):
            rule.items(f"{name}[{i}]", item)
    if rule.check is not None:
        rule.check(name, value)


def _check_media(name: str, item: Any, kind: str) -> None:
    """``item[kind]`` is ``{"url": <string>}`` (``ContentPart*``'s required ``<kind>.url``)."""
    media = item.get(kind)
    if not isinstance(media, Mapping):
        raise _fail(
            f"{name}.{kind} must be an object with a url, e.g. {{'url': 'https://...'}}; got {_show(media)}"
        )
    if not isinstance(media.get("url"), str):
        raise _fail(f"{name}.{kind}.url must be a string; got {_shown_with_type(media.get('url'))}")


#: ``input_references`` item types: its ``type`` (from the generated enum of each content part) and
#: the key its URL is under, which the spec names the same.
_REFERENCE_ENUMS: Final = ("ContentPartImageType", "ContentPartAudioType", "ContentPartVideoType")


def _check_frame_image(name: str, item: Any) -> None:
    """A ``FrameImage``: a ``ContentPartImage`` (``type`` ``image_url``, ``image_url.url``) and a
    ``frame_type``."""
    if not isinstance(item, Mapping):
        raise _fail(f"{name} must be an object (a dict); got {_shown_with_type(item)}")
    check_value(f"{name}.type", item.get("type"), Rule("string", enum="ContentPartImageType"))
    _check_media(name, item, "image_url")
    check_value(f"{name}.frame_type", item.get("frame_type"), Rule("string", enum="FrameImageFrameType"))


def _check_input_reference(name: str, item: Any) -> None:
    """An ``InputReference``: one of ``ContentPartImage``/``Audio``/``Video``, by ``type``."""
    if not isinstance(item, Mapping):
        raise _fail(f"{name} must be an object (a dict); got {_shown_with_type(item)}")
    kinds = [value for enum in _REFERENCE_ENUMS for value in enum_values(enum)]
    kind = item.get("type")
    if kind not in kinds:
        raise _fail(f"{name}.type must be one of {', '.join(kinds)}; got {_show(kind)}")
    _check_media(name, item, kind)


def _check_provider(name: str, value: Mapping[str, Any]) -> None:
    """``provider.options``, when given, is an object; the option of each provider too."""
    if "options" not in value:
        return
    options = value["options"]
    if not isinstance(options, Mapping):
        raise _fail(
            f"{name}.options must be an object keyed by provider slug; got {_shown_with_type(options)}"
        )
    for slug, option in options.items():
        if not isinstance(option, Mapping):
            raise _fail(
                f"{name}.options[{slug!r}] must be an object (a dict); got {_shown_with_type(option)}"
            )


#: The spec's ``VideoGenerationRequest``, field by field (``tests/test_options.py`` compares it with
#: ``openapi.yaml``, and :class:`GenerateOptions` with the generated model).
RULES: Final[Mapping[str, Rule]] = {
    "model": Rule("string"),
    "prompt": Rule("string"),
    "aspect_ratio": Rule("string", enum="VideoGenerationRequestAspectRatio"),
    "callback_url": Rule("string", format="uri"),
    "creativity": Rule("integer"),
    "duration": Rule("integer", minimum=1),
    "frame_images": Rule("array", items=_check_frame_image),
    "generate_audio": Rule("boolean"),
    "input_references": Rule("array", items=_check_input_reference),
    "provider": Rule("object", check=_check_provider),
    "resolution": Rule("string", enum="VideoGenerationRequestResolution"),
    "seed": Rule("integer"),
    "size": Rule("string"),
    "upscale_factor": Rule("number", minimum=0, exclusive_minimum=True),
}

#: The names of :class:`GenerateOptions`.
OPTION_NAMES: Final = frozenset(GenerateOptions.__annotations__)

#: The names ``generate`` takes besides the options (offered as "did you mean" too).
_PARAMETERS: Final = ("model", "prompt", "timeout", "extra_body")


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
    return _fail(
        f"unknown {noun} {', '.join(parts)}; pass extra_body={{{example}}} to send fields this client "
        "does not know"
    )


def request_body(
    model: Any,
    prompt: Any,
    options: Mapping[str, Any],
    extra_body: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a ``generate`` call against the spec; return its checked fields and its ``extra_body``.

    Raises :class:`InvalidRequestError`, naming the field, for an unknown option (with the likely
    intended name), a value the spec does not allow, ``extra_body`` that is not an object with
    string keys, a key given both in ``extra_body`` and as an argument, or a body that cannot be
    sent as JSON. ``extra_body`` is not checked otherwise: it is sent as is.
    """
    unknown = [key for key in options if key not in OPTION_NAMES]
    if unknown:
        raise _unknown(unknown)
    body: dict[str, Any] = {"model": model}
    if prompt is not None:
        body["prompt"] = prompt
    body.update(options)
    for name, value in body.items():
        check_value(name, value, RULES[name])
    extra: dict[str, Any] = {}
    if extra_body is not None:
        if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
            raise _fail(
                f"extra_body must be an object (a dict) with string keys; got {_shown_with_type(extra_body)}"
            )
        twice = sorted(set(extra_body) & set(body))
        if twice:
            names = ", ".join(repr(k) for k in twice)
            raise _fail(f"{names} given both as an argument and in extra_body; give each once")
        extra = dict(extra_body)
    try:
        json.dumps({**body, **extra}, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _fail(f"the request body cannot be sent as JSON: {exc}") from None
    return body, extra
