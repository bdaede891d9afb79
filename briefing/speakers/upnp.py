"""UPnP/DLNA MediaRenderers (most networked speakers, TVs, Sonos): SSDP discovery and AVTransport."""

from __future__ import annotations

import asyncio
import re

from didl_lite import didl_lite

from ..errors import SpeakerError
from .base import Media, Playback, Speaker, register_player, wait_until_playing

RENDERER = "urn:schemas-upnp-org:device:MediaRenderer:1"
AV_TRANSPORT = "urn:schemas-upnp-org:service:AVTransport:1"


def discover_upnp(timeout: float) -> list[Speaker]:
    return asyncio.run(_discover(timeout))


async def _discover(timeout: float) -> list[Speaker]:
    from async_upnp_client.aiohttp import AiohttpRequester
    from async_upnp_client.client_factory import UpnpFactory
    from async_upnp_client.exceptions import UpnpError
    from async_upnp_client.search import async_search

    locations: dict[str, str] = {}

    async def found(headers) -> None:
        usn, location = headers.get("USN", ""), headers.get("LOCATION", "")
        if location:
            locations.setdefault(usn.split("::")[0], location)

    await async_search(found, timeout=max(1, int(timeout)), search_target=RENDERER)
    factory = UpnpFactory(AiohttpRequester(timeout=5), non_strict=True)
    speakers = []
    for udn, location in locations.items():
        try:
            device = await factory.async_create_device(location)
        except (TimeoutError, UpnpError, OSError):
            continue
        speakers.append(Speaker(device.friendly_name, "upnp", location, f"upnp:{udn}"))
    return speakers


@register_player
class UpnpPlayer:
    """`device` is the renderer's UDN (uuid:…), friendly name, or description URL."""

    kind = "upnp"

    def __init__(self, device: str, name: str = "") -> None:
        self.device = device

    def play(self, media: Media, timeout: float) -> Playback:
        # One event loop for the whole conversation: the renderer's HTTP session lives in it.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(self._play(media, timeout, loop))
        finally:
            loop.close()

    async def _location(self) -> str:
        if self.device.startswith(("http://", "https://")):
            return self.device
        for speaker in await _discover(3):
            if self.device in (speaker.target[len("upnp:") :], speaker.name):
                return speaker.address
        raise SpeakerError(f"No UPnP renderer '{self.device}' answered on the network; run `briefing speakers` to list them")

    async def _play(self, media: Media, timeout: float, loop: asyncio.AbstractEventLoop) -> Playback:
        from async_upnp_client.aiohttp import AiohttpRequester
        from async_upnp_client.client_factory import UpnpFactory
        from async_upnp_client.exceptions import UpnpActionError, UpnpError

        location = await self._location()
        try:
            device = await UpnpFactory(AiohttpRequester(timeout=10), non_strict=True).async_create_device(location)
        except (TimeoutError, UpnpError, OSError) as exc:
            raise SpeakerError(f"The renderer at {location} did not answer ({exc})") from None
        if not device.has_service(AV_TRANSPORT):
            raise SpeakerError(f"{device.friendly_name} is not a media renderer (no AVTransport service)")
        transport = device.service(AV_TRANSPORT)
        name = device.friendly_name
        try:
            await _stop_what_plays(transport)
            await transport.action("SetAVTransportURI").async_call(
                InstanceID=0, CurrentURI=media.url, CurrentURIMetaData=didl_metadata(media)
            )
            await transport.action("Play").async_call(InstanceID=0, Speed="1")
            state = _PlayState(transport, name)
            return await asyncio.to_thread(
                wait_until_playing, lambda: asyncio.run_coroutine_threadsafe(state.check(), loop).result(), name, timeout
            )
        except UpnpActionError as exc:
            raise SpeakerError(f"{name} refused to play {media.url}: UPnP error {exc.error_code} {exc.error_desc or ''}".rstrip()) from None
        except (TimeoutError, UpnpError, OSError) as exc:
            raise SpeakerError(f"Lost contact with {name} ({exc})") from None


async def _stop_what_plays(transport) -> None:
    """A renderer still playing an earlier episode would report that one's position for a moment;
    stop it first so the position we follow is the new episode's."""
    from async_upnp_client.exceptions import UpnpActionError

    info = await transport.action("GetTransportInfo").async_call(InstanceID=0)
    if info.get("CurrentTransportState") in ("PLAYING", "PAUSED_PLAYBACK", "TRANSITIONING"):
        try:
            await transport.action("Stop").async_call(InstanceID=0)
        except UpnpActionError:
            pass  # a renderer that cannot stop now still gets the new episode


class _PlayState:
    """Follows GetTransportInfo and GetPositionInfo: the renderer plays once its position moves on
    between two checks (compared with the previous check, not the first: the first may still be
    the earlier episode's position)."""

    def __init__(self, transport, name: str) -> None:
        self.transport, self.name = transport, name
        self.last_position: float | None = None

    async def check(self) -> Playback | str:
        info = await self.transport.action("GetTransportInfo").async_call(InstanceID=0)
        state = str(info.get("CurrentTransportState", "UNKNOWN"))
        if info.get("CurrentTransportStatus") == "ERROR_OCCURRED":
            raise SpeakerError(f"{self.name} could not play the episode (transport status ERROR_OCCURRED)")
        if state == "PLAYING":
            position = _seconds(str((await self.transport.action("GetPositionInfo").async_call(InstanceID=0)).get("RelTime", "")))
            moved_on = self.last_position is not None and position > self.last_position
            self.last_position = position
            if moved_on:
                return Playback(self.name, state, position)
        return state


def didl_metadata(media: Media) -> str:
    """DIDL-Lite for SetAVTransportURI: title, programme, duration, size and MIME type."""
    hours, rest = divmod(int(media.duration), 3600)
    resource = _Resource(
        uri=media.url,
        protocol_info=f"http-get:*:{media.mime}:*",
        size=str(media.size or ""),
        duration=f"{hours}:{rest // 60:02d}:{rest % 60:02d}",
    )
    item = didl_lite.MusicTrack(
        id="briefing-episode",
        parent_id="0",
        restricted="1",
        title=media.title,
        creator=media.programme,
        album=media.programme,
        artist=media.programme,
        album_art_uri=media.cover_url or None,
        resources=[resource],
    )
    # to_xml_string writes ASCII with character references; some renderers show those as is.
    return re.sub(
        r"&#(\d+);", lambda m: chr(int(m.group(1))) if int(m.group(1)) > 127 else m.group(0), didl_lite.to_xml_string(item).decode("ascii")
    )


class _Resource(didl_lite.Resource):
    """python-didl-lite writes only protocolInfo on <res>; renderers show the duration and size too."""

    def to_xml(self):
        element = super().to_xml()
        for name, value in (("size", self.size), ("duration", self.duration)):
            if value:
                element.set(name, value)
        return element


def _seconds(clock: str) -> float:
    try:
        hours, minutes, seconds = clock.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return 0.0
