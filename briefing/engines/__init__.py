"""TTS engines: one protocol (in `base`), a registry by name, and the built-in engines."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import EngineUnavailableError
from .base import _ENGINES, Engine, EngineSettings, Parallel, SpeechAudio, WordBoundary, check_audio, register, trim_silence

__all__ = [
    "Engine",
    "EngineSettings",
    "Parallel",
    "SpeechAudio",
    "WordBoundary",
    "check_audio",
    "create_engine",
    "engine_class",
    "engine_names",
    "register",
    "trim_silence",
]


def engine_names() -> list[str]:
    _load_builtin_engines()
    return sorted(_ENGINES)


def engine_class(name: str, must_be_available: bool = True) -> type[Engine]:
    _load_builtin_engines()
    try:
        engine = _ENGINES[name]
    except KeyError:
        raise EngineUnavailableError(f"Unknown engine '{name}': expected one of {', '.join(sorted(_ENGINES))}") from None
    if must_be_available and not engine.is_available():
        raise EngineUnavailableError(f"The '{name}' engine cannot run here: {engine.install_hint}")
    return engine


def create_engine(name: str, settings: EngineSettings | None = None) -> Engine:
    """Return a loaded engine, or raise EngineUnavailableError with what to install."""
    factory: Callable[..., Engine] = engine_class(name)
    return factory(settings or EngineSettings())


def _load_builtin_engines() -> None:
    from . import edge, offline  # noqa: F401  (they register themselves)
