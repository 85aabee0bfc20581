"""openrouter_video.webhooks.verify: valid, tampered, wrong secret, stale, future, missing header."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
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
