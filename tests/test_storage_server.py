"""The nginx storage fixture itself (helpers_storage.NginxStorage): signed URLs, ranges, ETags, S3's
refusals, Authorization refused and recorded, the redirect, the access log."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest
from helpers_storage import EXPIRED_BODY, SIGNATURE_BODY, NginxStorage

if shutil.which("nginx") is None:
    pytest.skip("nginx is not installed", allow_module_level=True)

DATA = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture(scope="module")
def storage() -> Iterator[NginxStorage]:
    with NginxStorage() as store:
        store.put("video.mp4", DATA)
        yield store


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as c:
        yield c


def later() -> float:
    return time.time() + 300


def test_valid_url_serves_the_object_and_ranges(storage: NginxStorage, client: httpx.Client) -> None:
    url = storage.url("video.mp4", later())
    full = client.get(url)
    assert full.status_code == 200
    assert full.content == DATA
    assert full.headers["accept-ranges"] == "bytes"
    etag = full.headers["etag"]
    assert etag and full.headers["last-modified"]

    part = client.get(url, headers={"Range": "bytes=5-"})
    assert part.status_code == 206
    assert part.content == DATA[5:]
    assert part.headers["content-range"] == f"bytes 5-{len(DATA) - 1}/{len(DATA)}"
    assert part.headers["etag"] == etag

    entries = storage.requests()  # the lines are there right after the responses
    assert [(e["method"], e["uri"], e["status"], e["range"]) for e in entries[-2:]] == [
        ("GET", url.removeprefix(storage.base_url), 200, None),
        ("GET", url.removeprefix(storage.base_url), 206, "bytes=5-"),
    ]
    assert not any(e["authorization"] for e in entries[-2:])


def test_urllib_reads_a_range(storage: NginxStorage) -> None:
    request = urllib.request.Request(storage.url("video.mp4", later()), headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 206
        assert response.read() == DATA[:10]


def test_expired_url_is_403_with_s3s_body(storage: NginxStorage, client: httpx.Client) -> None:
    response = client.get(storage.url("video.mp4", time.time() - 10))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/xml"
    assert "Request has expired" in response.text
    assert response.text == EXPIRED_BODY


def test_bad_signature_is_403_signature_does_not_match(storage: NginxStorage) -> None:
    url = storage.url("video.mp4", later())
    md5 = url.split("md5=")[1].split("&")[0]
    bad = url.replace(md5, ("A" if md5[0] != "A" else "B") + md5[1:])
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=5)
    assert caught.value.code == 403
    body = caught.value.read().decode()
    assert "<Code>SignatureDoesNotMatch</Code>" in body
    assert body == SIGNATURE_BODY


def test_unsigned_and_missing(storage: NginxStorage, client: httpx.Client) -> None:
    assert client.get(f"{storage.base_url}/o/video.mp4").status_code == 403
    missing = client.get(storage.url("nothing.mp4", later()))
    assert missing.status_code == 404
    assert "<Code>NoSuchKey</Code>" in missing.text


def test_authorization_is_refused_and_recorded(storage: NginxStorage, client: httpx.Client) -> None:
    url = storage.url("video.mp4", later())
    response = client.get(url, headers={"Authorization": "Bearer x"})
    assert response.status_code == storage.auth_status == 599
    assert response.content != DATA
    seen = storage.authorization_seen()
    assert seen[-1] == url.removeprefix(storage.base_url)
    assert all("Bearer" not in uri for uri in seen)
    assert storage.requests()[-1]["authorization"] is True

    redirect = client.get(storage.redirect_url("video.mp4", later()), headers={"Authorization": "Bearer x"})
    assert redirect.status_code == 599
    assert storage.authorization_seen()[-1].startswith("/r/video.mp4?")


def test_redirect_url_answers_302_to_the_signed_url(storage: NginxStorage, client: httpx.Client) -> None:
    expires = later()
    response = client.get(storage.redirect_url("video.mp4", expires))
    assert response.status_code == 302
    assert response.headers["location"] == storage.url("video.mp4", expires)
    followed = client.get(storage.redirect_url("video.mp4", expires), follow_redirects=True)
    assert followed.status_code == 200
    assert followed.content == DATA


def test_put_same_size_changes_the_etag(storage: NginxStorage, client: httpx.Client) -> None:
    url = storage.url("replaced.bin", later())
    storage.put("replaced.bin", b"a" * 100)
    first = client.get(url)
    storage.put("replaced.bin", b"b" * 100)
    second = client.get(url)
    assert (first.content, second.content) == (b"a" * 100, b"b" * 100)
    assert first.headers["etag"] != second.headers["etag"]
    assert first.headers["last-modified"] != second.headers["last-modified"]
    stale = client.get(url, headers={"Range": "bytes=50-", "If-Range": first.headers["etag"]})
    assert stale.status_code == 200  # If-Range with the old ETag: the whole new object
    assert stale.content == b"b" * 100


def test_rate_limits_a_download() -> None:
    with NginxStorage(rate=1000) as slow:
        slow.put("slow.bin", bytes(100_000))
        received = 0
        with httpx.Client(trust_env=False, timeout=httpx.Timeout(5, read=0.3)) as c:
            with c.stream("GET", slow.url("slow.bin", later())) as response:
                assert response.status_code == 200
                assert response.headers["content-length"] == "100000"
                with pytest.raises(httpx.ReadTimeout):
                    for chunk in response.iter_raw():
                        received += len(chunk)
        assert 0 < received < 100_000  # cut mid-way: nginx sends about 1000 bytes a second
