"""The review desk: `/review/` on `briefing serve`, where an editor reads, hears, changes and
approves a draft before it airs (see `drafts` and `review`).

Safety: on any address but loopback every desk request needs the desk's token (given once in the
URL `briefing serve` prints, then kept in an HttpOnly, SameSite=Strict cookie); on loopback the
Host must be a loopback name, so a page that rebinds its domain to 127.0.0.1 gets nothing. Every
change is a POST carrying the page's forgery token and an Origin of this server. The podcast
files stay public.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from .config import Config
from .desk_page import CONTENT_SECURITY_POLICY, day_page, index_page, published_page
from .drafts import REVIEWED_FILE, is_draft, publish_draft
from .episode import finished_manifest
from .errors import BriefingError, OutputBusy
from .review import ACTIONS, Draft, EditRefused, StaleEdit, change_draft, open_draft, undo_last
from .voices import VoiceChains

TOKEN_ENV = "BRIEFING_REVIEW_TOKEN"
COOKIE = "briefing_review"
CSRF_HEADER = "X-Briefing-Desk"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
MAX_JOBS_KEPT = 1000


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def desk_token(config: Config) -> str:
    """The desk's secret: the environment's, the config's, else a new one for this server's life."""
    return os.environ.get(TOKEN_ENV) or config.review.token or secrets.token_urlsafe(24)


@dataclass
class ListenJobs:
    """Segments being made for the desk to play: one job per segment audio, however often it is asked for."""

    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-listen"))
    jobs: dict[str, Future[None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, key: str, make: Any) -> Future[None]:
        with self.lock:
            job = self.jobs.get(key)
            if job is None or (job.done() and job.exception() is not None):
                if len(self.jobs) >= MAX_JOBS_KEPT:  # a server that runs for months forgets finished jobs
                    self.jobs = {k: j for k, j in self.jobs.items() if not j.done()}
                job = self.jobs[key] = self.pool.submit(make)
            return job


class Desk:
    """The desk's routes over the output root `root`, for the programme `config`."""

    def __init__(self, root: Path, config: Config, token: str, needs_token: bool) -> None:
        self.root, self.config, self.token, self.needs_token = root, config, token, needs_token
        self.csrf = hmac.new(token.encode(), b"briefing review desk forms", hashlib.sha256).hexdigest()
        self.jobs = ListenJobs()
        self.publishing = threading.Lock()

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self.guard)
        app.router.add_get("/review", self.to_index)
        app.router.add_get("/review/", self.index)
        app.router.add_get("/review/{date}/", self.day)
        app.router.add_get("/review/{date}/segment/{number}.wav", self.segment_audio)
        app.router.add_get("/review/jobs/{job}", self.job_state)
        app.router.add_post("/review/{date}/change", self.change)
        app.router.add_post("/review/{date}/undo", self.undo)
        app.router.add_post("/review/{date}/listen", self.listen)
        app.router.add_post("/review/{date}/publish", self.publish)

    # --- who may come in ---------------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not (request.path == "/review" or request.path.startswith("/review/")):
            return await handler(request)
        if self.needs_token:
            given = request.query.get("token", "")
            if given and _same(given, self.token) and request.method == "GET":
                welcome = web.HTTPSeeOther(request.path)  # the token leaves the address bar and the history
                welcome.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/review/")
                raise welcome
            if not _same(request.cookies.get(COOKIE, ""), self.token):
                return _refused(403, "this review desk needs its token: open the address briefing serve printed")
        elif not is_loopback(_host_name(request.host)):
            return _refused(403, "the review desk answers only at a loopback address (127.0.0.1 or localhost)")
        if request.method == "POST":
            # The Origin's host and port, not its scheme: behind a TLS proxy the desk itself is asked over http.
            same_origin = urlsplit(request.headers.get("Origin", "")).netloc == request.host
            if not same_origin or not _same(request.headers.get(CSRF_HEADER, ""), self.csrf):
                return _refused(403, "a change must come from the desk's own page (cross-site request refused)")
        response: web.StreamResponse = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    # --- pages -------------------------------------------------------------------------------

    async def to_index(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/review/")

    async def index(self, request: web.Request) -> web.Response:
        return _html(index_page(self.days()))

    def days(self) -> list[tuple[str, str]]:
        """(date, state) of the newest episode folders: draft, published, or published after review."""
        found = []
        for folder in sorted((p for p in self.root.iterdir() if p.is_dir() and _is_date(p.name)), reverse=True)[:60]:
            if is_draft(folder):
                found.append((folder.name, "draft"))
            elif finished_manifest(folder) is not None:
                found.append((folder.name, "published after review" if (folder / REVIEWED_FILE).exists() else "published"))
        return found

    async def day(self, request: web.Request) -> web.Response:
        folder = self._folder(request)
        if not is_draft(folder):
            manifest = finished_manifest(folder)
            if manifest is None:
                raise web.HTTPNotFound(text="no draft or episode for this date")
            return _html(published_page(folder.name, manifest, _approval(folder)))
        draft = await asyncio.to_thread(open_draft, folder, self.config)
        return _html(day_page(draft, self.config, self.csrf, self._made(draft)))

    def _folder(self, request: web.Request) -> Path:
        name = request.match_info["date"]
        if not _is_date(name) or not (self.root / name).is_dir():
            raise web.HTTPNotFound(text="no draft or episode for this date")
        return self.root / name

    # --- audio -------------------------------------------------------------------------------

    @cached_property
    def voices(self) -> VoiceChains:
        from .build import read_voices

        return read_voices(self.config)

    def _made(self, draft: Draft, only: int | None = None) -> list[Path | None]:
        """Each segment's cached audio when it has been made (of the segment numbered `only`, if given),
        by any preset of its chain: a fallback may have made it."""
        from .build import preset_chains
        from .synthesize import SegmentCache

        cache = SegmentCache(self.config.paths.cache_path)
        numbered = list(zip(draft.script.segments, preset_chains(draft.script, self.voices)))
        made = []
        for segment, chain in numbered if only is None else [numbered[only - 1]]:
            paths = [cache.path(cache.key(preset, segment.spoken)) for preset in chain]
            made.append(next((path for path in paths if path.exists()), None))
        return made

    async def segment_audio(self, request: web.Request) -> web.StreamResponse:
        draft = await asyncio.to_thread(open_draft, self._folder(request), self.config)
        path = self._made(draft, only=_number(request.match_info["number"], len(draft.script.segments)))[0]
        if path is None:
            raise web.HTTPNotFound(text="not made yet: ask the desk to make it (POST listen)")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    async def listen(self, request: web.Request) -> web.Response:
        folder = self._folder(request)
        asked = await _json(request)
        draft = await asyncio.to_thread(open_draft, folder, self.config)
        number = _number(asked.get("segment"), len(draft.script.segments))
        segment = draft.script.segments[number - 1]
        key = hashlib.sha256(json.dumps([folder.name, segment.story is not None, segment.spoken]).encode()).hexdigest()[:20]
        job = self.jobs.start(key, lambda: self._make_segment(draft, number))
        return web.json_response({"job": key, "state": _job_state(job)})

    def _make_segment(self, draft: Draft, number: int) -> None:
        from .build import preset_chains, synthesis_settings
        from .synthesize import SegmentCache, synthesize_segments

        segment = draft.script.segments[number - 1]
        chain = preset_chains(draft.script, self.voices)[number - 1]
        synthesize_segments(
            [segment], [chain], SegmentCache(self.config.paths.cache_path), lambda _n, _a: None, synthesis_settings(self.config)
        )

    async def job_state(self, request: web.Request) -> web.Response:
        job = self.jobs.jobs.get(request.match_info["job"])
        if job is None:
            raise web.HTTPNotFound(text="no such job")
        error = job.exception() if job.done() else None
        return web.json_response({"state": _job_state(job), "error": str(error) if error else ""})

    # --- changes -----------------------------------------------------------------------------

    async def change(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        action = str(asked.pop("action", ""))
        version = asked.pop("version", None)
        allowed = {"edit": {"segment", "text", "spoken"}, "headline": {"story", "title"}, "drop": {"story"}}
        allowed |= {"move": {"story", "by"}, "add": {"candidate"}, "reading": {"word", "reading"}}
        if action not in ACTIONS or set(asked) - allowed.get(action, set()):
            return _refused(400, f"not a change the desk makes: {action!r} with {sorted(asked)}")
        try:
            args = {k: (int(v) if k in ("segment", "story", "by", "candidate") else str(v)) for k, v in asked.items() if _plain(v)}
        except ValueError:
            return _refused(400, f"segment, story, by and candidate are numbers, not {asked}")
        return await self._changed(lambda: change_draft(self._folder(request), self.config, _version(version), action, **args))

    async def undo(self, request: web.Request) -> web.Response:
        asked = await _json(request)
        return await self._changed(lambda: undo_last(self._folder(request), self.config, _version(asked.get("version"))))

    async def _changed(self, make: Any) -> web.Response:
        try:
            draft: Draft = await asyncio.to_thread(make)
        except StaleEdit as exc:
            return web.json_response({"error": str(exc), "version": exc.version}, status=409)
        except OutputBusy as exc:
            return _refused(409, str(exc))
        except (EditRefused, BriefingError, ValueError, TypeError) as exc:
            return _refused(400, str(exc))
        return web.json_response({"version": draft.state.version})

    async def publish(self, request: web.Request) -> web.Response:
        folder = self._folder(request)
        if not self.publishing.acquire(blocking=False):
            return _refused(409, "the draft is being published already")
        try:
            published = await asyncio.to_thread(publish_draft, dt.date.fromisoformat(folder.name), self.config, self.root)
        except BriefingError as exc:
            return _refused(409 if isinstance(exc, OutputBusy) else 400, f"not published, the draft is as it was: {exc}")
        finally:
            self.publishing.release()
        episode = published.episode
        if episode is None:
            return web.json_response({"published": False, "message": "already published"})
        made = {"made": episode.synthesis.synthesized, "reused": episode.synthesis.reused}
        result = {"published": True, "duration": episode.duration, "lufs": episode.loudness.integrated_lufs, **made}
        return web.json_response({**result, "warnings": list(published.warnings)})


def _approval(folder: Path) -> dict[str, Any]:
    """What REVIEWED_FILE says of the approval: when, the changes, segments made and reused."""
    try:
        return dict(json.loads((folder / REVIEWED_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _same(given: str, secret: str) -> bool:
    """A constant-time comparison that any text a client sends can go through."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def _host_name(host: str) -> str:
    """'127.0.0.1' of '127.0.0.1:8000', '[::1]' of '[::1]:8000'."""
    return host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]


def _job_state(job: Future[None]) -> str:
    if not job.done():
        return "making"
    return "failed" if job.exception() is not None else "made"


def _is_date(name: str) -> bool:
    try:
        return dt.date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False


def _number(value: Any, most: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise web.HTTPBadRequest(text="a segment number is needed") from None
    if not 1 <= number <= most:
        raise web.HTTPNotFound(text=f"there is no segment {number}")
    return number


def _version(value: Any) -> int:
    if not isinstance(value, int):
        raise ValueError("the change must say which version of the draft it was made on")
    return value


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


def _refused(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers={"Cache-Control": "no-store"})


def _html(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/html", charset="utf-8")
