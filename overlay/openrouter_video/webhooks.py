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

The body and headers come from whoever reached your endpoint: whatever they hold (any type,
characters or length), a request without a valid signature raises :class:`WebhookVerificationError`
and nothing else. Only the caller's own mistakes (a bad ``tolerance`` or ``now``) are a ``ValueError``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import numbers
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from .errors import WebhookVerificationError

__all__ = ["SIGNATURE_HEADER", "HeadersLike", "WebhookVerificationError", "sign", "verify"]

#: The header that carries the signature.
SIGNATURE_HEADER = "X-OpenRouter-Signature"

#: What :func:`verify` accepts as ``headers``: any mapping (``dict``, ``httpx.Headers``, a web
#: framework's headers) or an iterable of ``(name, value)`` pairs; names and values ``str`` or ``bytes``.
HeadersLike: TypeAlias = (
    Mapping[str, str | bytes] | Mapping[bytes, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]
)

_HEADER_NAME = SIGNATURE_HEADER.lower()
# A Unix time in seconds has 10 digits until the year 2286; 20 digits is far beyond any clock, and
# keeps int() away from its digit limit and the difference with now inside a float.
_TIMESTAMP = re.compile(r"[0-9]{1,20}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")  # a SHA-256 hexdigest, as sign() writes it


def _bytes(value: object, buffers: tuple[type[Any], ...] = (bytes, bytearray, memoryview)) -> bytes | None:
    """``value`` as bytes: a ``str`` as UTF-8, or one of ``buffers``; else (or a lone surrogate) ``None``."""
    if isinstance(value, str):
        try:
            return value.encode()
        except UnicodeEncodeError:
            return None
    return bytes(value) if isinstance(value, buffers) else None


def _digest(key: bytes, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, timestamp.encode() + b"," + body, hashlib.sha256).digest()


def sign(body: bytes | str, secret: str | bytes, timestamp: int | None = None) -> str:
    """The ``X-OpenRouter-Signature`` value for ``body`` (for tests and fake senders); ``body`` and
    ``secret`` may be ``str`` (signed as UTF-8) or ``bytes``, as in :func:`verify`."""
    key = _bytes(secret, (bytes, bytearray))
    if not key:
        raise ValueError("the webhook secret must be a non-empty str (UTF-8) or bytes")
    raw = _bytes(body)
    if raw is None:
        raise ValueError("the body must be bytes or a str encodable as UTF-8")
    t = str(int(time.time()) if timestamp is None else int(timestamp))
    return f"t={t},v1={_digest(key, t, raw).hex()}"


def _finite(value: object, name: str) -> float:
    """``value`` as a float, if it is a finite real number (not a bool); else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number, not {type(value).__name__}")
    try:
        result = float(value)
    except OverflowError:  # a finite int beyond the float range
        if isinstance(value, numbers.Integral) and int(value) > 0:
            return sys.float_info.max
        raise ValueError(f"{name} is out of range") from None
    if not math.isfinite(result):
        raise ValueError(f"{name} must be a finite number, not {result}")
    return result


def _latin1(value: object) -> object:
    """``bytes`` decoded as Latin-1 (a header's encoding); anything else as it is."""
    return bytes(value).decode("latin-1") if isinstance(value, bytes | bytearray) else value


def _is_signature_name(name: object) -> bool:
    name = _latin1(name)
    return isinstance(name, str) and name.isascii() and name.lower() == _HEADER_NAME


def _header_pairs(headers: object) -> Iterable[Any]:
    multi_items = getattr(headers, "multi_items", None)
    if callable(multi_items):  # httpx.Headers: items() joins repeated headers with ", "
        return multi_items()  # type: ignore[no-any-return]
    items = getattr(headers, "items", None)
    if callable(items):  # any mapping, and mapping-like objects that are not registered Mappings (werkzeug)
        return items()  # type: ignore[no-any-return]
    if isinstance(headers, Iterable):
        return headers
    raise TypeError


def _signature_header(headers: object) -> str:
    """The one ``X-OpenRouter-Signature`` value, as ASCII text."""
    try:
        if headers is None or isinstance(headers, str | bytes | bytearray | memoryview):
            raise TypeError
        values = [value for name, value in _header_pairs(headers) if _is_signature_name(name)]
    except (TypeError, ValueError):  # not iterable, or an item that is not a pair
        raise WebhookVerificationError("headers must be a mapping or (name, value) pairs") from None
    if not values:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    if len(values) > 1:
        raise WebhookVerificationError(f"more than one {SIGNATURE_HEADER} header")
    value = _latin1(values[0])
    if not isinstance(value, str) or not value.isascii():
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    if not value.strip():
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    return value


def _parse(value: str) -> tuple[str, list[bytes]]:
    """The timestamp (ASCII digits) and the ``v1`` signatures (32 bytes each) of an ASCII header."""
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for element in value.split(","):
        key, sep, item = element.partition("=")
        key, item = key.strip(), item.strip()
        if not sep:
            continue  # empty or unknown elements are ignored
        if key == "t":
            timestamps.append(item)
        elif key == "v1":
            if not _SIGNATURE.fullmatch(item):
                raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header: bad v1 value")
            signatures.append(bytes.fromhex(item))
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not signatures:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    return timestamps[0], signatures


def verify(
    body: bytes | bytearray | memoryview | str,
    headers: HeadersLike,
    secret: str | bytes,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check the webhook's signature and return its parsed JSON event.

    Args:
        body: The raw request body, exactly as received: ``bytes`` (or ``bytearray``,
            ``memoryview``), or ``str`` (checked as its UTF-8 encoding).
        headers: The request headers (:data:`HeadersLike`). The name is matched case-insensitively;
            exactly one such header must be present.
        secret: Your webhook secret, ``str`` (used as UTF-8) or ``bytes``.
        tolerance: The largest accepted distance, in seconds, between the signature's timestamp and
            now: a finite positive ``int`` or ``float``.
        now: The current Unix time (for tests); default :func:`time.time`.

    Raises:
        WebhookVerificationError: for every rejected webhook, whatever the body and headers hold:
            the header is missing, repeated or malformed (a ``t`` that is not 1 to 20 ASCII digits, a
            ``v1`` that is not 64 lower-case hex digits, non-ASCII text), the timestamp is further than
            ``tolerance`` from now, no signature matches, the body is not a JSON object, or the
            secret is empty or not ``str``/``bytes``.
        ValueError: ``tolerance`` is not a finite positive number (``nan``, ``inf``, ``0``, a negative
            number, a bool, a string), or ``now`` is not a finite number: raised whatever the webhook holds.
    """
    tol = _finite(tolerance, "tolerance")
    if tol <= 0:
        raise ValueError(f"tolerance must be positive, not {tol:g}")
    current = time.time() if now is None else _finite(now, "now")

    key = _bytes(secret, (bytes, bytearray))
    if not key:
        raise WebhookVerificationError("no usable webhook secret given (a non-empty str or bytes)")
    raw = _bytes(body)
    if raw is None:
        raise WebhookVerificationError("the body must be bytes or a str encodable as UTF-8")
    timestamp, signatures = _parse(_signature_header(headers))

    distance = abs(current - int(timestamp))  # at most 20 digits: no overflow
    if not distance <= tol:
        raise WebhookVerificationError(
            f"signature timestamp is {distance:g} s away from now, more than {tol:g} s"
        )
    expected = _digest(key, timestamp, raw)
    # a list, not any(): compare them all, so the time taken says nothing of which matched
    if not any([hmac.compare_digest(expected, candidate) for candidate in signatures]):
        raise WebhookVerificationError("signature does not match")
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8/16/32, or nested too deep
        raise WebhookVerificationError("body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("body is not a JSON object")
    return event
