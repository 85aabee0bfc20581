"""openrouter_video.webhooks.verify: valid, tampered, wrong secret, stale, future, missing header, and
hostile input of every type, character and length (only ever a WebhookVerificationError)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openrouter_video.webhooks import WebhookVerificationError, sign, verify

SECRET = "whsec_test_secret"
NOW = 1_800_000_000
BODY = json.dumps({"type": "video.completed", "data": {"id": "job-abc123", "status": "completed"}}).encode()


def headers(signature: str) -> dict[str, str]:
    return {"X-OpenRouter-Signature": signature, "Content-Type": "application/json"}


def test_valid_signature_returns_the_event() -> None:
    event = verify(BODY, headers(sign(BODY, SECRET, NOW)), SECRET, now=NOW + 10)
    assert event["data"]["id"] == "job-abc123"


def test_signature_is_hmac_sha256_of_timestamp_comma_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW},".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, NOW) == f"t={NOW},v1={expected}"
    assert verify(BODY, headers(f"t={NOW},v1={expected}"), SECRET, now=NOW)


def test_header_name_is_case_insensitive_in_any_mapping() -> None:
    lower = {"x-openrouter-signature": sign(BODY, SECRET, NOW)}
    assert verify(BODY, lower, SECRET, now=NOW)
    assert verify(BODY, httpx.Headers(lower), SECRET, now=NOW)


def test_tampered_body_is_rejected() -> None:
    tampered = BODY.replace(b"job-abc123", b"job-evil00")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(tampered, headers(sign(BODY, SECRET, NOW)), SECRET, now=NOW)


def test_tampered_timestamp_is_rejected() -> None:
    signature = sign(BODY, SECRET, NOW).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(BODY, headers(signature), SECRET, now=NOW)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(BODY, headers(sign(BODY, "another_secret", NOW)), SECRET, now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    with pytest.raises(WebhookVerificationError, match="away from now"):
        verify(BODY, headers(sign(BODY, SECRET, NOW)), SECRET, now=NOW + skew)
    assert verify(BODY, headers(sign(BODY, SECRET, NOW)), SECRET, now=NOW + skew, tolerance=abs(skew))


@pytest.mark.parametrize("value", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc", "garbage"])
def test_missing_or_malformed_header_is_rejected(value: str | None) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(BODY, {} if value is None else headers(value), SECRET, now=NOW)


def test_any_of_several_signatures_may_match_during_rotation() -> None:
    good = sign(BODY, SECRET, NOW).split("v1=")[1]
    assert verify(BODY, headers(f"t={NOW},v1={'0' * 64},v1={good}"), SECRET, now=NOW)


def test_body_must_be_a_json_object() -> None:
    body = b"[1, 2]"
    with pytest.raises(WebhookVerificationError, match="JSON object"):
        verify(body, headers(sign(body, SECRET, NOW)), SECRET, now=NOW)


# --- hostile input: every rejection is a WebhookVerificationError ------------------------------------


def mac(t: str, body: bytes = BODY, secret: str | bytes = SECRET) -> str:
    """The genuine v1 for timestamp text ``t``: these headers fail on their form, not their MAC."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, t.encode("utf-8", "surrogatepass") + b"," + body, hashlib.sha256).hexdigest()


HOSTILE_TIMESTAMPS = [
    "²",  # "²".isdigit() is True, int("²") raises
    "١٨٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: int() accepts them
    "\uff11\uff18" + "\uff10" * 8,  # full-width digits
    "9" * 5000,  # int() refuses more than 4300 digits
    str(10**400),  # float(10**400) overflows
    "10^400",
    "1e400",
    "1800000000.0",
    "-1800000000",
    "+1800000000",
    "1_800_000_000",
    "",
    "0x6b49d200",
    "nan",
]


@pytest.mark.parametrize("t", HOSTILE_TIMESTAMPS)
def test_hostile_timestamps_are_rejected_even_with_their_genuine_mac(t: str) -> None:
    with pytest.raises(WebhookVerificationError, match="malformed"):
        verify(BODY, headers(f"t={t},v1={mac(t)}"), SECRET, now=NOW, tolerance=10**400)


HOSTILE_SIGNATURES = [
    "é",
    "é" * 64,
    "²" * 64,
    "",
    mac(str(NOW)).upper(),
    mac(str(NOW))[:-1],
    mac(str(NOW)) + "0",
    mac(str(NOW))[:32] + " " + mac(str(NOW))[32:],
    "zz" * 32,
    "0" * 100_000,
]


@pytest.mark.parametrize("v1", HOSTILE_SIGNATURES, ids=range(len(HOSTILE_SIGNATURES)))
def test_hostile_signatures_are_rejected(v1: str) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers(f"t={NOW},v1={v1}"), SECRET, now=NOW)
    # also beside the genuine one: a header that is not well formed is rejected as a whole
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers(f"t={NOW},v1={mac(str(NOW))},v1={v1}"), SECRET, now=NOW)


@pytest.mark.parametrize(
    "value",
    [
        f"t={NOW},t={NOW},v1={mac(str(NOW))}",  # duplicate timestamp
        f"t={NOW},t={NOW + 1},v1={mac(str(NOW))}",
        f"t={NOW}\x00,v1={mac(str(NOW))}",
        f"t={NOW},v1={mac(str(NOW))},x=é",  # non-ASCII anywhere
        "\x00" * 10,
        "é",
        ",,,,",
        "=,=,=",
        " " * 1000,
        "t=" + "1" * 1_000_000,
        f"T={NOW},V1={mac(str(NOW))}",
    ],
    ids=range(11),
)
def test_malformed_headers_are_rejected(value: str) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers(value), SECRET, now=NOW)


def test_whitespace_and_empty_or_unknown_elements_are_tolerated() -> None:
    value = f" , t = {NOW} ,, v0=whatever, junk ,v1= {mac(str(NOW))} ,"
    assert verify(BODY, headers(value), SECRET, now=NOW) == json.loads(BODY)


@pytest.mark.parametrize(
    "tolerance", [math.nan, math.inf, -math.inf, 0, 0.0, -1, -0.5, True, False, "300", None]
)
def test_tolerance_must_be_a_finite_positive_number(tolerance: object) -> None:
    # a 1970 signature: tolerance=nan once accepted it (every comparison with nan is False)
    old = headers(sign(BODY, SECRET, 0))
    with pytest.raises(ValueError, match="tolerance"):
        verify(BODY, old, SECRET, tolerance=tolerance, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tolerance"):  # the caller's bug: raised whatever the webhook
        verify(b"", {}, SECRET, tolerance=tolerance)  # type: ignore[arg-type]


@pytest.mark.parametrize("tolerance", [0.5, 1, 10**400, 1e308])
def test_any_finite_positive_tolerance_works(tolerance: float) -> None:
    assert verify(BODY, headers(sign(BODY, SECRET, NOW)), SECRET, tolerance=tolerance, now=NOW)
    with pytest.raises(WebhookVerificationError, match="away from now"):
        verify(BODY, headers(sign(BODY, SECRET, NOW - 10**6)), SECRET, tolerance=min(tolerance, 1), now=NOW)


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf, True, "now"])
def test_now_must_be_a_finite_number(now: object) -> None:
    with pytest.raises(ValueError, match="now"):
        verify(BODY, headers(sign(BODY, SECRET, 0)), SECRET, now=now)  # type: ignore[arg-type]


def test_headers_as_bytes_pairs_lists_and_httpx_headers() -> None:
    value = sign(BODY, SECRET, NOW)
    accepted: list[object] = [
        {"x-OpenRouter-SIGNATURE": value.encode()},
        {b"X-OpenRouter-Signature": value},
        {b"x-openrouter-signature": value.encode()},
        [("Content-Type", "application/json"), ("X-OpenRouter-Signature", value)],
        [(b"content-type", b"application/json"), (b"x-openrouter-signature", value.encode())],
        ((b"X-OPENROUTER-SIGNATURE", bytearray(value.encode())),),
        iter([("x-openrouter-signature", value)]),
        httpx.Headers([(b"X-OpenRouter-Signature", value.encode())]),
        httpx.Headers({"x-openrouter-signature": value}),
    ]
    for given_headers in accepted:
        assert verify(BODY, given_headers, SECRET, now=NOW) == json.loads(BODY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "given_headers",
    [
        None,
        "X-OpenRouter-Signature: t=1,v1=2",
        b"X-OpenRouter-Signature",
        42,
        [1, 2],
        [("X-OpenRouter-Signature",)],
        [("X-OpenRouter-Signature", "a", "b")],
        {"X-OpenRouter-Signature": None},
        {"X-OpenRouter-Signature": 1800000000},
        {1: 2, None: "x"},
        {"X-OpenRouter-Signature": b"t=1800000000,v1=\xff"},
        {"X-OpenRouter-Signatur\u0435": "t=1"},  # a Cyrillic e
    ],
    ids=range(12),
)
def test_headers_of_any_shape_are_rejected_cleanly(given_headers: object) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(BODY, given_headers, SECRET, now=NOW)  # type: ignore[arg-type]


def test_repeated_signature_headers_are_rejected() -> None:
    value = sign(BODY, SECRET, NOW)
    for given_headers in (
        [("X-OpenRouter-Signature", value), ("x-openrouter-signature", value)],
        httpx.Headers([("X-OpenRouter-Signature", value), ("X-OpenRouter-Signature", value)]),
        {"X-OpenRouter-Signature": value, "x-openrouter-signature": value},
    ):
        with pytest.raises(WebhookVerificationError, match="more than one"):
            verify(BODY, given_headers, SECRET, now=NOW)


def test_body_may_be_str_bytearray_or_memoryview_and_secret_str_or_bytes() -> None:
    text = '{"type": "video.completed", "note": "café ✓"}'
    value = sign(text.encode(), SECRET, NOW)
    for body in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        for secret in (SECRET, SECRET.encode()):
            assert verify(body, headers(value), secret, now=NOW)["note"] == "café ✓"
    assert sign(text, SECRET.encode(), NOW) == value


@pytest.mark.parametrize("body", [None, 42, {"type": "video.completed"}, ["x"], "\ud800"], ids=range(5))
def test_a_body_of_another_type_is_rejected(body: object) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(body, headers(sign(BODY, SECRET, NOW)), SECRET, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", [None, "", b"", 42, "\udc80"], ids=range(5))
def test_a_missing_or_unusable_secret_is_rejected(secret: object) -> None:
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify(BODY, headers(sign(BODY, "x", NOW)), secret, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [b"[" * 60_000, b'{"a":' * 60_000, b'{"a": 1' + b"0" * 5000 + b"}", b"\xff\xfe{", b"", b"{"],
    ids=["deep-list", "deep-object", "5000-digit-int", "bad-encoding", "empty", "truncated"],
)
def test_a_signed_body_that_is_not_json_is_rejected(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError, match="JSON"):
        verify(body, headers(sign(body, SECRET, NOW)), SECRET, now=NOW)


# --- properties --------------------------------------------------------------------------------------

OTHER_SECRET = b"whsec_someone_else"


HOSTILE_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)  # surrogates included
IN_WINDOW = st.integers(NOW - 299, NOW + 299).map(str)  # within any tolerance drawn below: the MAC decides
HOSTILE_TIMESTAMP = st.one_of(
    IN_WINDOW,
    IN_WINDOW,
    IN_WINDOW,
    IN_WINDOW,
    st.integers(NOW - 400, NOW + 400).map(str),
    st.text("0123456789", max_size=30),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    st.integers(10**15, 10**500).map(str),
    HOSTILE_TEXT,
)
OTHER_MAC, TIMESTAMP = object(), object()  # placeholders, filled in once the timestamp is drawn
HOSTILE_ELEMENT = st.one_of(
    st.sampled_from(["", " ", "v0=abc", "x", "=", "v2=" + "0" * 64]),
    st.just(TIMESTAMP),
    st.just(OTHER_MAC),  # the genuine MAC, made with another secret
    st.text("0123456789abcdef", min_size=64, max_size=64).map("v1={}".format),
    st.text("0123456789abcdefABCDEF", max_size=70).map("v1={}".format),
    st.tuples(st.sampled_from(["t", "v1", "v0", "T", " t", "v1 ", ""]), HOSTILE_TEXT).map("=".join),
    HOSTILE_TEXT,
)
WELL_FORMED_SIGNATURE = st.one_of(
    st.just(OTHER_MAC), st.text("0123456789abcdef", min_size=64, max_size=64).map("v1={}".format)
)
STRUCTURED = st.tuples(
    HOSTILE_TIMESTAMP,
    st.tuples(st.just(TIMESTAMP), WELL_FORMED_SIGNATURE, st.lists(HOSTILE_ELEMENT, max_size=2)).flatmap(
        lambda parts: st.permutations([parts[0], parts[1], *parts[2]])
    ),
    st.sampled_from([",", ", ", " ,", ",,", ";"]),
    st.booleans(),
)
HEADER_NAME = st.sampled_from(["X-OpenRouter-Signature", "x-openrouter-signature", "X-OPENROUTER-SIGNATURE"])
EXTRA_HEADERS = st.lists(st.tuples(HOSTILE_TEXT, st.one_of(HOSTILE_TEXT, st.binary(max_size=20))), max_size=3)
JUNK_HEADERS = st.one_of(st.none(), HOSTILE_TEXT, st.binary(), st.integers(), st.lists(st.integers()))
HOSTILE_BODY = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=80),
    st.just(BODY),
    # one branch in four (not flattened into the one_of): unencodable text, bytearray, or not a body at all
    st.sampled_from(
        [HOSTILE_TEXT, st.builds(bytearray, st.binary(max_size=50)), st.none(), st.integers()]
    ).flatmap(lambda strategy: strategy),
)


def hostile_header_value(draw: st.DrawFn, body: bytes) -> str | bytes:
    """Anything at all, or something close to a real header but without a MAC made with SECRET."""
    kind = draw(st.sampled_from(["text", "bytes", *["structured"] * 8]))
    if kind != "structured":
        return draw(HOSTILE_TEXT) if kind == "text" else draw(st.binary(max_size=120))
    t, elements, separator, as_bytes = draw(STRUCTURED)
    other_mac = hmac.new(OTHER_SECRET, t.encode("utf-8", "surrogatepass") + b"," + body, "sha256").hexdigest()
    fill: dict[object, str] = {TIMESTAMP: f"t={t}", OTHER_MAC: f"v1={other_mac}"}
    value: str = separator.join(fill.get(element, str(element)) for element in elements)
    return value.encode("utf-8", "surrogatepass") if as_bytes else value


def container(draw: st.DrawFn, value: str | bytes) -> object:
    """``value`` as the signature header in one of the shapes verify accepts (or a broken one)."""
    text_name: str = draw(HEADER_NAME)
    name: str | bytes = text_name.encode() if draw(st.booleans()) else text_name
    shape = draw(st.sampled_from(["dict", "pairs", "httpx"] * 3 + ["repeated", "junk"]))
    if shape == "dict":
        mapping: dict[object, object] = dict(draw(EXTRA_HEADERS))
        mapping[name] = value
        return mapping
    if shape == "pairs":
        return [*draw(EXTRA_HEADERS), (name, value)]
    if shape == "httpx":
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        return httpx.Headers([(name if isinstance(name, bytes) else name.encode(), raw)])
    if shape == "repeated":
        return [(name, value), (name, value)]
    return draw(JUNK_HEADERS)


TOLERANCE = st.one_of(st.just(300), st.floats(300, 1e300), st.integers(300, 10**400))


@st.composite
def hostile_request(draw: st.DrawFn) -> tuple[object, object, float]:
    body = draw(HOSTILE_BODY)
    if isinstance(body, str):
        signed_over = body.encode("utf-8", "surrogatepass")
    else:
        signed_over = bytes(body) if isinstance(body, bytes | bytearray) else b""
    return body, container(draw, hostile_header_value(draw, signed_over)), draw(TOLERANCE)


@settings(max_examples=3000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile_request())
def test_any_input_is_rejected_with_webhook_verification_error_only(
    case: tuple[object, object, float],
) -> None:
    body, given_headers, tolerance = case
    # Nothing here carries a MAC made with SECRET: returning would be accepting a forgery, and any other
    # exception would be a 500 in the README's handler.
    with pytest.raises(WebhookVerificationError):
        verify(body, given_headers, SECRET, tolerance=tolerance, now=NOW)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    event=st.dictionaries(st.text(), json_values, max_size=5),
    ensure_ascii=st.booleans(),
    as_text=st.booleans(),
    secret=st.one_of(st.text(min_size=1), st.binary(min_size=1)),
    skew=st.integers(-300, 300),
    shape=st.sampled_from(["dict", "bytes-dict", "pairs", "bytes-pairs", "httpx"]),
    data=st.data(),
)
def test_a_signed_object_verifies_and_any_flipped_byte_fails(
    event: dict[str, object],
    ensure_ascii: bool,
    as_text: bool,
    secret: str | bytes,
    skew: int,
    shape: str,
    data: st.DataObject,
) -> None:
    text = json.dumps(event, ensure_ascii=ensure_ascii)
    raw = text.encode()
    value = sign(raw, secret, NOW + skew)

    def wrap(signature: str) -> object:
        return {
            "dict": {"X-OpenRouter-Signature": signature},
            "bytes-dict": {b"x-openrouter-signature": signature.encode("latin-1")},
            "pairs": [("x-openrouter-signature", signature)],
            "bytes-pairs": [(b"X-OPENROUTER-SIGNATURE", signature.encode("latin-1"))],
            "httpx": httpx.Headers([(b"X-OpenRouter-Signature", signature.encode("latin-1"))]),
        }[shape]

    assert verify(text if as_text else raw, wrap(value), secret, now=NOW) == event  # type: ignore[arg-type]

    flip = data.draw(st.integers(1, 255), label="xor")
    where = data.draw(st.sampled_from(["body", "header"]) if raw else st.just("header"), label="where")
    if where == "body":
        i = data.draw(st.integers(0, len(raw) - 1), label="index")
        tampered = bytearray(raw)
        tampered[i] ^= flip
        with pytest.raises(WebhookVerificationError):
            verify(bytes(tampered), wrap(value), secret, now=NOW)  # type: ignore[arg-type]
    else:  # the timestamp, the signature or the syntax between them
        i = data.draw(st.integers(0, len(value) - 1), label="index")
        tampered_value = value[:i] + chr(ord(value[i]) ^ flip) + value[i + 1 :]
        with pytest.raises(WebhookVerificationError):
            verify(raw, wrap(tampered_value), secret, now=NOW)  # type: ignore[arg-type]
