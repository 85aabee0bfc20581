"""API key hygiene: validation when a client is built, and redaction of every text this package emits.

Keys are validated by construction (:func:`clean_key`): surrounding whitespace (a key read from a
mounted secret file ends in a newline) is stripped, and control or non-ASCII characters are refused
with a message that never contains the key. As defence in depth, every key a client was built with
is registered, and :func:`redact` replaces it in exception messages, log records (a filter on the
``openrouter_video``, ``httpx`` and ``httpcore`` loggers) and CLI output, whatever httpx or h11 put
in theirs.

Signed URLs (a job's ``urls``) are secrets too: anyone holding one can download the output until it
expires. Their query strings (the signatures) are registered when a job is read
(:func:`register_signed_url`) and redacted the same way, as is any query string with a
``signature``, ``sig`` or ``token`` parameter.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import Counter, OrderedDict
from typing import Final
from urllib.parse import urlsplit

from .errors import ConfigurationError

#: What a redacted key becomes.
REDACTED: Final = "<redacted API key>"
#: Keys shorter than this are not redacted from text (they would match ordinary words).
_MIN_REDACTED = 8

#: What the query string (the signature) of a signed URL becomes.
REDACTED_SIGNATURE: Final = "<redacted signature>"
#: Signed URLs whose signatures are remembered for redaction (the most recent ones; a signed URL
#: expires, and an older one is only redacted if it has a signature-like parameter).
MAX_SIGNED_URLS: Final = 16384
#: Query strings shorter than this are not redacted (``index=0`` is no secret).
MIN_SIGNED_QUERY: Final = 12

_keys: set[str] = set()
_lock = threading.Lock()
_signed: OrderedDict[str, None] = OrderedDict()
_lengths: Counter[int] = Counter()  # how many registered query strings have each length
_QUERY = re.compile(r"\?([^\s\"'<>#]+)")
_SIGNATURE_PARAMETER = re.compile(r"(?i)(?:^|&)(?:x-[a-z]+-)?(?:signature|sig|token)=")


def clean_key(key: str) -> str:
    """``key`` without surrounding whitespace; :class:`ConfigurationError` for an empty key or one
    with control, space or non-ASCII characters (the message says where, never what)."""
    if not isinstance(key, str):
        raise ConfigurationError(f"the API key must be a str, not {type(key).__name__}")
    stripped = key.strip()
    if not stripped:
        raise ConfigurationError("the API key is empty (or only whitespace)")
    for position, char in enumerate(stripped):
        if not "!" <= char <= "~":
            kind = "non-ASCII" if ord(char) > 0x7F else "control or space"
            raise ConfigurationError(
                f"the API key contains a {kind} character at position {position} of {len(stripped)}; "
                "check the secret it was read from"
            )
    register(stripped)
    return stripped


def register(key: str) -> None:
    """Redact ``key`` from everything this package emits from now on."""
    if len(key) >= _MIN_REDACTED:
        with _lock:
            _keys.add(key)
        _install_filter()


def register_signed_url(url: str) -> None:
    """Redact the query string of the signed URL ``url`` from everything emitted from now on."""
    query = urlsplit(url).query
    if len(query) < MIN_SIGNED_QUERY or query in _signed:
        return
    with _lock:
        if query not in _signed:
            _signed[query] = None
            _lengths[len(query)] += 1
            if len(_signed) > MAX_SIGNED_URLS:
                oldest, _ = _signed.popitem(last=False)
                _lengths[len(oldest)] -= 1
                if not _lengths[len(oldest)]:
                    del _lengths[len(oldest)]
    _install_filter()


def _query(match: re.Match[str]) -> str:
    query = match.group(1)
    if _SIGNATURE_PARAMETER.search(query):
        return "?" + REDACTED_SIGNATURE
    for length in tuple(_lengths):  # a few lengths (one per kind of signed URL): a lookup each
        if query[:length] in _signed:
            return "?" + REDACTED_SIGNATURE + query[length:]
    return match.group(0)


def redact(text: str) -> str:
    """``text`` with every registered key replaced by :data:`REDACTED`, and the query string of
    every signed URL by :data:`REDACTED_SIGNATURE`."""
    for key in tuple(_keys):
        if key in text:
            text = text.replace(key, REDACTED)
    if "?" in text:
        text = _QUERY.sub(_query, text)
    return text


class RedactingFilter(logging.Filter):
    """Replaces registered API keys and signatures in a log record's message (and drops its
    arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _keys or _signed:
            try:
                message = record.getMessage()
            except Exception:  # a broken record: leave it to logging's own error handling
                return True
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
        return True


_FILTER: Final = RedactingFilter()
#: Logger filters apply only to records logged on that very logger, so every one is named.
_LOGGERS: Final = (
    "openrouter_video",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


@functools.cache
def _install_filter() -> None:
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)  # once: addFilter skips a filter already there
