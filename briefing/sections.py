"""Config sections: what a user may set in briefing.toml, one frozen dataclass per concern, each
validated when it is made. Every setting has a working default, defined once here, and a docstring
that docs/configuration.md is generated from."""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .voices import bundled_voices

BASE_URL_RE = re.compile(r"^https?://[^/\s]+")  # http(s)://host[:port][/path]
PORT = 8000  # where `briefing serve` listens unless told otherwise
DEFAULT_BASE_URL = f"http://127.0.0.1:{PORT}"
STORY_SECONDS = 45.0
CHARS_PER_SECOND = 4.6  # Mandarin news voices say 4 to 5 characters a second; the offline voice measures 4.6


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
        for name in ("programme", "last_transition"):
            if not getattr(self, name).strip():
                raise ConfigError(f"{name} must not be empty: the episode says it, and the feed and tags are named after it")
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
        for name in ("author", "description"):
            if not getattr(self, name).strip():
                raise ConfigError(f"{name} must not be empty: podcast apps require it in the feed")
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
    """Folder of voice presets and the lexicon; empty means ./voices when it exists, else the ones that ship with briefing."""
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
        return local if local.is_dir() else bundled_voices()

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
    """An RSS or Atom feed, or an article page (http:// or https://); give url or path, not both."""
    path: str = ""
    """A page file, a folder of them, or a JSON Lines file on this machine."""
    kind: SourceKind = SourceKind.GUESS
    """rss (RSS or Atom), web (one article page), page (page files or a folder of them), jsonl; empty: guessed."""
    priority: int = 0
    """Lower is told first; sources with the same priority keep their order in the file."""
    allow_private: bool = False
    """Follow item links and redirects to loopback, private, link-local and other non-public addresses (an intranet feed)."""
    max_pages: int = 30
    """At most this many linked article pages are fetched for the items of a feed; the rest keep their teaser."""
    budget_seconds: float = 120.0
    """The whole source, linked pages included, gets this long; pages not fetched by then keep their teaser."""

    def __post_init__(self) -> None:
        _check_range("max_pages", self.max_pages, 0, 1000)
        _check_range("budget_seconds", self.budget_seconds, 1, 3600)
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
    """The endpoint's address, up to /v1 (for example http://127.0.0.1:11434/v1 for Ollama)."""
    model: str = ""
    """The model to ask, as the endpoint names it."""
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


@dataclass(frozen=True)
class RetentionConfig:
    """What a year of mornings may leave on disk."""

    keep_days: int = 0
    """Episode folders older than this many days are removed after each publish, and leave the feed (0: keep every episode)."""
    cache_max_mb: int = 2048
    """The segment cache is kept under this size by removing the least recently used segments at the end of a run."""
    http_cache_max_mb: int = 256
    """The HTTP cache of sources' pages and feeds is kept under this size."""

    def __post_init__(self) -> None:
        _check_range("keep_days", self.keep_days, 0, 36500)
        _check_range("cache_max_mb", self.cache_max_mb, 1, 10_000_000)
        _check_range("http_cache_max_mb", self.http_cache_max_mb, 1, 100_000)


@dataclass(frozen=True)
class ReviewConfig:
    """Review before air: drafts, and the review desk that `briefing serve` offers at /review/."""

    draft: bool = False
    """`briefing daily` makes a draft (script and audio, nothing published) for `briefing publish` or the desk to approve."""
    token: str = ""
    """The desk's secret, needed on any address but loopback (the environment variable BRIEFING_REVIEW_TOKEN wins; empty: a new one each start)."""

    def __post_init__(self) -> None:
        if self.token and (len(self.token) < 16 or not self.token.isascii() or not self.token.isprintable() or " " in self.token):
            raise ConfigError("invalid token: use at least 16 printable ASCII characters without spaces")


SECTIONS: dict[str, type] = {
    "wording": WordingConfig,
    "feed": FeedConfig,
    "synthesis": SynthesisConfig,
    "paths": PathsConfig,
    "stories": StoriesConfig,
    "llm": LlmConfig,
    "retention": RetentionConfig,
    "review": ReviewConfig,
}
TABLE_ONLY = {"llm"}  # its keys (timeout…) are only understood inside its table
