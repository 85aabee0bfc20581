"""Configuration defaults shared by the clients and the CLI."""

from __future__ import annotations

#: The server in openapi.yaml (``servers[0].url``); tests/test_packaging.py keeps the two in step.
DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
#: Environment variable read for the API key when none is passed.
API_KEY_ENV = "OPENROUTER_API_KEY"
#: Environment variable read for the base URL when none is passed.
BASE_URL_ENV = "OPENROUTER_BASE_URL"
