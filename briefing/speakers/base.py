"""What every player is built on: the media it is handed, what it reports, and its registration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..errors import SpeakerError


@dataclass(frozen=True)
class Media:
    """What a speaker is asked to play."""

    url: str
    title: str
    programme: str
    duration: float
    size: int = 0
    mime: str = "audio/mpeg"
    cover_url: str = ""


@dataclass(frozen=True)
class Speaker:
    """A device found on the network; `target` is what `--to` accepts for it."""

    name: str
    kind: str
    address: str
    target: str


@dataclass(frozen=True)
class Playback:
    """What the speaker reported after it was told to play."""

    speaker: str
    state: str
    position: float = 0.0


class Player(Protocol):
    """A way to reach one kind of speaker. Made from the device part of a target (and the name a
    discovery found, when there was one); `play` returns once the speaker plays, or raises SpeakerError."""

    kind: str

    def __init__(self, device: str, name: str = "") -> None: ...

    def play(self, media: Media, timeout: float) -> Playback: ...


PLAY_TIMEOUT = 20.0  # seconds a speaker gets to start playing
POLL_SECONDS = 0.5
_PLAYERS: dict[str, type[Player]] = {}


def register_player(player: type[Player]) -> type[Player]:
    """Class decorator: make a player reachable by its `kind` prefix in targets (`kind:device`)."""
    _PLAYERS[player.kind] = player
    return player


def wait_until_playing(check: Callable[[], Playback | str], speaker: str, timeout: float, interval: float = POLL_SECONDS) -> Playback:
    """Ask `check` every `interval` seconds until it returns a Playback; otherwise it returns the state
    the speaker reports (or raises SpeakerError when the speaker reports an error)."""
    deadline = time.monotonic() + timeout
    state = "unknown"
    while time.monotonic() < deadline:
        outcome = check()
        if isinstance(outcome, Playback):
            return outcome
        state = outcome
        time.sleep(interval)
    raise SpeakerError(f"{speaker} did not start playing within {timeout:.0f}s (it reports '{state}')")
