"""API key hygiene: validation when a client is built, and redaction of every text this package emits.

Keys are validated by construction (:func:`clean_key`): surrounding whitespace (a key read from a
mounted secret file ends in a newline) is stripped, and control or non-ASCII characters are refused
with a message that never contains the key. As defence in depth, every key a client was built with
is registered, and :func:`redact` replaces it in exception messages, log records (a filter on the
``openrouter_video``, ``httpx`` and ``httpcore`` loggers) and CLI output, whatever httpx or h11 put
in theirs.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from .errors import ConfigurationError

#: What a redacted key becomes.
REDACTED: Final = "<redacted API key>"
#: Keys shorter than this are not redacted from text (they would match ordinary words).
_MIN_REDACTED = 8

_keys: set[str] = set()
_lock = threading.Lock()


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


def redact(text: str) -> str:
    """``text`` with every registered key replaced by :data:`REDACTED`."""
    for key in tuple(_keys):
        if key in text:
            text = text.replace(key, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Replaces registered API keys in a log record's message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _keys:
            try:
                message = record.getMessage()
            except Exception:  # a broken record: leave it to logging's own error handling
                return True
            cleaned = redact(message)
            if cleaned != message or (record.exc_text and any(k in record.exc_text for k in _keys)):
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
_installed = False


def _install_filter() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)  # once: addFilter skips a filter already there
