"""Fetch: one HTTP client for every source, with an on-disk HTTP cache (hishel, RFC 9111).

A second run the same morning is answered from the cache while a response is fresh, and otherwise
asks with If-None-Match / If-Modified-Since, so an unchanged feed costs a 304. Bodies are capped,
redirects are followed a few times, and every failure is one `SourceError` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import SourceError

USER_AGENT = f"briefing/{__version__} (daily news podcast; +https://pypi.org/project/briefing/)"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
CONNECT_SECONDS = 10.0
READ_SECONDS = 20.0


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    from_cache: bool

    @property
    def text(self) -> str:
        """The body as text: the charset the server names, else what the bytes look like (UTF-8, GB18030)."""
        charset = self.content_type.partition("charset=")[2].split(";")[0].strip().strip('"') or "utf-8"
        for encoding in (charset, "utf-8", "gb18030"):
            try:
                return self.content.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
        return self.content.decode("utf-8", errors="replace")


class Fetcher:
    """The one client: timeouts, a User-Agent naming briefing, the HTTP cache in `cache_dir`."""

    def __init__(self, cache_dir: Path, timeout: float = READ_SECONDS) -> None:
        import hishel
        import hishel.httpx
        import httpx

        self.timeout = timeout
        cache_dir.mkdir(parents=True, exist_ok=True)
        storage = hishel.SqliteStorage(database_path=cache_dir / "http.sqlite", max_stream_size=MAX_BODY_BYTES)
        # A private cache: it serves and revalidates for this user only, as a browser's does.
        transport = hishel.httpx.CacheTransport(next_transport=httpx.HTTPTransport(), storage=storage, rfc={"shared": False})
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS)),
            headers={"User-Agent": USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9"},
        )

    def get(self, url: str) -> Fetched:
        import httpx

        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise SourceError(f"{url}: the server answered {response.status_code} {response.reason_phrase}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > MAX_BODY_BYTES:
                    raise SourceError(f"{url}: the page is {_size(declared)}, over the {_size(MAX_BODY_BYTES)} limit")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise SourceError(f"{url}: the page is over the {_size(MAX_BODY_BYTES)} limit")
                caching = response.extensions.get("caching") or {}
                return Fetched(
                    str(response.url),
                    response.status_code,
                    bytes(body),
                    response.headers.get("content-type", ""),
                    bool(caching.get("from_cache")),
                )
        except httpx.TooManyRedirects:
            raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
        except httpx.TimeoutException:
            raise SourceError(f"{url}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: cannot be fetched ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(count: int) -> str:
    return f"{count / 1_000_000:g} MB" if count >= 1_000_000 else f"{count / 1000:g} kB"
