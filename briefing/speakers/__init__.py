"""Speakers: hand an episode's URL to a device on the network and check that it plays.

A target names a kind and a device: `upnp:Kitchen`, `cast:Living Room`, `ha:media_player.kitchen`,
`xiaomi:小爱音箱`, or an alias from the `[speakers]` table of briefing.toml.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..config import PORT, Config
from ..errors import ConfigError, SpeakerError
from .base import _PLAYERS, PLAY_TIMEOUT, Media, Playback, Player, Speaker, register_player, wait_until_playing

__all__ = [
    "Media",
    "Playback",
    "Player",
    "Speaker",
    "register_player",
    "wait_until_playing",
    "player_for",
    "discover",
    "play_episode",
    "save_speaker_alias",
    "PLAY_TIMEOUT",
]


def player_kinds() -> list[str]:
    _load_builtin_players()
    return list(_PLAYERS)


def player_for(target: str, config: Config) -> Player:
    """The player a target names; a bare name is looked up in config.speakers, then among UPnP and Cast devices."""
    kind, _, device = config.speakers.get(target, target).partition(":")
    if kind in player_kinds():
        return _PLAYERS[kind](device)
    matches = [s for s in discover(3.0) if s.name.casefold() == target.casefold()]
    if not matches:
        known = ", ".join(config.speakers) or "none saved"
        raise SpeakerError(
            f"No speaker called '{target}': not an alias ({known}) and no device by that name answered; "
            "run `briefing speakers` to see what is on the network, or write kind:device (upnp:, cast:, ha:, xiaomi:)"
        )
    return _PLAYERS[matches[0].kind](matches[0].address, matches[0].name)  # found just now: connect directly


def _load_builtin_players() -> None:
    from . import cast, homeassistant, upnp, xiaomi  # noqa: F401  (they register themselves)


def discover(timeout: float = 5.0) -> list[Speaker]:
    """UPnP/DLNA renderers (SSDP) and Cast devices (mDNS) on the local network."""
    from concurrent.futures import ThreadPoolExecutor

    from .cast import discover_cast
    from .upnp import discover_upnp

    with ThreadPoolExecutor(max_workers=2) as pool:
        searches = [pool.submit(search, timeout) for search in (discover_upnp, discover_cast)]
        return sorted((speaker for search in searches for speaker in search.result()), key=lambda s: (s.kind, s.name))


def episode_media(out_root: Path, which: str, config: Config, base_url: str = "") -> Media:
    """The episode `which` ('latest' or a date) with the URL a speaker should fetch it from.

    The address comes from --base-url, else the feed's; a loopback address is refused unless the
    user passed it explicitly, because a speaker cannot reach this machine's 127.0.0.1.
    """
    from ..episode import published_episodes
    from ..feed import feed_base_url

    episodes = published_episodes(out_root)
    if not episodes:
        raise SpeakerError(f"No finished episode in {out_root}; make one with briefing daily")
    chosen = episodes[0] if which == "latest" else next((e for e in episodes if e.date == which), None)
    if chosen is None:
        raise SpeakerError(f"No episode for {which} in {out_root}; episodes: {', '.join(e.date for e in episodes[:7])}")
    base = (base_url or feed_base_url(out_root, config, default="")).rstrip("/")
    if not base:
        raise SpeakerError(
            "No address to hand the speaker: start `briefing serve --host 0.0.0.0` (it writes its LAN "
            f"address into the feed) or pass --base-url http://<this machine>:{PORT}"
        )
    host = urlsplit(base).hostname or ""
    if not base_url and (host == "localhost" or _is_loopback(host)):
        raise SpeakerError(
            f"The feed's address {base} is this machine's loopback, which a speaker cannot reach: run "
            "`briefing serve --host 0.0.0.0` (it writes its LAN address into the feed) or pass --base-url"
        )
    manifest = chosen.manifest
    return Media(
        url=f"{base}/{quote(chosen.folder)}/{quote(manifest.audio_file)}",
        title=manifest.title,
        programme=manifest.programme,
        duration=manifest.duration,
        size=manifest.audio_bytes,
        cover_url=f"{base}/cover.png",
    )


@dataclass(frozen=True)
class Played:
    media: Media
    playback: Playback
    kind: str  # the player's kind: upnp, cast, ha or xiaomi


def play_episode(out_root: Path, which: str, target: str, config: Config, base_url: str = "", timeout: float = PLAY_TIMEOUT) -> Played:
    """Hand episode `which` ('latest' or a date) to the speaker `target` and wait until it plays."""
    media = episode_media(out_root, which, config, base_url)
    check_reachable(media)
    player = player_for(target, config)
    return Played(media, player.play(media, timeout), player.kind)


def check_reachable(media: Media, probe: Callable[[str], int] | None = None) -> None:
    """Fail early, with advice, when nothing serves the episode at its URL."""
    try:
        status = (probe or _head)(media.url)
    except OSError as exc:
        raise SpeakerError(f"Nothing answers at {media.url} ({getattr(exc, 'reason', exc)}); is `briefing serve` running?") from None
    if status != 200:
        raise SpeakerError(f"{media.url} answers {status}; is `briefing serve` serving this output folder?")


def _head(url: str) -> int:
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def save_speaker_alias(path: Path, alias: str, target: str) -> None:
    """Add or replace `alias = "target"` in the [speakers] table of `path`, keeping the rest of the file as written."""
    if not re.match(r"^[A-Za-z0-9_-]+$", alias) or not target:
        raise ConfigError(f"--save expects ALIAS=TARGET with a plain alias (letters, digits, - and _), got {alias!r}={target!r}")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    line = f"{alias} = {json.dumps(target, ensure_ascii=False)}"
    table = re.search(r"^\[speakers\][ \t]*$", text, re.M)
    if table is None:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"[speakers]\n{line}\n"
    else:
        body_end = re.search(r"^\[", text[table.end() :], re.M)
        end = table.end() + (body_end.start() if body_end else len(text) - table.end())
        body = re.sub(rf"^{re.escape(alias)}\s*=.*\n?", "", text[table.end() : end], flags=re.M)
        text = text[: table.end()] + "\n" + line + body.rstrip("\n") + "\n" + text[end:]
    Config.from_dict(tomllib.loads(text), str(path))  # never write a config that would not load
    path.write_text(text, encoding="utf-8")
