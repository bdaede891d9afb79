"""Serve: the output folder over HTTP for podcast apps, speakers and the page (Range, ETag, CORS)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .config import Config
from .episode import DRAFT_FILE
from .errors import ConfigError, OutputError
from .text import printable

if TYPE_CHECKING:
    from .desk import Desk

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
_EMPTY_SUFFIX_RANGE = re.compile(r"^\s*bytes\s*=\s*-0+\s*$")
# A Range header briefing understands: bytes, one or more ranges. Any other (another unit, a
# malformed one) is ignored and the whole file sent, as RFC 9110 asks.
_BYTE_RANGES = re.compile(r"^\s*bytes\s*=\s*(?:\d+-\d*|-\d+)\s*(?:,\s*(?:\d+-\d*|-\d+)\s*)*$")
HEADER_SECONDS = 10.0  # a new connection must send a whole request in this time
IDLE_SECONDS = 30.0  # a kept-alive connection may wait this long for its next request
MAX_CONNECTIONS = 512
_LOG_REPEAT_SECONDS = 1.0  # the same error is logged at most once in this time
# Files that change in place: clients must ask again rather than trust a cached copy.
ALWAYS_REVALIDATE = {".xml", ".html"}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, Accept-Ranges, ETag",
}


def make_app(root: Path, log: Callable[[str], None] | None = None, desk: Desk | None = None) -> web.Application:
    """An app that serves the files under `root`, and the review desk at /review/ when given one.

    aiohttp's FileResponse answers Range (206 with Content-Range), HEAD, ETag/If-None-Match and
    Last-Modified/If-Modified-Since. Hidden names (staging folders, half-written files) are never served.
    """
    base = root.resolve()

    async def serve_file(request: web.Request) -> web.StreamResponse:
        path = resolve_inside(base, request.match_info["path"] or "index.html")
        if _EMPTY_SUFFIX_RANGE.match(request.headers.get("Range", "")):  # "the last 0 bytes": nothing to send (RFC 9110)
            raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{path.stat().st_size}", **CORS})
        headers = {"Content-Type": CONTENT_TYPES[path.suffix.lower()], **CORS}
        if path.suffix.lower() in ALWAYS_REVALIDATE:
            headers["Cache-Control"] = "no-cache"
        return _FileResponse(path, headers=headers)

    async def preflight(request: web.Request) -> web.Response:
        return web.Response(status=204, headers={**CORS, "Access-Control-Max-Age": "86400"})

    async def access_log(request: web.Request, response: web.StreamResponse) -> None:
        # Sent just before the headers, when FileResponse has settled on 200, 206, 304 or 416.
        if log:
            fields = (
                request.remote,
                request.method,
                request.path_qs,
                response.status,
                request.headers.get("Range", "-"),
                request.headers.get("User-Agent", "-"),
            )
            log(printable(" ".join(str(field) for field in fields)))

    app = web.Application(middlewares=[_watched])
    app[_WATCHDOG] = _Watchdog()  # watching once `run` has a server
    app.on_response_prepare.append(access_log)
    if desk is not None:
        desk.add_routes(app)
    app.router.add_get("/{path:.*}", serve_file)  # also answers HEAD
    app.router.add_route("OPTIONS", "/{path:.*}", preflight)
    return app


class _FileResponse(web.FileResponse):
    """aiohttp's FileResponse, which ignores a Range header it cannot use (another unit, a malformed
    one) as RFC 9110 asks, and tells the watchdog when the file is sent."""

    async def prepare(self, request: web.BaseRequest) -> Any:
        if "Range" in request.headers and not _BYTE_RANGES.match(request.headers["Range"]):
            request = request.clone(headers={k: v for k, v in request.headers.items() if k.lower() != "range"})
        try:
            return await super().prepare(request)
        finally:
            watchdog: _Watchdog | None = request.app.get(_WATCHDOG) if isinstance(request, web.Request) else None
            if watchdog:
                watchdog.idle(request.protocol)


@web.middleware
async def _watched(request: web.Request, handler: Any) -> web.StreamResponse:
    watchdog: _Watchdog | None = request.app.get(_WATCHDOG)
    if watchdog:
        watchdog.busy(request.protocol)
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        return response
    finally:
        if watchdog and not isinstance(response, _FileResponse):  # a file is idle once it is sent
            watchdog.idle(request.protocol)


class _Watchdog:
    """Closes connections that send no whole request in HEADER_SECONDS, or sit idle between requests
    for IDLE_SECONDS (a slow client cannot hold a connection, and a file descriptor, forever), and
    refuses connections past MAX_CONNECTIONS."""

    def __init__(self) -> None:
        self.server: web.Server | None = None
        self.deadlines: dict[object, float | None] = {}  # connection -> when it is closed; None while it is answered

    def watch(self, server: web.Server) -> None:
        self.server = server
        original = server.connection_made

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            original(handler, transport)
            if len(server.connections) > MAX_CONNECTIONS:
                transport.close()
            else:
                self.deadlines[handler] = asyncio.get_running_loop().time() + HEADER_SECONDS

        server.connection_made = connection_made  # type: ignore[method-assign]

    def busy(self, connection: object) -> None:
        self.deadlines[connection] = None

    def idle(self, connection: object) -> None:
        self.deadlines[connection] = asyncio.get_running_loop().time() + IDLE_SECONDS

    async def run(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = asyncio.get_running_loop().time()
            open_now = set(self.server.connections if self.server else ())
            for connection, deadline in list(self.deadlines.items()):
                if connection not in open_now:
                    del self.deadlines[connection]
                elif deadline is not None and now > deadline:
                    connection.force_close()
                    del self.deadlines[connection]


_WATCHDOG = web.AppKey("watchdog", _Watchdog)


def resolve_inside(base: Path, relative: str) -> Path:
    """The file `relative` names under `base`, or 404: no '..', no hidden names, no symlinks leading
    out, nothing in a draft's folder."""
    parts = PurePosixPath(relative).parts
    if len(parts) > 1 and (base / parts[0] / DRAFT_FILE).exists():
        raise web.HTTPNotFound()  # a draft is heard on the review desk only, until it is approved
    if not parts or any(part in ("..", "/") or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        raise web.HTTPNotFound()
    try:
        path = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        raise web.HTTPNotFound() from None
    if not path.is_relative_to(base) or not path.is_file() or path.suffix.lower() not in CONTENT_TYPES:
        raise web.HTTPNotFound()
    return path


def lan_address() -> str | None:
    """This machine's address on the local network, or None when it has none."""
    candidates = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: no packet is sent, the route picks the interface
            candidates.append(probe.getsockname()[0])
        except OSError:
            pass
    try:
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        ip = ipaddress.ip_address(address)
        if not ip.is_loopback and not ip.is_unspecified and not ip.is_link_local:
            return address
    return None


def public_base_url(host: str, port: int) -> str:
    """The address other devices use: the LAN address when listening on all interfaces."""
    if host in ("0.0.0.0", "::", ""):
        address = lan_address()
        if address is None:
            raise ConfigError("No LAN address found for this machine; pass --base-url http://<its address>:" + str(port))
        return f"http://{address}:{port}"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class _OneLine(logging.Handler):
    """aiohttp reports a malformed request with a traceback; a client could flood stderr with them.
    This turns each into one line (when logging), else drops it."""

    def __init__(self, log: Callable[[str], None] | None) -> None:
        super().__init__()
        self.log = log
        self.last: dict[str, float] = {}  # each message, when it was last logged

    def emit(self, record: logging.LogRecord) -> None:
        if self.log:
            error = record.exc_info[1] if record.exc_info else None
            reason = " ".join(line.strip() for line in str(error).strip().splitlines()[:2]) if error else ""
            message = printable(f"{record.getMessage()}: {reason}" if reason else record.getMessage())
            now = time.monotonic()
            if now - self.last.get(message, -_LOG_REPEAT_SECONDS) >= _LOG_REPEAT_SECONDS:
                self.last = {m: t for m, t in self.last.items() if now - t < _LOG_REPEAT_SECONDS}  # stays small
                self.last[message] = now
                self.log(message)


def run(
    root: Path, host: str, port: int, ready: Callable[[int], None], log: Callable[[str], None] | None = None, desk: Desk | None = None
) -> None:
    """Serve until interrupted; `ready(port)` is called once the socket listens (port 0 picks a free one)."""
    server_log = logging.getLogger("aiohttp.server")
    server_log.handlers, server_log.propagate = [_OneLine(log)], False

    _raise_file_limit()

    async def main() -> None:
        app = make_app(root, log, desk)
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=IDLE_SECONDS)
        await runner.setup()
        assert runner.server is not None
        app[_WATCHDOG].watch(runner.server)
        watching = asyncio.create_task(app[_WATCHDOG].run())
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise OutputError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None
        try:
            ready(runner.addresses[0][1])
            await asyncio.Event().wait()
        finally:
            watching.cancel()
            await runner.cleanup()

    asyncio.run(main())


def _raise_file_limit() -> None:
    """Every connection is a file descriptor: take the most the system allows this process."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def serve_and_publish(
    root: Path,
    config: Config,
    host: str,
    port: int,
    base_url: str = "",
    announce: Callable[[str, int, str], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Serve `root` until interrupted, with the review desk at /review/. Once listening, the feed
    and the page are rewritten with the address clients will use (--base-url, the config's, else
    this server's), then `announce(url, port, desk_url)`; the desk's URL holds its token when
    the desk needs one (any address but loopback)."""
    from .desk import Desk, desk_token, is_loopback

    if not root.is_dir():
        raise OutputError(f"{root}: no such folder; make an episode first with briefing daily")
    desk = Desk(root, config, desk_token(config), needs_token=not is_loopback(host))

    def ready(actual_port: int) -> None:
        from .publish import publish

        url = (base_url or config.feed.base_url or public_base_url(host, actual_port)).rstrip("/")
        publish(root, config, url)
        desk_url = f"{url}/review/" + (f"?token={desk.token}" if desk.needs_token else "")
        if announce:
            announce(url, actual_port, desk_url)

    run(root, host, port, ready, log, desk)
