"""The online engine: Microsoft's neural voices through the edge-tts client (needs internet)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from edge_tts.exceptions import EdgeTTSException

from ..errors import AssemblyError, EngineUnavailableError, SynthesisError
from ..mp3 import decode
from ..normalize import unspeakable
from ..voices import VoicePreset
from .base import EngineSettings, Parallel, SpeechAudio, WordBoundary, check_audio, register, trim_silence

SAMPLE_RATE = 24000  # the service's audio-24khz-48kbitrate-mono-mp3
TICKS_PER_SECOND = 10_000_000
# Another address speaking the same protocol (a relay, or the tests' local server): http(s)://host:port
ENDPOINT_VARIABLE = "BRIEFING_EDGE_ENDPOINT"
# A service voice speaks 4 to 6 characters a second; less than a fifth of that means the audio was cut.
MIN_SECONDS_PER_CHARACTER = 0.1
# Below this share of the text covered by word boundaries, the stream ended early.
MIN_WORD_COVERAGE = 0.8
MAX_BACKOFF = 30.0


@register
class EdgeEngine:
    """Microsoft Edge's read-aloud voices (zh-CN-YunyangNeural, zh-CN-XiaoxiaoNeural, ...), 24 kHz."""

    name = "edge"
    version = "edge-tts-7.3"
    sample_rate = SAMPLE_RATE
    install_hint = "pip install 'edge-tts>=7.3,<7.4' and make sure this machine can reach speech.platform.bing.com"
    default_voice = "zh-CN-YunyangNeural"
    parallel: Parallel = "threads"

    def __init__(self, settings: EngineSettings = EngineSettings()) -> None:
        self.settings = settings
        use_endpoint(os.environ.get(ENDPOINT_VARIABLE, ""))

    @classmethod
    def is_available(cls) -> bool:
        return importlib.util.find_spec("edge_tts") is not None

    @classmethod
    def prepare(cls, spoken_texts: list[str]) -> dict[str, Any]:
        return {}  # a request needs nothing but the text

    def synthesize(self, spoken_text: str, preset: VoicePreset, prepared: Any = None) -> SpeechAudio:
        """One segment, retried with exponential backoff and jitter on the service's transient failures."""
        if not any(ch.isalnum() for ch in spoken_text) or unspeakable(spoken_text, latin=True):
            raise SynthesisError(f"Nothing speakable in segment {spoken_text!r}; not sent to the service")
        problems: list[str] = []
        asked_to_wait = 0.0  # a throttled answer's Retry-After
        for attempt in range(self.settings.retries + 1):
            if attempt:
                backoff = self.settings.retry_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                time.sleep(min(MAX_BACKOFF, max(backoff, asked_to_wait)))
            try:
                return self._validated(asyncio.run(self._request(spoken_text, preset)), spoken_text, preset)
            except (TimeoutError, aiohttp.ClientError, OSError, EdgeTTSException, SynthesisError, AssemblyError) as exc:
                problems.append(describe_failure(exc))
                asked_to_wait = retry_after(exc)
        raise SynthesisError(f"{preset.engine_voice}: gave up after {len(problems)} attempts ({'; '.join(dict.fromkeys(problems))})")

    async def _request(self, spoken_text: str, preset: VoicePreset) -> SpeechAudio:
        import edge_tts

        communicate = edge_tts.Communicate(
            spoken_text,
            preset.engine_voice,
            rate=preset.rate,
            pitch=preset.pitch,
            volume=preset.volume,
            boundary="WordBoundary",
            connect_timeout=self.settings.timeout,
            receive_timeout=self.settings.timeout,
        )
        mp3 = bytearray()
        words: list[WordBoundary] = []
        # `timeout` seconds without a frame is a stall, however long the whole answer takes.
        async with asyncio.timeout(self.settings.timeout) as deadline:
            async for chunk in communicate.stream():
                deadline.reschedule(asyncio.get_running_loop().time() + self.settings.timeout)
                if chunk["type"] == "audio":
                    mp3 += chunk["data"]
                elif chunk["type"] == "WordBoundary":
                    words.append(WordBoundary(chunk["offset"] / TICKS_PER_SECOND, chunk["duration"] / TICKS_PER_SECOND, chunk["text"]))
        samples, cut = trim_silence(decode(bytes(mp3), SAMPLE_RATE), SAMPLE_RATE)
        shifted = tuple(WordBoundary(round(max(0.0, w.offset - cut), 3), round(w.duration, 3), w.text) for w in words)
        return SpeechAudio(samples=samples, sample_rate=SAMPLE_RATE, words=shifted)  # the service applied the prosody

    @staticmethod
    def _validated(audio: SpeechAudio, spoken_text: str, preset: VoicePreset) -> SpeechAudio:
        """The service sometimes ends a stream early without an error: catch that so it is retried."""
        check_audio(audio, spoken_text, MIN_SECONDS_PER_CHARACTER / preset.rate_factor)
        if audio.words:
            expected = sum(1 for ch in spoken_text if ch.isalnum())
            covered = sum(1 for w in audio.words for ch in w.text if ch.isalnum())
            if covered < MIN_WORD_COVERAGE * expected:
                raise SynthesisError(f"the audio stopped early: words for {covered} of {expected} characters arrived")
        return audio


def describe_failure(exc: BaseException) -> str:
    """A short reason for the run report: '403 Forbidden', 'timed out', 'NoAudioReceived', ..."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}".strip()
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, (SynthesisError, AssemblyError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def retry_after(exc: BaseException) -> float:
    """The seconds a 429 or 503 answer asks the client to wait (its Retry-After header), else 0."""
    headers = getattr(exc, "headers", None) if isinstance(exc, aiohttp.ClientResponseError) else None
    try:
        return max(0.0, float(headers.get("Retry-After", 0))) if headers else 0.0
    except ValueError:
        return 0.0


def use_endpoint(endpoint: str) -> None:
    """Point the edge-tts client at `endpoint` (http or https base URL), or back at the real service."""
    import edge_tts.communicate
    import edge_tts.constants
    import edge_tts.voices

    if not endpoint:
        edge_tts.communicate.WSS_URL = edge_tts.constants.WSS_URL
        edge_tts.voices.VOICE_LIST = edge_tts.constants.VOICE_LIST
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EngineUnavailableError(f"{ENDPOINT_VARIABLE}={endpoint!r}: expected a base URL such as http://127.0.0.1:8080")
    token = edge_tts.constants.TRUSTED_CLIENT_TOKEN
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    edge_tts.communicate.WSS_URL = f"{socket_scheme}://{parts.netloc}/edge/v1?TrustedClientToken={token}"
    edge_tts.voices.VOICE_LIST = f"{parts.scheme}://{parts.netloc}/voices/list?trustedclienttoken={token}"


def chinese_voices() -> list[dict[str, str]]:
    """The service's Chinese voices (zh-CN, zh-HK, zh-TW, ...): ShortName, Gender, Locale, FriendlyName."""
    import edge_tts

    use_endpoint(os.environ.get(ENDPOINT_VARIABLE, ""))
    try:
        voices = asyncio.run(edge_tts.list_voices())
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise EngineUnavailableError(f"Cannot list the online voices ({describe_failure(exc)}); is this machine online?") from None
    return sorted(
        (
            {key: str(v.get(key, "")) for key in ("ShortName", "Gender", "Locale", "FriendlyName")}
            for v in voices
            if str(v.get("Locale", "")).startswith("zh-")
        ),
        key=lambda v: v["ShortName"],
    )
