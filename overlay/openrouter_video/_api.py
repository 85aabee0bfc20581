"""The generated client, imported with the first call that needs it (``client.api``)."""

from openrouter_video_api import AuthenticatedClient


class ApiClient(AuthenticatedClient):
    """The generated :class:`AuthenticatedClient`, with a repr that never shows the API key."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, token='***')"
