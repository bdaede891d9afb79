"""Home Assistant: any speaker HA knows, through its REST API (media_player.play_media).

The server and a long-lived access token come from the environment only: HASS_SERVER and HASS_TOKEN
(the names the Home Assistant command line uses).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from ..errors import SpeakerError
from .base import Media, Playback, register_player, wait_until_playing


@register_player
class HomeAssistantPlayer:
    """`device` is a media_player entity id, e.g. media_player.kitchen."""

    kind = "ha"

    def __init__(self, device: str, name: str = "") -> None:
        if not device.startswith("media_player."):
            raise SpeakerError(f"ha:{device}: expected a media player entity, e.g. ha:media_player.kitchen")
        self.entity = device
        self.server = os.environ.get("HASS_SERVER", "").rstrip("/")
        self.token = os.environ.get("HASS_TOKEN", "")
        if not self.server or not self.token:
            raise SpeakerError(
                "Home Assistant needs HASS_SERVER (e.g. http://homeassistant.local:8123) and HASS_TOKEN "
                "(a long-lived access token from your HA profile) in the environment"
            )

    def play(self, media: Media, timeout: float) -> Playback:
        self._call(
            "POST",
            "/api/services/media_player/play_media",
            {"entity_id": self.entity, "media_content_id": media.url, "media_content_type": "music"},
        )

        def playing() -> Playback | str:
            entity = self._call("GET", f"/api/states/{self.entity}")
            state = str(entity.get("state", "unknown"))
            attributes = entity.get("attributes", {})
            if state == "playing":
                return Playback(
                    str(attributes.get("friendly_name", self.entity)), "PLAYING", float(attributes.get("media_position", 0) or 0)
                )
            if state == "unavailable":
                raise SpeakerError(f"Home Assistant says {self.entity} is unavailable")
            return state

        return wait_until_playing(playing, self.entity, timeout)

    def _call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"{self.server}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = _message(exc.read())
            if exc.code == 401:
                raise SpeakerError(
                    "Home Assistant refused the token (401): make a new long-lived access token and set HASS_TOKEN"
                ) from None
            if exc.code == 404:
                raise SpeakerError(f"Home Assistant has no {self.entity if 'states' in path else path} (404{detail})") from None
            raise SpeakerError(f"Home Assistant answered {exc.code}{detail} to {method} {path}") from None
        except (OSError, ValueError) as exc:
            raise SpeakerError(f"Cannot reach Home Assistant at {self.server} ({getattr(exc, 'reason', exc)})") from None


def _message(body: bytes) -> str:
    try:
        return f": {json.loads(body)['message']}"
    except (ValueError, KeyError, TypeError):
        text = body.decode(errors="replace").strip()
        return f": {text[:200]}" if text else ""
