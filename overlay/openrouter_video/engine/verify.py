"""Verification of a downloaded body, without I/O of its own: content sniffing (:func:`sniff`), the
ISO-BMFF (MP4) box walk (:func:`walk_boxes`) and the digests servers send (:func:`expected_digests`).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

#: Bytes of a body's start that :func:`sniff` needs to decide.
SNIFF_BYTES: Final = 512
#: Top-level boxes walked at most (a real MP4 has a handful; fragmented ones a few thousand).
MAX_BOXES: Final = 1_000_000

#: Top-level ISO-BMFF box types that may start a file (ISO/IEC 14496-12 and common extensions).
_LEADING_BOXES: Final = frozenset(
    {b"ftyp", b"styp", b"moov", b"moof", b"mdat", b"free", b"skip", b"wide", b"pdin", b"sidx", b"emsg"}
)
#: EBML's magic number: Matroska and WebM files start with it.
_WEBM: Final = b"\x1a\x45\xdf\xa3"
_MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!doctype|<html|<head|<body|<\?xml|<!--|<title|<script|<[a-z]+[\s>/]|[{\[])",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NOT_VIDEO_TYPE = re.compile(r"^\s*(text/|application/(json|xml|xhtml\+xml|problem\+json)\b)", re.I)

SniffResult = Literal["video", "not-video", "unknown"]


def looks_like_bmff(head: bytes) -> bool:
    """Whether ``head`` starts with a plausible top-level ISO-BMFF box header."""
    if len(head) < 8 or head[4:8] not in _LEADING_BOXES:
        return False
    size = struct.unpack(">I", head[:4])[0]
    return size in (0, 1) or size >= 8


def _is_text(head: bytes) -> bool:
    """Whether ``head`` is UTF-8 text without control characters (a cut last character allowed)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not _CONTROL.search(text)


def sniff(head: bytes, content_type: str | None) -> SniffResult:
    """Judge a 2xx body by its first bytes (at least :data:`SNIFF_BYTES`, unless it is shorter).

    ``"not-video"`` for HTML, XML or JSON text (whatever the Content-Type) and for a text/JSON/XML
    Content-Type whose body is not a known video container; ``"video"`` for an ISO-BMFF or WebM
    start (whatever the Content-Type); ``"unknown"`` otherwise (binary data served as a video).
    """
    if looks_like_bmff(head) or head.startswith(_WEBM):
        return "video"
    if _MARKUP.match(head[:SNIFF_BYTES]) and _is_text(head[:SNIFF_BYTES]):
        return "not-video"
    if content_type and _NOT_VIDEO_TYPE.match(content_type):
        return "not-video"
    return "unknown"


@dataclass(frozen=True, slots=True)
class BoxWalk:
    """The outcome of :func:`walk_boxes`.

    Attributes:
        kind: ``"not-bmff"`` (the file does not start with a box: not judged), ``"complete"`` (the
            chain ends exactly at the end of the file and holds ``moov`` or ``moof``, and ``mdat``)
            or ``"incomplete"``.
        detail: Why it is incomplete (for messages).
        boxes: The top-level box types seen, in order.
        fragmented: It holds ``moof`` boxes: a file cut at a fragment boundary also walks as
            complete.
        open_ended: A box has size 0 ("to the end of the file"): a file cut anywhere inside it also
            walks as complete.
    """

    kind: Literal["not-bmff", "complete", "incomplete"]
    detail: str = ""
    boxes: tuple[str, ...] = ()
    fragmented: bool = False
    open_ended: bool = False

    @property
    def conclusive(self) -> bool:
        """A complete walk that a cut could not have produced at a box boundary it knows of (not
        fragmented, no box to the end of the file). Even then, a cut between two top-level boxes
        that each look whole (two ``mdat`` boxes) walks as complete: the walk is a check, and a
        proof only where nothing better is available."""
        return self.kind == "complete" and not self.fragmented and not self.open_ended


def walk_boxes(read_at: Callable[[int, int], bytes], size: int) -> BoxWalk:
    """Walk the top-level boxes of a file of ``size`` bytes, reading only their headers (16 bytes
    each) with ``read_at(offset, n)``."""
    head = read_at(0, 16)
    if not looks_like_bmff(head):
        return BoxWalk("not-bmff")
    offset = 0
    seen: list[str] = []
    has_movie = has_media = fragmented = open_ended = False
    while offset < size:
        if len(seen) >= MAX_BOXES:
            return BoxWalk("incomplete", "too many top-level boxes", tuple(seen[:20]))
        header = read_at(offset, 16)
        if len(header) < 8:
            return BoxWalk("incomplete", f"a box header at byte {offset} is cut", tuple(seen))
        box_size, kind = struct.unpack(">I4s", header[:8])
        name = kind.decode("latin-1")
        minimum = 8
        if box_size == 1:
            if len(header) < 16:
                return BoxWalk("incomplete", f"the 64-bit size of box {name!r} is cut", tuple(seen))
            box_size = struct.unpack(">Q", header[8:16])[0]
            minimum = 16
        if box_size == 0:
            box_size = size - offset
            open_ended = True
        if box_size < minimum:
            return BoxWalk("incomplete", f"box {name!r} at byte {offset} has size {box_size}", tuple(seen))
        seen.append(name)
        has_movie = has_movie or kind in (b"moov", b"moof")
        has_media = has_media or kind == b"mdat"
        fragmented = fragmented or kind == b"moof"
        offset += box_size
    if offset > size:
        detail = f"box {seen[-1]!r} ends at byte {offset}, after the end of the file ({size} bytes)"
        return BoxWalk("incomplete", detail, tuple(seen))
    missing = "" if has_media else "no 'mdat' box"
    missing = missing if has_movie else "no 'moov' or 'moof' box"
    return BoxWalk("incomplete" if missing else "complete", missing, tuple(seen), fragmented, open_ended)


_RFC9530 = {"sha-256": "sha256", "sha-512": "sha512", "md5": "md5"}
_LENGTHS = {"md5": 16, "sha256": 32, "sha512": 64}
_DICT_MEMBER = re.compile(r"\s*([a-z0-9_*.-]+)\s*=\s*:([A-Za-z0-9+/=]*):\s*(?:;[^,]*)?")


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def expected_digests(headers: Mapping[str, str]) -> dict[str, bytes]:
    """The digests of the whole content that a 200's ``headers`` announce, by hashlib name:
    ``Content-MD5``, ``Repr-Digest`` / ``Content-Digest`` (RFC 9530; for a 200 both describe the
    file), ``x-goog-hash`` (md5) and ``x-amz-checksum-sha256``; malformed values are ignored. (A
    206's digests are not used: ``Content-*`` ones describe only the part.)"""
    found: dict[str, bytes] = {}

    def add(name: str, raw: bytes | None) -> None:
        if raw is not None and len(raw) == _LENGTHS[name]:
            found.setdefault(name, raw)

    for header in ("repr-digest", "content-digest"):
        for member in (headers.get(header) or "").split(","):
            match = _DICT_MEMBER.fullmatch(member)
            if match and match.group(1).lower() in _RFC9530:
                add(_RFC9530[match.group(1).lower()], _b64(match.group(2)))
    if (value := headers.get("content-md5")) is not None:
        add("md5", _b64(value))
    for part in (headers.get("x-goog-hash") or "").split(","):
        algorithm, _, value = part.strip().partition("=")
        if algorithm.lower() == "md5":
            add("md5", _b64(value))
    if (value := headers.get("x-amz-checksum-sha256")) is not None:
        add("sha256", _b64(value))
    return found


def container_suffix(head: bytes) -> str:
    """The file name suffix for a video that starts with ``head`` (its first 64 bytes or so):
    ``.webm`` (or ``.mkv``) for EBML, ``.mov`` for QuickTime (``ftyp`` brand ``qt  ``), else ``.mp4``."""
    if head.startswith(_WEBM):
        return ".webm" if b"webm" in head[:64] else ".mkv"
    if head[4:8] == b"ftyp" and head[8:12] == b"qt  ":
        return ".mov"
    return ".mp4"
