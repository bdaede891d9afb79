"""Google Cast (Chromecast, Nest speakers): mDNS discovery and the default media receiver via pychromecast."""

from __future__ import annotations

import uuid

from ..errors import SpeakerError
from .base import Media, Playback, Speaker, register_player, wait_until_playing

CAST_PORT = 8009


def discover_cast(timeout: float) -> list[Speaker]:
    import pychromecast

    try:
        found, browser = pychromecast.discovery.discover_chromecasts(timeout=timeout)
    except OSError:  # no multicast-capable interface
        return []
    browser.stop_discovery()
    return [
        Speaker(info.friendly_name or str(info.uuid), "cast", f"{info.host}:{info.port}", f"cast:{info.friendly_name or info.host}")
        for info in found
    ]


@register_player
class CastPlayer:
    """`device` is a Cast device's friendly name (found by mDNS) or host[:port] (connected to directly)."""

    kind = "cast"

    def __init__(self, device: str, name: str = "") -> None:
        self.device = device
        self.name = name or device

    def play(self, media: Media, timeout: float) -> Playback:
        cast = self._connect(timeout)
        try:
            cast.wait(timeout=timeout)
            controller = cast.media_controller
            controller.play_media(
                media.url,
                media.mime,
                title=media.title,
                thumb=media.cover_url or None,
                stream_type="BUFFERED",
                metadata={"metadataType": 3, "title": media.title, "artist": media.programme, "albumName": media.programme},
            )
            controller.block_until_active(timeout=timeout)

            def playing() -> Playback | str:
                status = controller.status
                if status.player_state == "PLAYING":
                    return Playback(cast.name or self.name, "PLAYING", float(status.adjusted_current_time or 0.0))
                if status.idle_reason == "ERROR":
                    raise SpeakerError(f"{cast.name} could not play {media.url} (the receiver reported an error)")
                return str(status.player_state)

            return wait_until_playing(playing, cast.name or self.name, timeout, interval=0.2)
        finally:
            cast.disconnect(timeout=5)

    def _connect(self, timeout: float):
        import pychromecast
        from pychromecast.models import CastInfo, HostServiceInfo

        address, _, port = self.device.partition(":")
        if _looks_like_address(address) and (port.isdigit() or not port):
            number = int(port) if port else CAST_PORT
            info = CastInfo(
                {HostServiceInfo(address, number)},
                uuid.uuid5(uuid.NAMESPACE_DNS, f"{address}:{number}"),
                None,
                self.name,
                address,
                number,
                "audio",
                None,
            )
            return pychromecast.Chromecast(cast_info=info, tries=2, timeout=timeout, retry_wait=1)
        casts, browser = pychromecast.get_listed_chromecasts(friendly_names=[self.device], discovery_timeout=min(timeout, 8))
        browser.stop_discovery()
        if not casts:
            raise SpeakerError(f"No Cast device called '{self.device}' answered; run `briefing speakers`, or use cast:<ip>")
        return casts[0]


def _looks_like_address(text: str) -> bool:
    parts = text.split(".")
    return (len(parts) == 4 and all(p.isdigit() for p in parts)) or text == "localhost" or text.endswith(".local")
