"""Pipeline: the use cases a command line or a library caller runs, each one call that returns
what it did: `daily`, `gather` (what the sources offer), `episode_from_script`,
`write_review_script` and `batch`. What an episode says is planned in `plan`; the episode folder
is made in `build`.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .build import Episode, finished_episode, inputs_fingerprint, load_mastering, make_episode, read_voices, synthesis_places
from .config import Config
from .episode import AUDIO_FILE, Manifest
from .errors import BriefingError, ConfigError, EngineUnavailableError, InputError, UsageError
from .files import output_lock, remove_stale_staging
from .ingest import Article, expand_inputs, read_articles
from .normalize import to_spoken
from .pinyin import dictionary_readings, spoken_syllables
from .plan import load_lexicon, plan_script
from .publish import publish
from .script import read_script, write_script
from .voices import VoiceChains, find_preset, preset_for_engine

if TYPE_CHECKING:
    from .choose import Choice
    from .normalize import Lexicon
    from .synthesize import ProgressCallback


@dataclass(frozen=True)
class Ingested:
    articles: tuple[Article, ...]
    problems: tuple[str, ...]  # one message per input that could not be used


@dataclass(frozen=True)
class DailyResult:
    """What `daily` did: the episode it made (None when the one on disk was already made from the
    same inputs), the feed it rewrote, and the inputs it could not use."""

    mp3: Path
    episode: Episode | None
    reused: Manifest | None
    feed: Path
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # what the script left out, and why


@dataclass(frozen=True)
class ReviewScript:
    path: Path
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def today(config: Config) -> dt.date:
    return dt.datetime.now(ZoneInfo(config.wording.timezone)).date()


def ingest_pages(paths: list[Path], require_articles: bool = False) -> Ingested:
    """Read every input; a bad one is reported and the rest are still used. With
    `require_articles`, no article at all is an InputError listing every problem."""
    articles: list[Article] = []
    files, problems = expand_inputs(paths)
    for path in files:
        try:
            articles.extend(read_articles(path))
        except InputError as exc:
            problems.append(str(exc))
    if require_articles and not articles:
        raise InputError("\n".join(problems) or "no article in the inputs")
    return Ingested(tuple(articles), tuple(problems))


def with_voice_choices(
    config: Config, engine: str | None = None, voice: str | None = None, host_voice: str | None = None, strict: bool = False
) -> Config:
    """`config` with a command line's choices: `engine` alone picks that engine's preset for every
    segment; `voice` and `host_voice` name presets; `strict` turns fallbacks off."""
    voices_dir = config.paths.voices_path
    try:
        if engine and not voice:
            from .engines import engine_class

            default_voice = engine_class(engine, must_be_available=False).default_voice
            voice = preset_for_engine(engine, voices_dir, default_voice).name
            host_voice = host_voice or voice
        for name in (voice, host_voice):
            if name:
                find_preset(name, voices_dir)
    except (ConfigError, EngineUnavailableError) as exc:
        raise UsageError(str(exc)) from None
    return config.with_synthesis(
        voice=voice or config.synthesis.voice,
        host_voice=host_voice or config.synthesis.host_voice,
        strict=strict or config.synthesis.strict,
    )


def daily(
    pages: list[Path],
    config: Config,
    date: dt.date | None = None,
    out_root: Path | None = None,
    base_url: str = "",
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> DailyResult:
    """Make the day's episode unless the one on disk was made from the same inputs, then rewrite the
    feed and the page. The stories come from `pages`, or without pages from the configured sources,
    told once across sources and days. Inputs that cannot be read are reported in the result."""
    day = date or today(config)
    out_root = out_root or config.paths.output_path
    ingested, gathered = _day_articles(pages, config, day, out_root)
    voices = read_voices(config)
    fingerprint = inputs_fingerprint(ingested.articles, config, voices, day)
    with output_lock(out_root):
        remove_stale_staging(out_root)
        reused = finished_episode(out_root, day, fingerprint)
        episode: Episode | None = None
        warnings: tuple[str, ...] = ()
        if reused is None:
            load_mastering()
            with synthesis_places(config, voices, executor) as places:
                planned = plan_script(ingested.articles, config, day)
                episode = make_episode(planned.script, config, out_root, voices, places, progress, fingerprint)
            warnings = planned.warnings
            if gathered is not None:
                gathered.remember(day, out_root, planned.articles)
        feed = publish(out_root, config, base_url)
    return DailyResult(out_root / day.isoformat() / AUDIO_FILE, episode, reused, feed, ingested.problems, warnings)


def _day_articles(pages: list[Path], config: Config, day: dt.date, out_root: Path) -> tuple[Ingested, Gathered | None]:
    """The day's articles: from `pages` when given, else the new stories of the configured sources."""
    if pages:
        return ingest_pages(pages, require_articles=True), None
    if not config.sources:
        raise UsageError("no pages given and no [[sources]] in briefing.toml: pass page files, or configure sources (see the README)")
    gathered = gather(config, day, out_root)
    if not gathered.articles:
        from .choose import Status

        counts = [f"{n} {status}" for status in Status if (n := sum(c.status == status for c in gathered.choices))]
        summary = f"no new story in the sources for {day.isoformat()} ({', '.join(counts)}); see briefing sources"
        raise InputError("\n".join([*gathered.problems, summary]))
    return Ingested(gathered.articles, gathered.problems), gathered


@dataclass(frozen=True)
class Gathered:
    """What the sources offer for one day: every item's Choice, and the new stories to tell."""

    choices: tuple[Choice, ...]

    @property
    def articles(self) -> tuple[Article, ...]:
        from .choose import Status

        return tuple(c.item.article for c in self.choices if c.status == Status.NEW and c.item is not None)

    @property
    def problems(self) -> tuple[str, ...]:
        from .choose import Status

        errors = [c for c in self.choices if c.status == Status.ERROR]
        return tuple(f"{c.source}: {c.detail}" if not c.detail.startswith(c.url or "\0") else c.detail for c in errors)

    def remember(self, date: dt.date, out_root: Path, told: tuple[Article, ...]) -> None:
        """Record the stories the finished episode told, so the next days skip them."""
        from .dedup import TOLD_FILE, ToldStories

        ids = {id(article) for article in told}
        stories = ToldStories(out_root / TOLD_FILE)
        try:
            stories.remember(
                date,
                [(c.title, c.url, c.signature) for c in self.choices if c.item is not None and id(c.item.article) in ids and c.signature],
            )
        finally:
            stories.close()


def gather(config: Config, date: dt.date, out_root: Path | None = None) -> Gathered:
    """Read every configured source and choose the day's stories (see `choose`); nothing is written
    but the HTTP cache. `briefing sources` prints this; `daily` tells the new ones."""
    from .choose import choose
    from .dedup import TOLD_FILE, ToldStories
    from .fetch import Fetcher
    from .sources import read_sources

    out_root = out_root or config.paths.output_path
    with Fetcher(config.paths.cache_path / "http") as fetcher:
        results = read_sources(config.sources, fetcher)
    told_path = out_root / TOLD_FILE
    told = ToldStories(told_path) if told_path.exists() else None
    try:
        choices = choose(results, date, ZoneInfo(config.wording.timezone), told, config.stories.dedup_days)
    finally:
        if told:
            told.close()
    return Gathered(tuple(choices))


def episode_from_script(
    script_file: Path,
    config: Config,
    out_root: Path | None = None,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> Episode:
    """Make the episode from a reviewed script.json (only edited segments are synthesized again), then the feed."""
    out_root = out_root or config.paths.output_path
    script = read_script(script_file, load_lexicon(config))
    voices = read_voices(config)
    with output_lock(out_root):
        remove_stale_staging(out_root)
        with synthesis_places(config, voices, executor) as places:
            episode = make_episode(script, config, out_root, voices, places, progress)
        publish(out_root, config)
    return episode


def write_review_script(pages: list[Path], config: Config, date: dt.date | None = None, folder: Path | None = None) -> ReviewScript:
    """script.json and script.md for page files, to review and edit before `episode_from_script`."""
    ingested = ingest_pages(pages, require_articles=True)
    day = date or today(config)
    planned = plan_script(ingested.articles, config, day)
    path = write_script(planned.script, folder or config.paths.output_path / day.isoformat())
    return ReviewScript(path, ingested.problems, planned.warnings)


def pronounce(text: str, lexicon: Lexicon | None, raw: bool = False) -> list[str]:
    """The offline voice's syllables for `text`: normalized, lexicon and tone sandhi applied; with
    `raw`, the dictionary reading in context of each Han character of `text` as it is."""
    if raw:
        return dictionary_readings(text)
    return spoken_syllables(to_spoken(text, lexicon))


@dataclass(frozen=True)
class BatchResult:
    """What `batch` made: each programme's result (or why it failed), in the order given."""

    programmes: tuple[tuple[Path, DailyResult | None, str], ...]  # config, result, error

    @property
    def synthesized(self) -> int:
        return sum(r.episode.synthesis.synthesized for _, r, _ in self.programmes if r and r.episode)

    @property
    def reused(self) -> int:
        return sum(r.episode.synthesis.reused for _, r, _ in self.programmes if r and r.episode)


def batch(
    config_files: list[Path], date: dt.date | None = None, cluster: str = "", progress: ProgressCallback | None = None
) -> BatchResult:
    """Make several programmes' daily episodes in one run, each from its own config (sources, voice,
    output folder), sharing one segment cache (the first config's) and one executor: the cluster at
    `cluster` (or the first config's), else a pool of engine processes on this machine. A sentence
    two programmes share (an intro, a story) is synthesized once. One failing programme does not
    stop the others."""
    configs = [Config.load(path) for path in config_files]
    cache_dir = str(configs[0].paths.cache_path)
    configs = [replace(c, paths=replace(c.paths, cache_dir=cache_dir)) for c in configs]
    first = configs[0].with_synthesis(cluster=cluster) if cluster else configs[0]
    made: list[tuple[Path, DailyResult | None, str]] = []
    try:
        voices: VoiceChains | None = read_voices(first)
    except ConfigError:
        voices = None  # that programme fails on its own; the others share a pool all the same
    with synthesis_places(first, voices) as places:
        for path, config in zip(config_files, configs):
            try:
                made.append((path, daily([], config, date, None, "", progress, places.executor), ""))
            except BriefingError as exc:
                made.append((path, None, str(exc)))
    return BatchResult(tuple(made))
