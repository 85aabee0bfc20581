"""openrouter-video: get generated videos out of OpenRouter's Video Generation API reliably.

The generated low-level client lives in :mod:`openrouter_video_api` (never edited by hand); this
package is the hand-written layer on top of it.
"""

from openrouter_video_api import AuthenticatedClient, Client
from openrouter_video_api.api.video_generation import list_videos_content

from ._config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL

__version__ = "0.1.0"

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "AuthenticatedClient",
    "Client",
    "__version__",
    "list_videos_content",
]
