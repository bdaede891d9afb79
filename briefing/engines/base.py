"""What every engine is built on: the Engine protocol, the audio it returns, and its registration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from ..errors import SynthesisError
from ..text import count_han
from ..voices import VoicePreset


@dataclass(frozen=True)
class WordBoundary:
    """Where a word starts in a segment's audio, when the engine reports it."""

    offset: float
    duration: float
    text: str


@dataclass(frozen=True)
class SpeechAudio:
    """Mono float32 samples in [-1, 1] at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int
    words: tuple[WordBoundary, ...] = field(default=())

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class EngineSettings:
    """How hard an engine tries before it gives a segment up (used by engines that can fail transiently)."""

    retries: int = 4
    retry_delay: float = 1.0  # first backoff in seconds; doubles per attempt, with jitter
    timeout: int = 20  # seconds without data before a request is abandoned


Parallel = Literal["processes", "threads"]


class Engine(Protocol):
    """What every engine offers. Construct once (it loads its model), then synthesize per segment.

    `parallel` says how the synthesize stage runs it: "processes" for CPU-bound engines (one
    process per core), "threads" for network engines (one thread per open connection).
    """

    name: str
    version: str  # part of every cache key: change it when the same text would sound different
    sample_rate: int
    install_hint: str
    default_voice: str  # the engine's own voice id used when a preset names none
    parallel: Parallel

    def __init__(self, settings: EngineSettings = ...) -> None: ...

    @classmethod
    def is_available(cls) -> bool: ...

    @classmethod
    def prepare(cls, spoken_texts: list[str]) -> dict[str, Any]:
        """Work done ahead in the parent, which has the pipeline loaded: for some texts, picklable
        data that `synthesize` is handed with that text (so a worker need not load what made it)."""
        ...

    def synthesize(self, spoken_text: str, preset: VoicePreset, prepared: Any = None) -> SpeechAudio:
        """One segment's audio; `prepared` is what `prepare` gave for this text, or None."""
        ...


_ENGINES: dict[str, type[Engine]] = {}


def register(engine: type[Engine]) -> type[Engine]:
    """Class decorator: make an engine selectable by its `name`."""
    _ENGINES[engine.name] = engine
    return engine


def check_audio(audio: SpeechAudio, spoken: str, seconds_per_character: float = 0.06) -> SpeechAudio:
    """Reject audio that is silent, too short for its text, or shorter than the words it reports."""
    characters = count_han(spoken) or len(spoken)
    if audio.samples.size == 0 or float(np.max(np.abs(audio.samples))) < 0.01:
        raise SynthesisError(f"The engine returned silence for {spoken[:20]!r}")
    if audio.duration < characters * seconds_per_character:
        raise SynthesisError(f"The engine returned {audio.duration:.2f}s of audio for {characters} characters ({spoken[:20]!r})")
    if audio.words and audio.words[-1].offset + audio.words[-1].duration > audio.duration + 0.1:
        raise SynthesisError(f"The audio for {spoken[:20]!r} stops at {audio.duration:.2f}s, before its last word")
    return audio


def trim_silence(samples: np.ndarray, sample_rate: int, threshold: float = 0.01, keep: float = 0.03) -> tuple[np.ndarray, float]:
    """Cut quiet edges so the pauses between segments are the ones the script chooses.

    Returns the trimmed samples and how many seconds were cut from the start.
    """
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples, 0.0
    margin = int(keep * sample_rate)
    start = max(0, int(loud[0]) - margin)
    return samples[start : int(loud[-1]) + margin], start / sample_rate
