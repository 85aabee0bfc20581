"""Bounded reading of the small answers (JSON results and error bodies), compressed or not."""

from __future__ import annotations

import zlib
from typing import Any

from ..errors import UnexpectedContentError

__all__ = ["BoundedBody"]


class BoundedBody:
    """Collects an answer's body from its raw (still encoded) chunks, decoding ``gzip`` / ``deflate``
    itself, and stops at ``limit`` decoded bytes, whatever the compression ratio: a 200 KB gzip
    bomb never becomes 620 MiB in memory. Other encodings are refused (they are never asked for).

    Attributes:
        data: The decoded bytes so far (at most ``limit`` + 1).
        truncated: The body is larger than ``limit`` (reading should stop).
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.truncated = False
        encoding = (content_encoding or "identity").strip().lower()
        if encoding in ("", "identity"):
            self._decoder: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, by header
        else:
            raise UnexpectedContentError(
                f"unsupported Content-Encoding {encoding!r}", content_type=None, snippet=""
            )

    def feed(self, raw: bytes) -> bool:
        """Take a raw chunk; False once reading should stop (larger than the limit, or a corrupt
        compressed stream: what decoded before it is kept, an error body is best effort)."""
        room = self.limit + 1 - len(self.data)
        if self._decoder is None:
            self.data += raw[:room]
        else:
            try:
                self.data += self._decoder.decompress(raw, room)
            except zlib.error:
                return False
        self.truncated = len(self.data) > self.limit
        return not self.truncated

    def body(self) -> bytes:
        """The decoded body, cut at the limit."""
        return bytes(self.data[: self.limit])
