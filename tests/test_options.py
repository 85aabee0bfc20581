"""`generate`'s typed options: they match the spec and the generated model, and every request the spec
does not allow is refused before the paid POST (sync, async and the CLI), while extra_body goes through."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import attrs
import pytest
import yaml
from openrouter_video import (
    AspectRatio,
    AsyncVideoClient,
    AudioReferenceParam,
    FrameImageParam,
    FrameType,
    GenerateOptions,
    ImageReferenceParam,
    InvalidRequestError,
    Resolution,
    RetryPolicy,
    VideoClient,
    VideoReferenceParam,
    _options,
)
from openrouter_video.testing import FakeOpenRouter
from openrouter_video_api.models import VideoGenerationRequest

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "openrouter-video")
MODEL = "google/veo-3.1"

SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
REQUEST: dict[str, Any] = SCHEMAS["VideoGenerationRequest"]
PROPERTIES: dict[str, Any] = REQUEST["properties"]


# -- the typed options and the checks come from the spec, never restated -------------------------------
def test_typed_options_name_every_field_of_the_generated_request_model() -> None:
    """GenerateOptions is written from openapi.yaml with the client (make generate): a field the spec
    gains is typed with no hand edit."""
    generated = {f.name for f in attrs.fields(VideoGenerationRequest)} - {
        "model",
        "prompt",
        "additional_properties",
    }
    assert set(GenerateOptions.__annotations__) == generated
    assert generated == _options.OPTION_NAMES
    assert GenerateOptions.__required_keys__ == frozenset()  # every option may be left out


def _resolved(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolved(SCHEMAS[node["$ref"].rsplit("/", 1)[1]])
        return {k: _resolved(v) for k, v in node.items() if k not in ("example", "examples")}
    return [_resolved(v) for v in node] if isinstance(node, list) else node


def test_the_checked_schema_is_the_spec_s() -> None:
    assert dict(_options.PROPERTIES) == _resolved(PROPERTIES)
    assert set(PROPERTIES) - {"model", "prompt"} == _options.OPTION_NAMES


#: A value of another JSON type than each type's.
WRONG: dict[str, Any] = {
    "string": 7,
    "integer": "7",
    "number": "7",
    "boolean": "yes",
    "array": "x",
    "object": "x",
}


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_each_field_is_checked_for_the_type_the_spec_gives_it(name: str) -> None:
    """Derived, field by field: a value of another type is refused, naming the field."""
    kind = _resolved(PROPERTIES[name]).get("type")
    if kind is None:
        pytest.skip(f"{name} has no type of its own")
    with pytest.raises(InvalidRequestError, match=f"^{name} must be"):
        _options.check_value(name, WRONG[kind], _options.PROPERTIES[name])


def test_callback_url_is_a_uri_that_must_be_https() -> None:
    prop = PROPERTIES["callback_url"]
    assert prop["format"] == "uri" and "Must be HTTPS" in prop["description"]


def test_literal_types_are_the_spec_s_enums_in_its_order() -> None:
    assert list(get_args(Resolution)) == PROPERTIES["resolution"]["enum"] == list(_options.RESOLUTIONS)
    assert list(get_args(AspectRatio)) == PROPERTIES["aspect_ratio"]["enum"] == list(_options.ASPECT_RATIOS)
    frame_type = SCHEMAS["FrameImage"]["allOf"][1]["properties"]["frame_type"]["enum"]
    assert list(get_args(FrameType)) == frame_type


def test_nested_shapes_are_the_spec_s() -> None:
    assert set(FrameImageParam.__annotations__) == {"type", "image_url", "frame_type"}
    reference = SCHEMAS["InputReference"]
    typed = {
        "image_url": ImageReferenceParam,
        "audio_url": AudioReferenceParam,
        "video_url": VideoReferenceParam,
    }
    for kind, ref in reference["discriminator"]["mapping"].items():
        assert set(typed[kind].__annotations__) == set(SCHEMAS[ref.rsplit("/", 1)[1]]["properties"])


def test_every_option_is_documented_with_the_spec_description() -> None:
    """Each field of the generated GenerateOptions carries its own description from the spec, as the
    docstring right after it (what editors show)."""
    import ast

    tree = ast.parse(Path(sys.modules[GenerateOptions.__module__].__file__ or "").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "GenerateOptions"]
    docs = {
        stmt.target.id: " ".join(following.value.value.split())
        for stmt, following in zip(cls.body, cls.body[1:], strict=False)
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    }
    described = {n for n in _options.OPTION_NAMES if _resolved(PROPERTIES[n]).get("description")}
    assert set(docs) == described
    for name, doc in docs.items():
        assert doc == " ".join(_resolved(PROPERTIES[name])["description"].split()), name


# -- the client: nothing is sent unless the request is what the spec allows -----------------------------
def call(mode: str, fake: FakeOpenRouter, method: str, *args: Any, **kwargs: Any) -> Any:
    config: dict[str, Any] = {
        "api_key": fake.api_key,
        "base_url": fake.base_url,
        "retry": RetryPolicy(sleep=lambda _: None),
    }
    if mode == "sync":
        with VideoClient(**config) as client:
            return getattr(client, method)(*args, **kwargs)

    async def run() -> Any:
        async with AsyncVideoClient(**config) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def posted(fake: FakeOpenRouter) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests if r.method == "POST"]


def test_an_unknown_option_sends_nothing_and_names_it(mode: str, fake: FakeOpenRouter) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        call(mode, fake, "generate", MODEL, "p", colour="red")
    message = str(caught.value)
    assert message.startswith("unknown option 'colour'")
    assert "extra_body={'colour': ...}" in message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("resolutoin", "resolution"),
        ("aspectratio", "aspect_ratio"),
        ("promt", "prompt"),
        ("callback", "callback_url"),
    ],
)
def test_an_unknown_option_suggests_the_likely_name(fake: FakeOpenRouter, typo: str, meant: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"unknown option '{typo}' \\(did you mean '{meant}'"):
        call("sync", fake, "generate", MODEL, "p", **{typo: "x"})
    assert fake.requests == []


def test_generate_and_download_refuses_an_unknown_option_before_submitting(
    mode: str, fake: FakeOpenRouter, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError, match="'colour'"):
        call(mode, fake, "generate_and_download", tmp_path, model=MODEL, prompt="p", colour="red")
    assert fake.requests == []


#: Bodies the spec does not allow (issue 15's list first): (positional args after the model, options,
#: the field the message must name, text the message must hold).
INVALID: list[tuple[tuple[Any, ...], dict[str, Any], str, str]] = [
    (("p",), {"duration": 0}, "duration", ">= 1"),
    (("p",), {"duration": -5}, "duration", ">= 1"),
    (("p",), {"duration": "8"}, "duration", "an integer"),
    (
        ("p",),
        {"resolution": "9999p"},
        "resolution",
        f"one of {', '.join(PROPERTIES['resolution']['enum'])}; got '9999p'",
    ),
    (
        ("p",),
        {"aspect_ratio": "5:5"},
        "aspect_ratio",
        f"one of {', '.join(PROPERTIES['aspect_ratio']['enum'])}",
    ),
    ((123,), {}, "prompt", "a string"),
    (("p",), {"seed": "x"}, "seed", "an integer"),
    (("p",), {"generate_audio": "yes"}, "generate_audio", "true or false"),
    (("p",), {"upscale_factor": -1}, "upscale_factor", "> 0"),
    (("p",), {"upscale_factor": {}}, "upscale_factor", "a number"),
    (("p",), {"callback_url": 5}, "callback_url", "https://"),
    (("p",), {"frame_images": "x"}, "frame_images", "a list"),
    (("p",), {"provider": "x"}, "provider", "an object"),
    # and more of what the spec says
    (("p",), {"duration": True}, "duration", "an integer"),
    (("p",), {"duration": 2.5}, "duration", "an integer"),
    (("p",), {"resolution": None}, "resolution", "must be one of "),
    (("p",), {"upscale_factor": 0}, "upscale_factor", "> 0"),
    (("p",), {"upscale_factor": float("nan")}, "upscale_factor", "a number"),
    (("p",), {"creativity": 1.5}, "creativity", "an integer"),
    (("p",), {"size": 1280}, "size", "a string"),
    (("p",), {"callback_url": "http://example.com/hook"}, "callback_url", "https://"),
    (("p",), {"callback_url": "https://"}, "callback_url", "https://"),
    (("p",), {"callback_url": "https://exa mple.com/"}, "callback_url", "https://"),
    (("p",), {"frame_images": ["x"]}, "frame_images[0]", "an object"),
    (
        ("p",),
        {
            "frame_images": [
                {"type": "image_url", "image_url": {"url": "https://e/x.png"}, "frame_type": "middle"}
            ]
        },
        "frame_images[0].frame_type",
        "one of first_frame, last_frame",
    ),
    (
        ("p",),
        {"frame_images": [{"type": "image_url", "frame_type": "first_frame"}]},
        "frame_images[0].image_url",
        "",
    ),
    (
        ("p",),
        {"input_references": [{"type": "text"}]},
        "input_references[0].type",
        "image_url, audio_url, video_url",
    ),
    (
        ("p",),
        {"input_references": [{"type": "audio_url", "audio_url": {"url": 1}}]},
        "input_references[0].audio_url.url",
        "a string",
    ),
    (("p",), {"provider": {"options": "x"}}, "provider.options", "an object"),
    (("p",), {"provider": {"options": {"openai": 1}}}, "provider.options['openai']", "an object"),
]


@pytest.mark.parametrize(
    ("args", "options", "field", "text"),
    INVALID,
    ids=[f"{field}={next(iter(o.values()), a[0])!r}" for a, o, field, _ in INVALID],
)
def test_a_body_the_spec_does_not_allow_sends_nothing(
    mode: str, fake: FakeOpenRouter, args: tuple[Any, ...], options: dict[str, Any], field: str, text: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        call(mode, fake, "generate", MODEL, *args, **options)
    message = str(caught.value)
    assert message.startswith(f"{field} must be") or message.startswith(f"{field}."), message
    assert text in message
    assert fake.requests == []


def test_the_model_must_be_a_string(fake: FakeOpenRouter) -> None:
    with pytest.raises(InvalidRequestError, match=r"^model must be a string"):
        call("sync", fake, "generate", 7, "p")
    assert fake.requests == []


#: One valid value for every option, nested ones included.
EVERY_OPTION: dict[str, Any] = {
    "aspect_ratio": "9:16",
    "callback_url": "https://example.com/webhook?job=1",
    "creativity": 3,
    "duration": 8,
    "frame_images": [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}, "frame_type": "first_frame"},
        {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}, "frame_type": "last_frame"},
    ],
    "generate_audio": False,
    "input_references": [
        {"type": "image_url", "image_url": {"url": "https://example.com/ref.png"}},
        {"type": "audio_url", "audio_url": {"url": "https://example.com/ref.mp3"}},
        {"type": "video_url", "video_url": {"url": "https://example.com/ref.mp4"}},
    ],
    "provider": {
        "options": {
            "google-vertex": {"output_config": {"effort": "low"}},
            "a-provider-newer-than-the-spec": {"x": [1, 2]},
        }
    },
    "resolution": "1080p",
    "seed": 0,
    "size": "1080x1920",
    "upscale_factor": 1.5,
}


def _example(name: str) -> Any:
    """A value of a field the hand-picked list above does not have (a newer spec's): its example, else
    a value of its type."""
    schema = _resolved(PROPERTIES[name])
    if "example" in PROPERTIES[name]:
        return PROPERTIES[name]["example"]
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": []}.get(
        schema.get("type"), {}
    )


def test_every_typed_option_arrives_in_the_json_body_exactly(mode: str, fake: FakeOpenRouter) -> None:
    """Every option the spec has, the newer ones too (with no edit here)."""
    assert set(EVERY_OPTION) <= _options.OPTION_NAMES
    every = {**EVERY_OPTION, **{name: _example(name) for name in _options.OPTION_NAMES - set(EVERY_OPTION)}}
    fake.add_video("x", b"a video")  # a completed job "x", for previous_job_id (a string option: "x")
    call(mode, fake, "generate", MODEL, "a kite", **every)
    assert posted(fake) == [{"model": MODEL, "prompt": "a kite", **every}]


def test_an_upscale_factor_may_be_an_integer_and_the_prompt_may_be_left_out(fake: FakeOpenRouter) -> None:
    call("sync", fake, "generate", MODEL, upscale_factor=2)
    assert posted(fake) == [{"model": MODEL, "upscale_factor": 2}]


def test_extra_body_fields_arrive_as_given(mode: str, fake: FakeOpenRouter) -> None:
    extra = {"colour": "red", "nested": {"a": [1, None]}, "resolution": "8K"}  # 8K: not in this spec
    # The client sends extra_body unchecked (e.g. a value a newer spec allows); the strict fake, like
    # today's API, would refuse 8K with 400, so it is lax here: this is about what the client sends.
    fake.strict = False
    call(mode, fake, "generate", MODEL, "p", duration=5, extra_body=extra)
    assert posted(fake) == [{"model": MODEL, "prompt": "p", "duration": 5, **extra}]


def test_extra_body_goes_through_generate_and_download(
    mode: str, fake: FakeOpenRouter, tmp_path: Path
) -> None:
    fake.script_job(outputs=[b"video" * 100], statuses=["completed"])
    call(
        mode, fake, "generate_and_download", tmp_path, model=MODEL, prompt="p", seed=3,
        extra_body={"colour": "red"}, poll_interval=0.01,
    )  # fmt: skip
    assert posted(fake) == [{"model": MODEL, "prompt": "p", "seed": 3, "colour": "red"}]


@pytest.mark.parametrize(
    ("prompt", "options", "extra", "twice"),
    [
        ("p", {"seed": 1}, {"seed": 2}, "'seed'"),
        ("p", {}, {"model": "other/model"}, "'model'"),
        ("p", {}, {"prompt": "other"}, "'prompt'"),
    ],
)
def test_a_key_given_both_as_an_argument_and_in_extra_body_is_refused(
    fake: FakeOpenRouter, prompt: str, options: dict[str, Any], extra: dict[str, Any], twice: str
) -> None:
    with pytest.raises(InvalidRequestError, match=f"^{twice} given both as an argument and in extra_body"):
        call("sync", fake, "generate", MODEL, prompt, extra_body=extra, **options)
    assert fake.requests == []


def test_extra_body_may_carry_the_prompt_when_it_is_not_an_argument(fake: FakeOpenRouter) -> None:
    call("sync", fake, "generate", MODEL, extra_body={"prompt": "p"})
    assert posted(fake) == [{"model": MODEL, "prompt": "p"}]


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ("colour=red", "extra_body must be an object"),
        ({1: "x"}, "extra_body must be an object (a dict) with string keys"),
        ({"colour": object()}, "cannot be sent as JSON"),
        ({"ratio": float("inf")}, "cannot be sent as JSON"),
    ],
)
def test_extra_body_that_cannot_be_sent_is_refused(fake: FakeOpenRouter, extra: Any, text: str) -> None:
    with pytest.raises(InvalidRequestError, match=text.replace("(", r"\(").replace(")", r"\)")):
        call("sync", fake, "generate", MODEL, "p", extra_body=extra)
    assert fake.requests == []


# -- the command line ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [("--resolution", "9999p", _options.RESOLUTIONS), ("--aspect-ratio", "5:5", _options.ASPECT_RATIOS)],
)
def test_cli_refuses_a_value_the_spec_does_not_list(
    fake: FakeOpenRouter, tmp_path: Path, flag: str, value: str, allowed: tuple[str, ...]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    env["OPENROUTER_API_KEY"] = fake.api_key
    argv = [CLI, "generate", "--model", MODEL, "--prompt", "a kite", flag, value, "-o", str(tmp_path)]
    result = subprocess.run(
        [*argv, "--base-url", fake.base_url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert f"one of {', '.join(allowed)}; got '{value}'" in lines[0]
    assert "VideoGenerationRequest" not in lines[0]  # no generated class names
    assert fake.requests == []
    assert result.stdout == ""


def test_cli_help_lists_the_allowed_values() -> None:
    from openrouter_video.cli import _parser

    commands = next(a for a in _parser()._actions if a.dest == "command")
    generate = commands.choices["generate"]  # type: ignore[index]
    helps = {a.dest: a.help or "" for a in generate._actions}
    assert helps["resolution"].startswith(f"one of {', '.join(_options.RESOLUTIONS)}")
    assert helps["aspect_ratio"].startswith(f"one of {', '.join(_options.ASPECT_RATIOS)}")


# -- static typing ---------------------------------------------------------------------------------------
TYPED_USE = """
from openrouter_video import AsyncVideoClient, FrameImageParam, GenerateOptions, VideoClient


def use(client: VideoClient) -> None:
    client.generate("m", "p", duration=8, resolution="720p", aspect_ratio="16:9", extra_body={"x": 1})
    frames: list[FrameImageParam] = [
        {"type": "image_url", "image_url": {"url": "https://e/x.png"}, "frame_type": "first_frame"}
    ]
    client.generate("m", frame_images=frames, provider={"options": {"openai": {"a": 1}}})
    options: GenerateOptions = {"seed": 1, "upscale_factor": 2}
    client.generate_and_download("d", model="m", **options)
    client.generate("m", "p", colour="red")  # error
    client.generate("m", "p", resolution="9999p")  # error
    client.generate("m", "p", duration="8")  # error
    client.generate_and_download("d", model="m", seed="x")  # error


async def use_async(client: AsyncVideoClient) -> None:
    await client.generate("m", "p", input_references=[{"type": "audio_url", "audio_url": {"url": "u"}}])
    await client.generate("m", "p", generate_audio="yes")  # error
    await client.generate_and_download("d", model="m", aspect_ratio="5:5")  # error
"""


def test_mypy_checks_the_options_of_a_call(tmp_path: Path) -> None:
    """What a user's type checker says: typos and values outside the spec are errors, valid calls pass."""
    source = tmp_path / "use.py"
    source.write_text(TYPED_USE)
    env = {**os.environ, "MYPYPATH": f"{ROOT / 'overlay'}{os.pathsep}{ROOT / 'generated'}"}
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--config-file", os.devnull]
    result = subprocess.run(
        [*mypy, "--cache-dir", str(tmp_path / "cache"), str(source)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    flagged = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    expected = {n for n, line in enumerate(TYPED_USE.splitlines(), 1) if line.endswith("# error")}
    assert flagged == expected, result.stdout + result.stderr
