"""Every request extension this package sets on an :class:`httpx.Request`, in one place.

httpx passes ``request.extensions`` through to the transport untouched; these keys are how the
package's own layers talk to each other about one request.
"""

from __future__ import annotations

from typing import Final

#: The download drivers retry by themselves: :class:`~.io.transport.RetryTransport` must not.
NO_TRANSPORT_RETRY: Final = "openrouter_video.no_retry"
#: The ``RetryPolicy.clock`` time a JSON call must end by: the transport starts no retry whose wait
#: would end past it.
DEADLINE: Final = "openrouter_video.deadline"
#: The ``time.monotonic()`` by which the whole request must be answered and its body read. Every wait
#: of :mod:`.fastio` (connect, TLS, write, each read of the head and the body) is capped by it, so a
#: server that trickles a header line at a time cannot outlast it (a read timeout alone restarts with
#: every line).
UNTIL: Final = "openrouter_video.until"
#: The body's chunks may be lent receive buffers (see :mod:`.fastio.lent`).
LEND: Final = "openrouter_video.lend"
#: A response extension of :mod:`.fastio`: its connection's :func:`~.fastio.tcp.least_rtt` reader.
PATH_RTT: Final = "openrouter_video.path_rtt"
