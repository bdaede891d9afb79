"""Voices: presets in voices/*.toml that name an engine, a voice and its prosody."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .files import read_toml

_RATE_RE = re.compile(r"^[+-]\d{1,3}%$")
_PITCH_RE = re.compile(r"^[+-]\d{1,3}Hz$")


@dataclass(frozen=True)
class VoicePreset:
    """A preset: a file in voices/ naming an engine, that engine's voice id, prosody (edge-tts
    notation) and the preset to fall back to. `--voice` and `voice =` in briefing.toml name presets."""

    name: str
    engine: str
    engine_voice: str = ""
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"
    fallback: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not _RATE_RE.match(self.rate) or not -50 <= int(self.rate[:-1]) <= 100:
            raise ConfigError(f"Voice '{self.name}': invalid rate '{self.rate}': expected -50%..+100%")
        if not _PITCH_RE.match(self.pitch) or not -100 <= int(self.pitch[:-2]) <= 100:
            raise ConfigError(f"Voice '{self.name}': invalid pitch '{self.pitch}': expected -100Hz..+100Hz")
        if not _RATE_RE.match(self.volume) or not -100 <= int(self.volume[:-1]) <= 100:
            raise ConfigError(f"Voice '{self.name}': invalid volume '{self.volume}': expected -100%..+100%")

    @property
    def rate_factor(self) -> float:
        """Speaking speed relative to the voice's own: '+10%' -> 1.1."""
        return 1 + int(self.rate[:-1]) / 100

    @property
    def pitch_hz(self) -> int:
        return int(self.pitch[:-2])

    @property
    def volume_factor(self) -> float:
        return 1 + int(self.volume[:-1]) / 100

    @property
    def prosody(self) -> str:
        return f"{self.rate} {self.pitch} {self.volume}"


def bundled_voices() -> Path:
    """The voice presets and the lexicon that ship inside the package (the repository's voices/)."""
    from importlib.resources import files

    return Path(str(files("briefing").joinpath("presets")))


def load_preset(path: Path) -> VoicePreset:
    data = read_toml(path, "the voice preset")
    allowed = {"engine", "voice", "rate", "pitch", "volume", "fallback", "description"}
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    if not isinstance(data.get("engine"), str):
        raise ConfigError(f"{path}: 'engine' is required (for example engine = \"offline\")")
    fields = {("engine_voice" if key == "voice" else key): str(value) for key, value in data.items()}  # the file says `voice`
    return VoicePreset(name=path.stem, **fields)


def list_presets(voices_dir: Path) -> list[VoicePreset]:
    return [load_preset(path) for path in sorted(voices_dir.glob("*.toml"))]


def find_preset(name: str, voices_dir: Path) -> VoicePreset:
    path = voices_dir / f"{name}.toml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(voices_dir.glob("*.toml"))) or "none"
        raise ConfigError(f"Unknown voice preset '{name}' in {voices_dir}: known presets: {known}")
    return load_preset(path)


def preset_for_engine(engine: str, voices_dir: Path, default_voice: str = "") -> VoicePreset:
    """The preset named after `engine`, else one with the engine's default voice, else the first that uses it."""
    presets = list_presets(voices_dir)
    for preset in sorted(presets, key=lambda p: (p.name != engine, p.engine_voice != default_voice)):
        if preset.engine == engine:
            return preset
    raise ConfigError(f"No voice preset in {voices_dir} uses the engine '{engine}'; add one (see voices/offline.toml)")


def fallback_chain(preset: VoicePreset, voices_dir: Path) -> tuple[VoicePreset, ...]:
    """`preset`, then its fallback, then that one's fallback, and so on."""
    chain = [preset]
    while chain[-1].fallback:
        if chain[-1].fallback in {p.name for p in chain}:
            raise ConfigError(f"Voice presets fall back in a circle: {' -> '.join(p.name for p in chain)} -> {chain[-1].fallback}")
        chain.append(find_preset(chain[-1].fallback, voices_dir))
    return tuple(chain)


@dataclass(frozen=True)
class VoiceChains:
    """The presets one run uses, read once: the stories' preset and the host's (intro, rundown,
    transitions, outro), each followed by its fallbacks (none with `strict`)."""

    story: tuple[VoicePreset, ...]
    host: tuple[VoicePreset, ...]

    @classmethod
    def read(cls, voice: str, host_voice: str, voices_dir: Path, strict: bool = False) -> VoiceChains:
        story = fallback_chain(find_preset(voice, voices_dir), voices_dir)
        host = fallback_chain(find_preset(host_voice, voices_dir), voices_dir) if host_voice else story
        return cls(story[:1], host[:1]) if strict else cls(story, host)

    def for_segment(self, is_story: bool) -> tuple[VoicePreset, ...]:
        return self.story if is_story else self.host
