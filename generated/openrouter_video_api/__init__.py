"""A client library for accessing OpenRouter API"""

# The clients are imported on first use (PEP 562), so that ``openrouter_video_api.spec`` (what the
# overlay checks and types, derived from the spec) loads without httpx. (templates/package_init.py.jinja)
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import AuthenticatedClient, Client


def __getattr__(name: str) -> Any:
    if name not in ("AuthenticatedClient", "Client"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(".client", __name__), name)
    globals()[name] = value
    return value


__all__ = (
    "AuthenticatedClient",
    "Client",
)
