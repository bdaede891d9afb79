"""Config: what a user may set in briefing.toml, in sections, each validated when it is made.

briefing.toml may name each setting flat (`programme = "…"`, as older files do) or inside its
section's table (`[wording]`, `[feed]`, `[synthesis]`, `[paths]`); `[speakers]` is a table of
aliases. Every setting has a working default, defined once here.
"""

from __future__ import annotations

import json
import math
import os
import re
import string
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .text import clean_text

CONFIG_FILE = "briefing.toml"
BASE_URL_RE = re.compile(r"^https?://[^/\s]+")  # http(s)://host[:port][/path]
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PORT = 8000  # where `briefing serve` listens unless told otherwise
DEFAULT_BASE_URL = f"http://127.0.0.1:{PORT}"
STORY_SECONDS = 45.0
CHARS_PER_SECOND = 4.6  # Mandarin news voices say 4 to 5 characters a second; the offline voice measures 4.6


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; an unreadable or invalid one is a ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {what} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (low <= value <= high):  # also catches nan
        raise ConfigError(f"invalid {name} {value}: expected {low:g}..{high:g}")


def _check_template(name: str, template: str, allowed: set[str]) -> None:
    try:
        used = {field_name for _, field_name, _, _ in string.Formatter().parse(template) if field_name is not None}
    except ValueError as exc:
        raise ConfigError(f"invalid {name} {template!r}: {exc}; write a literal brace as {{{{ or }}}}") from None
    unknown = used - allowed
    if unknown:
        raise ConfigError(
            f"invalid {name} {template!r}: unknown placeholder {{{sorted(unknown)[0]}}}; "
            f"known: {', '.join('{' + name + '}' for name in sorted(allowed))}"
        )


@dataclass(frozen=True)
class WordingConfig:
    """What the programme says, how long each story runs, and which day is today."""

    programme: str = "每日新闻简报"
    """Programme name, said in the intro and outro and used as artist and album."""
    timezone: str = "Asia/Shanghai"
    """Time zone that decides what 'today' is."""
    story_seconds: float = STORY_SECONDS
    """Target length of each story's summary, in seconds of speech."""
    chars_per_second: float = CHARS_PER_SECOND
    """Speaking rate used to turn seconds into characters (the offline voice measures 4.6)."""
    max_stories: int = 0
    """Read at most this many stories (0: all); the rest are named in a warning."""
    max_minutes: float = 60.0
    """Leave out the last stories when the episode would run longer than this (0: no limit)."""
    intro: str = "欢迎收听{programme}。今天是{date}，{weekday}。本期共有{count}条新闻。"
    """Intro wording; {programme}, {date}, {weekday} and {count} are filled in."""
    rundown: str = "主要内容有："
    """Said before the list of headlines."""
    transitions: tuple[str, ...] = ("首先来看：", "接下来：", "再来看：", "下面这条新闻：", "我们再关注：", "继续来看：")
    """Said before each story's title, in turn; the last story always gets `last_transition`."""
    last_transition: str = "最后来看："
    """Said before the last story's title."""
    outro: str = "以上就是今天的{programme}。感谢收听，我们明天再见。"
    """Outro wording; {programme} is filled in."""

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown timezone {self.timezone!r}: expected an IANA name such as Asia/Shanghai") from None
        _check_range("story_seconds", self.story_seconds, 1, 600)
        _check_range("chars_per_second", self.chars_per_second, 1, 12)
        _check_range("max_stories", self.max_stories, 0, 1000)
        _check_range("max_minutes", self.max_minutes, 0, 600)
        _check_template("intro", self.intro, {"programme", "date", "weekday", "count"})
        _check_template("outro", self.outro, {"programme"})
        if not self.transitions:
            raise ConfigError("transitions must name at least one phrase")


@dataclass(frozen=True)
class FeedConfig:
    """How the programme presents itself in the feed, on the page and to Alexa."""

    author: str = "briefing"
    """Who makes the programme (ID3 artist, feed author and owner)."""
    description: str = "每天早上几分钟，听完今天的本地新闻。由 briefing 自动生成。"
    """The programme's description in the feed and on the page."""
    owner_email: str = ""
    """Contact e-mail for itunes:owner and podcast:locked (Apple asks for one before listing a show)."""
    website: str = ""
    """The programme's web page (default: the page `briefing serve` shows)."""
    base_url: str = ""
    """Public address of the output folder, e.g. https://news.example.com/briefing (default: what the feed has, else DEFAULT_BASE_URL)."""
    feed_episodes: int = 30
    """How many of the newest episodes the feed and the page list."""
    locked: bool = False
    """podcast:locked: true asks other podcast platforms not to import the feed."""
    alexa: bool = False
    """Also write alexa.json, an Alexa Flash Briefing feed with a -14 LUFS clip per story (needs a public HTTPS base_url)."""

    def __post_init__(self) -> None:
        _check_range("feed_episodes", self.feed_episodes, 1, 10000)
        if self.base_url and not BASE_URL_RE.match(self.base_url):
            raise ConfigError(f"invalid base_url {self.base_url!r}: expected http://host[:port][/path] or https://...")


@dataclass(frozen=True)
class SynthesisConfig:
    """Which voice presets read, and how hard synthesis tries."""

    voice: str = "offline"
    """Voice preset (a file in voices/) that reads the stories, and everything else unless host_voice is set."""
    host_voice: str = ""
    """Two-voice layout: the preset for the intro, rundown, transitions and outro (empty: `voice`)."""
    strict: bool = False
    """Fail instead of using a preset's fallback voice when a segment cannot be made."""
    workers: int = 0
    """Synthesis processes for the offline engine (0: one per core)."""
    connections: int = 4
    """Online engine: requests open at once."""
    retries: int = 4
    """Online engine: attempts after the first before a segment goes to the fallback voice."""
    retry_delay: float = 1.0
    """Online engine: first wait between attempts, in seconds; it doubles each time, with jitter."""
    timeout: int = 20
    """Online engine: seconds without data before a request is abandoned."""
    breaker: int = 5
    """After this many segments in a row fail, the rest of the episode goes straight to the fallback (0: never)."""
    cluster: str = ""
    """A Dask scheduler (tcp://host:8786) whose workers synthesize; empty: this machine."""

    def __post_init__(self) -> None:
        if not self.voice:
            raise ConfigError("voice must name a voice preset")
        _check_range("workers", self.workers, 0, 256)
        _check_range("connections", self.connections, 1, 16)  # the service throttles many
        _check_range("retries", self.retries, 0, 20)
        _check_range("retry_delay", self.retry_delay, 0, 60)
        _check_range("timeout", self.timeout, 1, 600)
        _check_range("breaker", self.breaker, 0, 10000)
        if self.cluster and not re.match(r"^(tcp|tls|inproc|ucx)://\S+$", self.cluster):
            raise ConfigError(f"invalid cluster {self.cluster!r}: expected a Dask scheduler address such as tcp://10.0.0.5:8786")


@dataclass(frozen=True)
class PathsConfig:
    """Where episodes, the segment cache, voice presets and the lexicon live."""

    output_dir: str = "output"
    """Where episodes are written, one folder per date."""
    cache_dir: str = ""
    """Segment cache; empty means $BRIEFING_CACHE_DIR or ~/.cache/briefing."""
    voices_dir: str = ""
    """Folder of voice presets and the lexicon; empty means ./voices, else the bundled one."""
    lexicon: str = "lexicon.tsv"
    """Pronunciation lexicon file name inside voices_dir."""

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir)

    @property
    def voices_path(self) -> Path:
        if self.voices_dir:
            return Path(self.voices_dir)
        local = Path("voices")
        return local if local.is_dir() else PROJECT_ROOT / "voices"

    @property
    def lexicon_path(self) -> Path:
        return self.voices_path / self.lexicon

    @property
    def cache_path(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir)
        if os.environ.get("BRIEFING_CACHE_DIR"):
            return Path(os.environ["BRIEFING_CACHE_DIR"])
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "briefing"


class SourceKind(StrEnum):
    """What a source is read as."""

    RSS = "rss"  # an RSS or Atom feed; each item's link is read as an article page
    WEB = "web"  # one article page
    PAGE = "page"  # page files, or a folder of them
    JSONL = "jsonl"  # JSON Lines, one article an object
    GUESS = ""  # a path by its ending; a URL by its answer (a feed when it is XML)


@dataclass(frozen=True)
class SourceConfig:
    """One `[[sources]]` entry: where the day's stories come from."""

    name: str = ""
    """Shown in reports (default: the host or the file name)."""
    url: str = ""
    path: str = ""
    kind: SourceKind = SourceKind.GUESS
    """rss (RSS or Atom), web (one article page), page (page files or a folder of them), jsonl; empty: guessed."""
    priority: int = 0
    """Lower is told first; sources with the same priority keep their order in the file."""

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.path):
            raise ConfigError(f'source {self.name or "#?"}: give exactly one of url = "https://…" or path = "…"')
        if self.url and not BASE_URL_RE.match(self.url):
            raise ConfigError(f"source {self.name or self.url}: invalid url {self.url!r}: expected http:// or https://")
        if not self.name:
            object.__setattr__(self, "name", urlsplit(self.url).hostname or self.url if self.url else Path(self.path).name or self.path)


class Summarizer(StrEnum):
    EXTRACTIVE = "extractive"  # built in: the article's own sentences
    LLM = "llm"  # an OpenAI-compatible chat endpoint, set in [llm]


@dataclass(frozen=True)
class StoriesConfig:
    """Which stories are told, and who summarizes them."""

    summarizer: Summarizer = Summarizer.EXTRACTIVE
    """extractive (built in), or llm (an OpenAI-compatible chat endpoint, set in [llm])."""
    dedup_days: int = 7
    """A story told in the episodes of the last this many days is not told again unless it changed materially (0: off)."""

    def __post_init__(self) -> None:
        _check_range("dedup_days", self.dedup_days, 0, 365)


@dataclass(frozen=True)
class LlmConfig:
    """[llm]: an OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp, DeepSeek, Qwen…)."""

    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    """The name of the environment variable holding the key; the key itself is never written anywhere."""
    timeout: float = 60.0
    """Seconds to wait for one answer."""

    def __post_init__(self) -> None:
        if self.base_url and not BASE_URL_RE.match(self.base_url):
            raise ConfigError(f"invalid [llm] base_url {self.base_url!r}: expected http://host[:port][/path] or https://...")
        if self.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.api_key_env):
            raise ConfigError("[llm] api_key_env must name an environment variable (such as DEEPSEEK_API_KEY), not hold the key")
        _check_range("timeout", self.timeout, 1, 3600)


SECTIONS: dict[str, type] = {
    "wording": WordingConfig,
    "feed": FeedConfig,
    "synthesis": SynthesisConfig,
    "paths": PathsConfig,
    "stories": StoriesConfig,
    "llm": LlmConfig,
}
TABLE_ONLY = {"llm"}  # its keys (timeout…) are only understood inside its table


@dataclass(frozen=True)
class Config:
    """All of briefing.toml: one frozen, validated section per concern, and the speaker aliases."""

    wording: WordingConfig = field(default_factory=WordingConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    stories: StoriesConfig = field(default_factory=StoriesConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
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
            raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} in [[sources]]; known: name, url, path, kind, priority")
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


def save_speaker_alias(path: Path, alias: str, target: str) -> None:
    """Add or replace `alias = "target"` in the [speakers] table of `path`, keeping the rest of the file as written."""
    if not re.match(r"^[A-Za-z0-9_-]+$", alias) or not target:
        raise ConfigError(f"--save expects ALIAS=TARGET with a plain alias (letters, digits, - and _), got {alias!r}={target!r}")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    line = f"{alias} = {json.dumps(target, ensure_ascii=False)}"
    table = re.search(r"^\[speakers\][ \t]*$", text, re.M)
    if table is None:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"[speakers]\n{line}\n"
    else:
        body_end = re.search(r"^\[", text[table.end() :], re.M)
        end = table.end() + (body_end.start() if body_end else len(text) - table.end())
        body = re.sub(rf"^{re.escape(alias)}\s*=.*\n?", "", text[table.end() : end], flags=re.M)
        text = text[: table.end()] + "\n" + line + body.rstrip("\n") + "\n" + text[end:]
    Config.from_dict(tomllib.loads(text), str(path))  # never write a config that would not load
    path.write_text(text, encoding="utf-8")
