"""Verify OpenRouter's video webhooks (the ``callback_url`` notifications).

Each webhook carries ``X-OpenRouter-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is the
HMAC-SHA256, keyed with your webhook secret, of ``"<t>,<raw body>"``. Verify the raw bytes you
received, before parsing them::

    from openrouter_video.webhooks import verify, WebhookVerificationError

    try:
        event = verify(request.body, request.headers, secret=WEBHOOK_SECRET)
    except WebhookVerificationError:
        return 400

The comparison is constant-time, a timestamp more than ``tolerance`` seconds away from now (in the
past or the future) is rejected, and several ``v1`` values (during a secret rotation) are accepted
if any matches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import WebhookVerificationError

__all__ = ["SIGNATURE_HEADER", "WebhookVerificationError", "sign", "verify"]

#: The header that carries the signature.
SIGNATURE_HEADER = "X-OpenRouter-Signature"


def _mac(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, timestamp.encode() + b"," + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str | bytes, timestamp: int | None = None) -> str:
    """The ``X-OpenRouter-Signature`` value for ``body`` (for tests and fake senders)."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    return f"t={t},v1={_mac(secret, t, body)}"


def _header(headers: Mapping[str, str] | Any) -> str | None:
    value = headers.get(SIGNATURE_HEADER)
    if value is None:  # a plain dict with other capitalisation
        lowered = {str(k).lower(): v for k, v in dict(headers).items()}
        value = lowered.get(SIGNATURE_HEADER.lower())
    return value


def verify(
    body: bytes,
    headers: Mapping[str, str] | Any,
    secret: str | bytes,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check the webhook's signature and return its parsed JSON event.

    Args:
        body: The raw request body, exactly as received.
        headers: The request headers (any mapping; the name is matched case-insensitively).
        secret: Your webhook secret.
        tolerance: The largest accepted distance, in seconds, between the signature's timestamp and
            now.
        now: The current Unix time (for tests); default :func:`time.time`.

    Raises:
        WebhookVerificationError: the header is missing or malformed, the timestamp is stale or in
            the future beyond ``tolerance``, no signature matches, or the body is not a JSON object.
    """
    if not secret:
        raise WebhookVerificationError("no webhook secret given")
    value = _header(headers)
    if not value:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t":
            timestamp = item
        elif key == "v1" and item:
            signatures.append(item)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            f"signature timestamp {timestamp} is more than {tolerance:g} s away from now"
        )
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookVerificationError("signature does not match")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("body is not a JSON object")
    return event
