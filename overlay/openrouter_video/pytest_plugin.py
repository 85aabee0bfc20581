"""A pytest plugin (registered through the ``pytest11`` entry point) with the ``openrouter_fake`` fixture.

Install ``openrouter-video`` in your test environment and use it::

    def test_my_service(openrouter_fake, tmp_path):
        openrouter_fake.add_video("job-1", b"...")
        my_service.fetch("job-1", base_url=openrouter_fake.base_url, api_key=openrouter_fake.api_key)
        assert openrouter_fake.requests[0].path.endswith("/videos/job-1/content")
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import FakeOpenRouter


@pytest.fixture
def openrouter_fake() -> Iterator[FakeOpenRouter]:
    """A running :class:`~openrouter_video.testing.FakeOpenRouter` on 127.0.0.1, stopped afterwards."""
    with FakeOpenRouter() as fake:
        yield fake
