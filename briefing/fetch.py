"""Fetch: one HTTP client for every source, with an on-disk HTTP cache (hishel, RFC 9111).

A second run the same morning is answered from the cache while a response is fresh, and otherwise
asks with If-None-Match / If-Modified-Since, so an unchanged feed costs a 304. Bodies are capped,
each response has a wall-clock deadline (a server that trickles a byte at a time cannot hold a
run), redirects are followed a few times, and every failure is one `SourceError` line.

The URLs an operator writes in briefing.toml are trusted. A URL that comes from content (a feed
item's link) and every redirect is fetched only when its host resolves to public addresses: a feed
cannot make briefing read, and publish, a page on the loopback, the private network or a cloud
metadata address, unless its source says `allow_private = true`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from . import __version__
from .errors import SourceError

USER_AGENT = f"briefing/{__version__} (daily news podcast; +https://pypi.org/project/briefing/)"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
CONNECT_SECONDS = 10.0
READ_SECONDS = 20.0  # a whole response, from the request to its last byte
CACHE_BYTES = 256 * 1_000_000
CACHE_TTL_SECONDS = 30 * 86400  # entries not used for this long are dropped
_REDIRECTS = {301, 302, 303, 307, 308}
_LATIN_1 = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"}


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    from_cache: bool

    @property
    def text(self) -> str:
        """The body as text: the charset the server names, else what the bytes look like (UTF-8,
        GB18030). A page sent as Latin-1 whose bytes are valid UTF-8 is UTF-8: servers that name no
        charset of their own are often configured to say ISO-8859-1, which Chinese text never is."""
        charset = self.content_type.partition("charset=")[2].split(";")[0].strip().strip('"').lower() or "utf-8"
        candidates = ("utf-8", "gb18030", charset) if charset in _LATIN_1 else (charset, "utf-8", "gb18030")
        for encoding in candidates:
            try:
                return self.content.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
        return self.content.decode("utf-8", errors="replace")


def check_public(url: str) -> None:
    """Raise SourceError unless every address `url`'s host resolves to is a public one."""
    host = urlsplit(url).hostname
    if not host:
        raise SourceError(f"{url}: not an http(s) address")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except OSError as exc:
        raise SourceError(f"{url}: {host} cannot be resolved ({exc})") from None
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise SourceError(
                f"{url}: not fetched: {host} is {ip}, a loopback, private, link-local or otherwise non-public address "
                "(set allow_private = true on the source to read such links)"
            )


class Fetcher:
    """The one client: deadlines, a User-Agent naming briefing, the HTTP cache in `cache_dir` (kept
    under `max_cache_bytes`). Safe to share between threads: each thread gets its own connection."""

    def __init__(self, cache_dir: Path, timeout: float = READ_SECONDS, max_cache_bytes: int = CACHE_BYTES) -> None:
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.max_cache_bytes = max_cache_bytes
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            import hishel
            import hishel.httpx
            import httpx

            storage = hishel.SqliteStorage(
                database_path=self.cache_dir / "http.sqlite",
                max_stream_size=MAX_BODY_BYTES,
                max_size=self.max_cache_bytes,
                default_ttl=CACHE_TTL_SECONDS,
            )
            # A private cache: it serves and revalidates for this user only, as a browser's does.
            transport = hishel.httpx.CacheTransport(next_transport=httpx.HTTPTransport(), storage=storage, rfc={"shared": False})
            client = httpx.Client(
                transport=transport,
                follow_redirects=False,  # each redirect is checked before it is followed
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_SECONDS)),
                headers={"User-Agent": USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9"},
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def get(self, url: str, trusted: bool = True, allow_private: bool = False, deadline: float | None = None) -> Fetched:
        """GET `url`, following redirects. An untrusted `url` (from content), and every redirect,
        must resolve to public addresses unless `allow_private`. `deadline` (a time.monotonic()
        value) cuts the response short, as the per-response timeout does."""
        import httpx

        ends = time.monotonic() + self.timeout
        ends = min(ends, deadline) if deadline is not None else ends
        try:
            for hop in range(MAX_REDIRECTS + 1):
                if not (trusted and hop == 0) and not allow_private:
                    check_public(url)
                fetched = self._get_once(url, ends)
                if isinstance(fetched, Fetched):
                    return fetched
                url = fetched
            raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects")
        except httpx.TimeoutException:
            raise SourceError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: cannot be fetched ({type(exc).__name__}: {exc})") from None

    def _get_once(self, url: str, ends: float) -> Fetched | str:
        """The response to one request, or the URL it redirects to."""
        if time.monotonic() >= ends:
            raise SourceError(f"{url}: not fetched, the source's time is up")
        with self._client().stream("GET", url) as response:
            if response.status_code in _REDIRECTS and response.headers.get("location"):
                return urljoin(url, response.headers["location"])
            if response.status_code >= 400:
                raise SourceError(f"{url}: the server answered {response.status_code} {response.reason_phrase}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > MAX_BODY_BYTES:
                raise SourceError(f"{url}: the page is {_size(declared)}, over the {_size(MAX_BODY_BYTES)} limit")
            try:
                body = read_within(response, MAX_BODY_BYTES, ends)
            except TooLarge:
                raise SourceError(f"{url}: the page is over the {_size(MAX_BODY_BYTES)} limit") from None
            except TooLate:
                raise SourceError(f"{url}: the answer took longer than {self.timeout:g} s") from None
            caching = response.extensions.get("caching") or {}
            return Fetched(
                str(response.url),
                response.status_code,
                body,
                response.headers.get("content-type", ""),
                bool(caching.get("from_cache")),
            )

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TooLarge(Exception):
    """A response body over its limit."""


class TooLate(Exception):
    """A response still arriving at its deadline."""


def read_within(response: Any, max_bytes: int, ends: float) -> bytes:
    """An httpx streaming response's body, raising TooLarge past `max_bytes` and TooLate past
    `ends` (a time.monotonic() value): a server that trickles or floods cannot hold a run."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge()
        if time.monotonic() > ends:
            raise TooLate()
    return bytes(body)


def _size(count: int) -> str:
    return f"{count / 1_000_000:g} MB" if count >= 1_000_000 else f"{count / 1000:g} kB"
