"""A retrying httpx transport, so that calls made through the generated client get status retries.

It serves both the generated client's :class:`httpx.Client` and its :class:`httpx.AsyncClient`
(openapi-python-client passes the same ``httpx_args`` to both). Downloads bypass it (they carry the
``NO_TRANSPORT_RETRY`` extension) because the download core retries and resumes by itself.

What is retried:

* ``GET``/``HEAD``/``OPTIONS``: the policy's statuses and any connection error or timeout;
* any other method (e.g. ``POST /videos``, which creates a paid job): only a failure to connect,
  when the request cannot have reached the server, and 429 responses.

A retry never starts when its wait would end past the call's deadline (the request extension
:data:`DEADLINE`): the last answer is returned instead.

Proxies: each request goes through the inner transport :class:`Routes` picks for its URL, so that
retries apply whichever way it goes (httpx itself ignores the environment's proxies as soon as a
transport is given, and its ``proxy=`` mounts bypass the transport).
"""

from __future__ import annotations

import functools
import ssl
import urllib.request
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import httpx

from .. import fastio
from ..engine.retry import RetryPolicy
from ._async.retrying import AsyncRetrying
from ._sync.retrying import Retrying

T = TypeVar("T")


def _bypassed(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (comma-separated hosts, domains, ``host:port`` or ``*``) covers ``url``."""
    host = url.host.lower()
    for entry in filter(None, (e.strip().lower() for e in no_proxy.split(","))):
        if entry == "*":
            return True
        name, _, port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        if port and str(url.port or (443 if url.scheme == "https" else 80)) != port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


class Routes(Generic[T]):
    """Picks the inner transport for a URL: direct, or through a proxy (explicit or from the
    environment, ``NO_PROXY`` honoured); one transport per proxy, made by ``make(proxy_or_None)``."""

    def __init__(self, make: Callable[[str | None], T], *, proxy: str | None, trust_env: bool) -> None:
        self._make = make
        self._explicit = proxy
        self._env = urllib.request.getproxies_environment() if proxy is None and trust_env else {}
        self.transports: dict[str | None, T] = {}

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL that ``url`` goes through, or ``None``."""
        if self._explicit is not None:
            return self._explicit
        if not self._env or _bypassed(url, self._env.get("no", "")):
            return None
        return self._env.get(url.scheme) or self._env.get("all")

    def pick(self, url: httpx.URL) -> T:
        """The inner transport for ``url`` (made on first use)."""
        if (proxy := self.proxy_for(url)) not in self.transports:
            self.transports[proxy] = self._make(proxy)
        return self.transports[proxy]


class RetryTransport(Retrying, AsyncRetrying, httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps httpx's own transports and retries per :class:`RetryPolicy`.

    Args:
        policy: The retry policy (its ``sleep`` is used for the waits).
        verify: TLS verification for the default inner transports, as for httpx: True, a CA bundle
            path, an :class:`ssl.SSLContext`, or False.
        transport: The sync transport to wrap, for every request (default: per route, this
            package's own transport of :mod:`.fastio` for direct requests, httpx's for each proxy).
        async_transport: The async one (default: per route, see ``transport``).
        proxy: A proxy URL for every request (``http://``, ``https://``; ``socks5://`` needs the
            ``socksio`` package); overrides the environment.
        trust_env: Use ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (and their
            lower-case forms), as curl and httpx do.
        limits: Connection pool limits of the default inner transports.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.verify = verify
        self.limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._transport = transport
        self._async_transport = async_transport
        # Factories that do not refer back to this object (a bound method would make a reference
        # cycle that keeps every inner transport, and its TLS contexts, alive until the cyclic GC).
        self.routes: Routes[httpx.BaseTransport] = Routes(
            functools.partial(_make, False, verify, self.limits), proxy=proxy, trust_env=trust_env
        )
        self.async_routes: Routes[httpx.AsyncBaseTransport] = Routes(
            functools.partial(_make, True, verify, self.limits), proxy=proxy, trust_env=trust_env
        )

    def prepare(self, url: httpx.URL) -> None:
        """Build the inner transports ``url`` will use now (creating a TLS context takes ~20 ms)."""
        if self._transport is None:
            self.routes.pick(url)
        if self._async_transport is None:
            self.async_routes.pick(url)


def _make(
    is_async: bool, verify: ssl.SSLContext | str | bool, limits: httpx.Limits, proxy: str | None
) -> Any:
    """The inner transport of one route: this package's own for direct requests, httpx's for a proxy."""
    if proxy is None:
        return (fastio.async_transport if is_async else fastio.sync_transport)(verify, limits)
    kind = httpx.AsyncHTTPTransport if is_async else httpx.HTTPTransport
    return kind(verify=fastio.ssl_context(verify), limits=limits, proxy=proxy)


def abandon(transport: RetryTransport) -> bool:
    """Close the async inner transports' connections now, without awaiting (their client was dropped
    unclosed); whether there were any."""
    inners = [t for t in transport.async_routes.transports.values() if isinstance(t, fastio.AsyncTransport)]
    return any([inner.abandon() for inner in inners])
