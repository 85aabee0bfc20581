"""A stand-in asyncio transport for the receive-buffer tests (test_transport.py, test_lending.py)."""

from __future__ import annotations

import asyncio


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
