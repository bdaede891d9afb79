"""Config: the programme's name, wording and defaults, read from briefing.toml."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

CONFIG_FILE = "briefing.toml"
BASE_URL_RE = re.compile(r"^https?://[^/\s]+")  # http(s)://host[:port][/path]
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def read_toml(path: Path, what: str) -> dict[str, object]:
    """Parse a TOML file; an unreadable or invalid one is a ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


@dataclass(frozen=True)
class Config:
    """Everything a user may set in briefing.toml; every field has a working default."""

    programme: str = "每日新闻简报"
    """Programme name, said in the intro and outro and used as artist and album."""
    author: str = "briefing"
    """Who makes the programme (ID3 artist, feed author and owner)."""
    description: str = "每天早上几分钟，听完今天的本地新闻。由 briefing 自动生成。"
    """The programme's description in the feed and on the page."""
    owner_email: str = ""
    """Contact e-mail for itunes:owner and podcast:locked (Apple asks for one before listing a show)."""
    website: str = ""
    """The programme's web page (default: the page `briefing serve` shows)."""
    base_url: str = ""
    """Public address of the output folder, e.g. https://news.example.com/briefing (default: what the feed has, else http://127.0.0.1:8000)."""
    feed_episodes: int = 30
    """How many of the newest episodes the feed and the page list."""
    locked: bool = False
    """podcast:locked: true asks other podcast platforms not to import the feed."""
    alexa: bool = False
    """Also write alexa.json, an Alexa Flash Briefing feed with a -14 LUFS clip per story (needs a public HTTPS base_url)."""
    timezone: str = "Asia/Shanghai"
    """Time zone that decides what 'today' is."""
    story_seconds: float = 45.0
    """Target length of each story's summary, in seconds of speech."""
    chars_per_second: float = 4.6
    """Speaking rate used to turn seconds into characters (the offline voice measures 4.6)."""
    max_stories: int = 0
    """Read at most this many stories (0: all)."""
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
    voice: str = "offline"
    """Voice preset (a file in voices/) that reads the stories, and everything else unless host_voice is set."""
    host_voice: str = ""
    """Two-voice layout: the preset for the intro, rundown, transitions and outro (empty: `voice`)."""
    strict: bool = False
    """Fail instead of using a preset's fallback voice when a segment cannot be made."""
    output_dir: str = "output"
    """Where episodes are written, one folder per date."""
    cache_dir: str = ""
    """Segment cache; empty means $BRIEFING_CACHE_DIR or ~/.cache/briefing."""
    voices_dir: str = ""
    """Folder of voice presets and the lexicon; empty means ./voices, else the bundled one."""
    lexicon: str = "lexicon.tsv"
    """Pronunciation lexicon file name inside voices_dir."""
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
    speakers: dict[str, str] = field(default_factory=dict)
    """Speaker aliases: name -> target (upnp:…, cast:…, ha:media_player.…, xiaomi:…); a [speakers] table."""

    @classmethod
    def from_dict(cls, data: dict[str, object], source: str = CONFIG_FILE) -> Config:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown setting '{key}'; known settings: {', '.join(known)}")
            spec = known[key]
            default = spec.default if spec.default is not MISSING else spec.default_factory()  # type: ignore[misc]
            if isinstance(default, dict):
                if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                    raise ConfigError(f"{source}: '{key}' must be a table of names to strings, got {value!r}")
            elif isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise ConfigError(f"{source}: '{key}' must be a list of strings, got {value!r}")
                value = tuple(value)
            elif isinstance(default, float) and isinstance(value, int):
                value = float(value)
            elif not isinstance(value, type(default)):
                raise ConfigError(f"{source}: '{key}' must be {type(default).__name__}, got {value!r}")
            values[key] = value
        config = cls(**values)  # type: ignore[arg-type]
        config.validate(source)
        return config

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["transitions"] = list(self.transitions)
        return data

    def validate(self, source: str = CONFIG_FILE) -> None:
        if self.story_seconds <= 0 or self.story_seconds > 600:
            raise ConfigError(f"{source}: invalid story_seconds {self.story_seconds}: expected 1..600")
        if not 1 <= self.chars_per_second <= 12:
            raise ConfigError(f"{source}: invalid chars_per_second {self.chars_per_second}: expected 1..12")
        if not self.transitions:
            raise ConfigError(f"{source}: transitions must name at least one phrase")
        if self.feed_episodes < 1:
            raise ConfigError(f"{source}: invalid feed_episodes {self.feed_episodes}: expected at least 1")
        if self.base_url and not BASE_URL_RE.match(self.base_url):
            raise ConfigError(f"{source}: invalid base_url {self.base_url!r}: expected http://host[:port][/path] or https://...")
        if not 1 <= self.connections <= 16:
            raise ConfigError(f"{source}: invalid connections {self.connections}: expected 1..16 (the service throttles many)")
        if self.retries < 0 or self.retry_delay < 0 or self.timeout < 1 or self.breaker < 0:
            raise ConfigError(f"{source}: retries, retry_delay and breaker must be >= 0 and timeout >= 1")

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        """Read `path`, or ./briefing.toml when it exists, else the defaults."""
        if path is None:
            path = Path(CONFIG_FILE)
            if not path.exists():
                return cls()
        return cls.from_dict(read_toml(path, "the config"), str(path))

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
        body_end = re.search(r"^\[", text[table.end():], re.M)
        end = table.end() + (body_end.start() if body_end else len(text) - table.end())
        body = re.sub(rf"^{re.escape(alias)}\s*=.*\n?", "", text[table.end():end], flags=re.M)
        text = text[: table.end()] + "\n" + line + body.rstrip("\n") + "\n" + text[end:]
    Config.from_dict(tomllib.loads(text), str(path))  # never write a config that would not load
    path.write_text(text, encoding="utf-8")
