"""A local server that speaks the edge-tts websocket protocol, so the real client can be tested offline.

It answers `speech.config` + `ssml` with `turn.start`, `audio.metadata` word boundaries interleaved
with binary `Path:audio` frames of MP3 made here with ffmpeg, and `turn.end`, as the service does.
Faults are injected per connection: a 403 or 429 at the handshake, a connection dropped mid-audio,
a turn with no audio, a stall past the client's timeout, or audio frames that hold no MP3.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import uuid
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType, web

from briefing.mp3 import ffmpeg_exe

from .local_server import serving

SECONDS_PER_CHARACTER = 0.2
LEAD_SILENCE = 0.1
TICKS = 10_000_000
FAULTS = ("403", "429", "drop", "no-audio", "stall", "garbage")
VOICES = [
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (zh-CN, YunyangNeural)",
        "ShortName": "zh-CN-YunyangNeural",
        "Gender": "Male",
        "Locale": "zh-CN",
        "FriendlyName": "Microsoft Yunyang Online (Natural) - Chinese (Mainland)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaoxiaoNeural)",
        "ShortName": "zh-CN-XiaoxiaoNeural",
        "Gender": "Female",
        "Locale": "zh-CN",
        "FriendlyName": "Microsoft Xiaoxiao Online (Natural) - Chinese (Mainland)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (zh-TW, HsiaoChenNeural)",
        "ShortName": "zh-TW-HsiaoChenNeural",
        "Gender": "Female",
        "Locale": "zh-TW",
        "FriendlyName": "Microsoft HsiaoChen Online (Natural) - Chinese (Taiwan)",
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-US, EmmaMultilingualNeural)",
        "ShortName": "en-US-EmmaMultilingualNeural",
        "Gender": "Female",
        "Locale": "en-US",
        "FriendlyName": "Microsoft Emma Online (Natural) - English (United States)",
    },
]


@dataclass
class Request:
    voice: str
    text: str


@dataclass
class LocalEdgeService:
    """Start with `with LocalEdgeService() as service:`; `service.url` is the base URL for BRIEFING_EDGE_ENDPOINT."""

    faults: list[str] = field(default_factory=list)  # consumed one per connection, in order
    fail_texts: dict[str, str] = field(default_factory=dict)  # text fragment -> fault applied every time it is asked for
    always: str = ""  # fault applied to every connection
    retry_after: int = 0  # seconds a 429 asks the client to wait (0: no Retry-After header)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def __enter__(self) -> LocalEdgeService:
        app = web.Application()
        app.router.add_get("/edge/v1", self._synthesis)
        app.router.add_get("/voices/list", self._voice_list)
        self._serving = serving(app)
        self.url = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(*exc)

    async def _voice_list(self, request: web.Request) -> web.Response:
        if "trustedclienttoken" not in request.query or "Sec-MS-GEC" not in request.query:
            return web.Response(status=400)
        return web.json_response(VOICES)

    async def _synthesis(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        fault = self.always or (self.faults.pop(0) if self.faults else "")
        if not {"TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version"} <= set(request.query):
            return web.Response(status=400, text="missing query parameters")
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": str(self.retry_after)} if self.retry_after else None)
        if fault == "403":
            return web.Response(status=403)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            config = await socket.receive()
            ssml = await socket.receive()
            if config.type != WSMsgType.TEXT or "Path:speech.config" not in config.data or "Path:ssml" not in ssml.data:
                await socket.close(code=1002, message=b"protocol error")
                return socket
            voice, text = _parse_ssml(ssml.data)
            self.requests.append(Request(voice, text))
            fault = next((f for fragment, f in self.fail_texts.items() if fragment in text), fault)
            await self._answer(request, socket, text, fault)
        finally:
            self.open_now -= 1
        return socket

    async def _answer(self, request: web.Request, socket: web.WebSocketResponse, text: str, fault: str) -> None:
        request_id = uuid.uuid4().hex
        await socket.send_str(_text_frame(request_id, "turn.start", {"context": {"serviceTag": request_id}}))
        if fault == "stall":  # say nothing more until the client gives up and hangs up
            for _ in range(300):
                if socket.closed or request.transport is None or request.transport.is_closing():
                    break
                await asyncio.sleep(0.1)
            return
        if fault == "no-audio":
            await socket.send_str(_text_frame(request_id, "turn.end", {}))
            return
        words = _words(text)
        mp3 = await asyncio.get_running_loop().run_in_executor(None, speech_like_mp3, len(words))
        if fault == "garbage":  # frames that look right but hold no MP3
            mp3 = bytes(range(256)) * (len(mp3) // 256 + 1)
        cuts = [len(mp3) * n // len(words) for n in range(len(words) + 1)]
        for n, word in enumerate(words):
            if fault == "drop" and n >= len(words) // 2:
                await socket.close()  # the service's connection reset: no error frame, no turn.end
                return
            offset = int((LEAD_SILENCE + n * SECONDS_PER_CHARACTER * 2) * TICKS)
            metadata = {
                "Metadata": [
                    {
                        "Type": "WordBoundary",
                        "Data": {
                            "Offset": offset,
                            "Duration": int(SECONDS_PER_CHARACTER * len(word) * TICKS),
                            "text": {"Text": html.escape(word), "Length": len(word), "BoundaryType": "WordBoundary"},
                        },
                    }
                ]
            }
            await socket.send_str(_text_frame(request_id, "audio.metadata", metadata))
            await socket.send_bytes(_audio_frame(request_id, mp3[cuts[n] : cuts[n + 1]]))
        await socket.send_str(_text_frame(request_id, "turn.end", {}))


def _parse_ssml(frame: str) -> tuple[str, str]:
    """The voice's short name (the client sends the long form) and the text to speak."""
    voice = re.search(r"<voice name='Microsoft Server Speech Text to Speech Voice \(([\w-]+), (\w+)\)'>", frame)
    text = re.search(r"<prosody[^>]*>(.*)</prosody>", frame, re.S)
    return (f"{voice.group(1)}-{voice.group(2)}" if voice else ""), html.unescape(text.group(1) if text else "")


def _words(text: str) -> list[str]:
    """Two-character words, as the service reports them for Chinese (punctuation gets none)."""
    characters = [ch for ch in text if ch.isalnum()]
    return ["".join(characters[i : i + 2]) for i in range(0, len(characters), 2)]


def _text_frame(request_id: str, path: str, body: dict[str, object]) -> str:
    return f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:{path}\r\n\r\n{json.dumps(body, ensure_ascii=False)}"


def _audio_frame(request_id: str, data: bytes) -> bytes:
    header = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nX-StreamId:{request_id}\r\nPath:audio\r\n".encode()
    return len(header).to_bytes(2, "big") + header + data


def speech_like_mp3(words: int, rate: int = 24000) -> bytes:
    """48 kbps mono MP3 at 24 kHz: a voiced buzz per syllable with a falling pitch, as long as the text needs."""
    syllable = int(SECONDS_PER_CHARACTER * rate)
    t = np.arange(syllable) / rate
    pieces = [np.zeros(int(LEAD_SILENCE * rate))]
    for n in range(words * 2):
        pitch = 110 + 40 * ((n * 7) % 5) / 4 - 30 * t
        voiced = sum(np.sin(2 * np.pi * k * np.cumsum(pitch) / rate) / k for k in range(1, 6))
        pieces.append(0.3 * voiced * np.sin(np.pi * t / t[-1]) ** 2)
    pieces.append(np.zeros(int(LEAD_SILENCE * rate)))
    pcm = (np.concatenate(pieces) * 32767).astype(np.int16).tobytes()
    result = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "48k",
            "-f",
            "mp3",
            "pipe:1",
        ],
        input=pcm,
        capture_output=True,
        check=True,
    )
    return result.stdout
