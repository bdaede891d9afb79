"""TTS engines: one protocol, a registry by name, and the audio they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from ..errors import EngineUnavailableError
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


class Engine(Protocol):
    """What every engine offers. Construct once (it loads its model), then synthesize per segment."""

    name: str
    version: str
    sample_rate: int
    install_hint: str

    @classmethod
    def is_available(cls) -> bool: ...

    def synthesize(self, spoken_text: str, voice: VoicePreset) -> SpeechAudio: ...


_ENGINES: dict[str, type[Engine]] = {}


def register(engine: type[Engine]) -> type[Engine]:
    """Class decorator: make an engine selectable by its `name`."""
    _ENGINES[engine.name] = engine
    return engine


def engine_names() -> list[str]:
    _load_builtin_engines()
    return sorted(_ENGINES)


def engine_class(name: str) -> type[Engine]:
    _load_builtin_engines()
    try:
        engine = _ENGINES[name]
    except KeyError:
        raise EngineUnavailableError(f"Unknown engine '{name}': expected one of {', '.join(sorted(_ENGINES))}") from None
    if not engine.is_available():
        raise EngineUnavailableError(f"The '{name}' engine cannot run here: {engine.install_hint}")
    return engine


def create_engine(name: str, **options: object) -> Engine:
    """Return a loaded engine, or raise EngineUnavailableError with what to install."""
    factory: Callable[..., Engine] = engine_class(name)
    return factory(**options)


def _load_builtin_engines() -> None:
    from . import offline  # noqa: F401  (registers itself)
