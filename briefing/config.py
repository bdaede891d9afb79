"""Config: all of briefing.toml, read and checked.

briefing.toml may name each setting flat (`programme = "…"`, as older files do) or inside its
section's table (`[wording]`, `[feed]`, `[synthesis]`, `[paths]`, `[stories]`, `[llm]`, `[retention]`, `[review]`);
`[speakers]` is a table of aliases and `[[sources]]` a list. The sections themselves, with their
defaults and checks, are in `sections`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .files import read_toml
from .sections import (
    DEFAULT_BASE_URL,
    PORT,
    SECTIONS,
    TABLE_ONLY,
    FeedConfig,
    LlmConfig,
    PathsConfig,
    RetentionConfig,
    ReviewConfig,
    SourceConfig,
    SourceKind,
    StoriesConfig,
    Summarizer,
    SynthesisConfig,
    WordingConfig,
)
from .text import clean_text

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_BASE_URL",
    "PORT",
    "Config",
    "FeedConfig",
    "LlmConfig",
    "PathsConfig",
    "RetentionConfig",
    "ReviewConfig",
    "SourceConfig",
    "SourceKind",
    "StoriesConfig",
    "Summarizer",
    "SynthesisConfig",
    "WordingConfig",
]

CONFIG_FILE = "briefing.toml"


@dataclass(frozen=True)
class Config:
    """All of briefing.toml: one frozen, validated section per concern, and the speaker aliases."""

    wording: WordingConfig = field(default_factory=WordingConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    stories: StoriesConfig = field(default_factory=StoriesConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    sources: tuple[SourceConfig, ...] = ()
    """[[sources]]: where `briefing daily` without page arguments gets the day's stories."""
    speakers: dict[str, str] = field(default_factory=dict)
    """Speaker aliases: name -> target (upnp:…, cast:…, ha:media_player.…, xiaomi:…); a [speakers] table."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = CONFIG_FILE) -> Config:
        """Build from parsed TOML, flat or sectioned; any problem is a ConfigError naming `source`."""
        owner = {f.name: section for section, kind in SECTIONS.items() if section not in TABLE_ONLY for f in fields(kind)}
        values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
        speakers: dict[str, str] = {}
        sources: tuple[SourceConfig, ...] = ()
        for key, value in data.items():
            if key == "sources":
                sources = _sources(value, source)
            elif key == "speakers":
                if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                    raise ConfigError(f"{source}: [speakers] must be a table of names to strings, got {value!r}")
                speakers = dict(value)
            elif key in SECTIONS and isinstance(value, dict):
                for name, item in value.items():
                    if name not in {f.name for f in fields(SECTIONS[key])}:
                        known = ", ".join(f.name for f in fields(SECTIONS[key]))
                        raise ConfigError(f"{source}: unknown setting '{name}' in [{key}]; known there: {known}")
                    _put(values[key], name, item, source)
            elif key in owner:
                _put(values[owner[key]], key, value, source)
            else:
                raise ConfigError(
                    f"{source}: unknown setting '{key}'; known settings: {', '.join(owner)}, and the tables "
                    f"[{'], ['.join(SECTIONS)}], [speakers], [[sources]]"
                )
        try:
            sections = {name: SECTIONS[name](**_typed(SECTIONS[name], given, source)) for name, given in values.items()}
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        if sections["stories"].summarizer == Summarizer.LLM and not (sections["llm"].base_url and sections["llm"].model):
            raise ConfigError(f'{source}: summarizer = "llm" needs base_url and model in the [llm] table')
        return cls(speakers=speakers, sources=sources, **sections)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        """Read `path`, or ./briefing.toml when it exists, else the defaults."""
        if path is None:
            path = Path(CONFIG_FILE)
            if not path.exists():
                return cls()
        return cls.from_dict(read_toml(path, "the config"), str(path))

    def to_dict(self) -> dict[str, Any]:
        """The sectioned form, as briefing.toml may write it."""
        data = {name: asdict(getattr(self, name)) for name in SECTIONS}
        data["wording"]["transitions"] = list(self.wording.transitions)
        return {**data, "sources": [asdict(s) for s in self.sources], "speakers": dict(self.speakers)}

    def with_synthesis(self, **changes: Any) -> Config:
        """A copy with some synthesis settings changed, validated like the file's."""
        return replace(self, synthesis=replace(self.synthesis, **changes))


def _sources(value: Any, source: str) -> tuple[SourceConfig, ...]:
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ConfigError(f"{source}: sources must be [[sources]] tables, got {value!r}")
    made = []
    for order, entry in enumerate(value):
        unknown = set(entry) - {f.name for f in fields(SourceConfig)}
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {sorted(unknown)[0]!r} in [[sources]]; known: {', '.join(f.name for f in fields(SourceConfig))}"
            )
        try:
            typed = _typed(SourceConfig, entry, source)
        except ConfigError as exc:
            where = entry.get("name") or entry.get("url") or entry.get("path") or f"#{order + 1}"
            raise ConfigError(f"{source}: source {where}: {exc}") from None
        try:
            made.append(SourceConfig(**{"priority": order, **typed}))
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return tuple(made)


def _put(target: dict[str, Any], name: str, value: Any, source: str) -> None:
    if name in target:
        raise ConfigError(f"{source}: '{name}' is set twice (flat and in its table)")
    target[name] = value


def _typed(kind: type, given: dict[str, Any], source: str) -> dict[str, Any]:
    """`given` checked against the field types of `kind` (TOML integers are accepted as floats)."""
    defaults = {f.name: f.default for f in fields(kind)}
    typed: dict[str, Any] = {}
    for name, value in given.items():
        default = defaults[name]
        if isinstance(default, StrEnum):
            choices = [member.value for member in type(default) if member.value]
            if value not in [member.value for member in type(default)]:
                raise ConfigError(f"unknown {name} {value!r}; expected one of {', '.join(choices)}")
            value = type(default)(value)
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"'{name}' must be a list of strings, got {value!r}")
            value = tuple(value)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, type(default)):
            raise ConfigError(f"'{name}' must be {type(default).__name__}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"'{name}' must be a finite number, got {value!r}")
        if isinstance(value, str):
            value = clean_text(value)  # nothing invisible reaches the feed, the page or the tags
        elif isinstance(value, tuple):
            value = tuple(clean_text(item) for item in value)
        typed[name] = value
    return typed
