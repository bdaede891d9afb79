"""Pipeline: pages or sources -> articles -> summaries -> script -> episode folder -> feed, composed
from the stages.

The use cases a command line or a library caller runs: `daily`, `gather` (what the sources offer),
`episode_from_script`, `write_review_script` and `batch`, each one call that returns what it did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .config import Config
from .episode import (
    AUDIO_FILE,
    COVER_FILE,
    Chapter,
    Manifest,
    clock,
    episode_number,
    finished_manifest,
    read_manifest,
    write_chapters_json,
    write_manifest,
    write_transcripts,
)
from .errors import BriefingError, ConfigError, EngineUnavailableError, InputError, OutputError, UsageError
from .files import describe_write_error, make_staging_folder, output_lock, remove_stale_staging, source_digest, write_atomically
from .ingest import Article, expand_inputs, read_articles
from .normalize import Lexicon, to_spoken
from .pinyin import dictionary_readings, spoken_syllables
from .publish import publish
from .script import Script, build_script, read_script, write_script
from .summarize import Summary, SummaryTarget, summarize
from .text import has_cjk, split_sentences
from .voices import VoicePreset, fallback_chain, find_preset, preset_for_engine

# The stages that need numpy, the engines, the network or a database are imported where they are
# used, so a rerun with nothing to make (and `briefing --help`) starts fast.
if TYPE_CHECKING:
    from .choose import Choice
    from .engines import Engine
    from .measure import Loudness
    from .synthesize import ProgressCallback, SynthesisReport, SynthesisSettings


@dataclass(frozen=True)
class Ingested:
    articles: tuple[Article, ...]
    problems: tuple[str, ...]  # one message per input that could not be used


@dataclass(frozen=True)
class Episode:
    directory: Path
    number: int
    stories: int
    duration: float
    chapters: tuple[Chapter, ...]
    synthesis: SynthesisReport
    loudness: Loudness  # of the master, as encoded

    @property
    def mp3(self) -> Path:
        return self.directory / AUDIO_FILE


def today(config: Config) -> dt.date:
    return dt.datetime.now(ZoneInfo(config.wording.timezone)).date()


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
    if pages:
        ingested, gathered = ingest_pages(pages, require_articles=True), None
    elif config.sources:
        gathered = gather(config, day, out_root)
        ingested = Ingested(gathered.articles, gathered.problems)
        if not ingested.articles:
            from .choose import STATUSES

            found = ", ".join(
                f"{sum(c.status == s for c in gathered.choices)} {s}" for s in STATUSES if any(c.status == s for c in gathered.choices)
            )
            summary = f"no new story in the sources for {day.isoformat()} ({found}); see briefing sources"
            raise InputError("\n".join([*gathered.problems, summary]))
    else:
        raise UsageError("no pages given and no [[sources]] in briefing.toml: pass page files, or configure sources (see the README)")
    fingerprint = inputs_fingerprint(ingested.articles, config, day)
    with output_lock(out_root):
        remove_stale_staging(out_root)
        reused = finished_episode(out_root, day, fingerprint)
        episode: Episode | None = None
        warnings: tuple[str, ...] = ()
        if reused is None:
            _load_mastering()
            with _executor(config, executor) as run_on:
                planned = plan_script(ingested.articles, config, day)
                episode = make_episode(planned.script, config, out_root, progress, fingerprint, run_on)
            warnings = planned.warnings
            if gathered is not None:
                gathered.remember(day, out_root, planned.articles)
        feed = publish(out_root, config, base_url)
    return DailyResult(out_root / day.isoformat() / AUDIO_FILE, episode, reused, feed, ingested.problems, warnings)


@dataclass(frozen=True)
class Gathered:
    """What the sources offer for one day: every item's Choice, and the new stories to tell."""

    choices: tuple[Choice, ...]

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(c.item.article for c in self.choices if c.status == "new" and c.item is not None)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(
            f"{c.source}: {c.detail}" if not c.detail.startswith(c.url or "\0") else c.detail for c in self.choices if c.status == "error"
        )

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
    with output_lock(out_root):
        remove_stale_staging(out_root)
        with _executor(config, executor) as run_on:
            episode = make_episode(script, config, out_root, progress, executor=run_on)
        publish(out_root, config)
    return episode


def write_review_script(pages: list[Path], config: Config, date: dt.date | None = None, folder: Path | None = None) -> ReviewScript:
    """script.json and script.md for page files, to review and edit before `episode_from_script`."""
    ingested = ingest_pages(pages, require_articles=True)
    day = date or today(config)
    planned = plan_script(ingested.articles, config, day)
    path = write_script(planned.script, folder or config.paths.output_path / day.isoformat())
    return ReviewScript(path, ingested.problems, planned.warnings)


def load_lexicon(config: Config) -> Lexicon | None:
    path = config.paths.lexicon_path
    return Lexicon.load(path) if path.exists() else None


def pronounce(text: str, lexicon: Lexicon | None, raw: bool = False) -> list[str]:
    """The offline voice's syllables for `text`: normalized, lexicon and tone sandhi applied; with
    `raw`, the dictionary reading in context of each Han character of `text` as it is."""
    if raw:
        return dictionary_readings(text)
    return spoken_syllables(to_spoken(text, lexicon))


@dataclass(frozen=True)
class PlannedScript:
    script: Script
    warnings: tuple[str, ...]  # what was left out, and why
    articles: tuple[Article, ...] = ()  # the articles the script tells, in its order


# What each story adds besides its summary (transition, title, pauses, the chime), in seconds.
STORY_FRAME_SECONDS = 5.0
# Below this share of Chinese characters a story is not read: the voice would spell it letter by letter.
MIN_CHINESE_SHARE = 0.5


def plan_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> PlannedScript:
    """The script for `articles`, keeping to `max_stories` and `max_minutes` and leaving out stories
    that are mostly not Chinese; each thing left out is said in a warning."""
    wording = config.wording
    target = SummaryTarget(wording.story_seconds, wording.chars_per_second)
    warnings: list[str] = []
    chinese = [_chinese_share(a.title + a.body) >= MIN_CHINESE_SHARE for a in articles]
    if not all(chinese):
        foreign = [a for a, ok in zip(articles, chinese) if not ok]
        warnings.append(f"left out {len(foreign)} stories that are mostly not Chinese: {_titles(foreign)}")
    candidates = [a for a, ok in zip(articles, chinese) if ok]
    if wording.max_stories and len(candidates) > wording.max_stories:
        warnings.append(
            f"left out {len(candidates) - wording.max_stories} stories over max_stories = {wording.max_stories}: "
            f"{_titles(candidates[wording.max_stories :])}"
        )
        candidates = candidates[: wording.max_stories]
    kept: list[Article] = []
    summaries = []
    seconds = 0.0
    for n, article in enumerate(candidates):
        summary = summarize(article, target)
        seconds += len(summary.text) / wording.chars_per_second + STORY_FRAME_SECONDS
        if wording.max_minutes and kept and seconds > wording.max_minutes * 60:
            warnings.append(
                f"left out {len(candidates) - n} stories to keep the episode under max_minutes = {wording.max_minutes:g}: "
                f"{_titles(candidates[n:])}"
            )
            break
        kept.append(article)
        summaries.append(summary)
    if not kept:
        raise InputError("no story left to read: " + "; ".join(warnings))
    if config.stories.summarizer == "llm":
        summaries, fallbacks = _llm_summaries(kept, summaries, target, config)
        if fallbacks:
            warnings.append(f"{len(fallbacks)} stories use the extractive summary, the LLM's could not be used: {'; '.join(fallbacks)}")
    script = build_script(summaries, date, config, load_lexicon(config), kickers=[a.kicker for a in kept], sources=[a.source for a in kept])
    return PlannedScript(script, tuple(warnings), tuple(kept))


def _llm_summaries(
    articles: list[Article], extractive: list[Summary], target: SummaryTarget, config: Config
) -> tuple[list[Summary], list[str]]:
    """The LLM's summary for each article, or the extractive one with the reason (see `llm`)."""
    from .llm import LlmUnavailable, LlmUnusable, llm_summary

    summaries, fallbacks = [], []
    down: LlmUnavailable | None = None  # once the endpoint fails, the other stories do not wait on it
    for article, fallback in zip(articles, extractive):
        try:
            text = llm_summary(article, target.chars, config.llm, config.paths.cache_path, down)
            summaries.append(Summary(article.title, tuple(split_sentences(text)), article.byline, by=f"llm:{config.llm.model}"))
        except LlmUnusable as exc:
            down = exc if isinstance(exc, LlmUnavailable) else down
            fallbacks.append(f"《{article.title}》 ({exc})")
            summaries.append(replace(fallback, by=f"extractive (llm: {exc})"))
    return summaries, fallbacks


def make_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> Script:
    return plan_script(articles, config, date).script


def _chinese_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalnum()]
    return sum(1 for ch in letters if has_cjk(ch)) / len(letters) if letters else 0.0


def _titles(articles: list[Article], shown: int = 5) -> str:
    titles = "；".join(f"《{a.title}》" for a in articles[:shown])
    return titles + (f" and {len(articles) - shown} more" if len(articles) > shown else "")


def preset_chains(script: Script, config: Config) -> list[tuple[VoicePreset, ...]]:
    """Each segment's preset and its fallbacks: the host voice frames the episode, `voice` reads the stories."""
    story = fallback_chain(find_preset(config.synthesis.voice, config.paths.voices_path), config.paths.voices_path)
    host = (
        fallback_chain(find_preset(config.synthesis.host_voice, config.paths.voices_path), config.paths.voices_path)
        if config.synthesis.host_voice
        else story
    )
    if config.synthesis.strict:
        story, host = story[:1], host[:1]
    return [story if segment.story is not None else host for segment in script.segments]


def synthesis_settings(config: Config) -> SynthesisSettings:
    from .engines import EngineSettings
    from .synthesize import SynthesisSettings

    return SynthesisSettings(
        workers=config.synthesis.workers,
        connections=config.synthesis.connections,
        breaker=config.synthesis.breaker,
        engine=EngineSettings(retries=config.synthesis.retries, retry_delay=config.synthesis.retry_delay, timeout=config.synthesis.timeout),
    )


def inputs_fingerprint(articles: tuple[Article, ...], config: Config, date: dt.date) -> str:
    """Everything an episode depends on: articles, config, voice presets, lexicon and briefing's own code."""
    presets = [
        fallback_chain(find_preset(name, config.paths.voices_path), config.paths.voices_path)
        for name in (config.synthesis.voice, config.synthesis.host_voice)
        if name
    ]
    lexicon = config.paths.lexicon_path.read_bytes() if config.paths.lexicon_path.exists() else b""
    settings = config.to_dict()
    for where_it_runs in ("cluster", "workers", "connections"):  # the same episode, wherever it is made
        settings["synthesis"].pop(where_it_runs)
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [[a.to_dict() for a in articles], settings, [[p.__dict__ for p in chain] for chain in presets], date.isoformat()],
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
    )
    digest.update(lexicon)
    digest.update(source_digest())
    return digest.hexdigest()


def finished_episode(out_root: Path, date: dt.date, fingerprint: str) -> Manifest | None:
    """The manifest of a complete episode made from exactly these inputs, if there is one."""
    manifest = finished_manifest(out_root / date.isoformat())
    # An episode with fallback segments is remade: the preferred voice may answer this time.
    return manifest if manifest and manifest.inputs == fingerprint and not manifest.fallbacks else None


def make_episode(
    script: Script,
    config: Config,
    out_root: Path,
    progress: ProgressCallback | None = None,
    fingerprint: str = "",
    executor: Executor | None = None,
) -> Episode:
    """Synthesize, mix, master and write one episode folder; it replaces an older one only when complete.
    The caller holds the output folder's lock (`files.output_lock`), as `daily` does. Synthesis runs
    on `executor` when given (a cluster's, a batch's shared pool), else on this machine."""
    from .assemble import EpisodeWriter, write_tags
    from .cover import cover_bytes
    from .synthesize import SegmentCache, synthesize_segments

    _load_mastering()
    final_dir = out_root / script.date.isoformat()
    number = episode_number(out_root, final_dir)
    previous = read_manifest(final_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    staging = make_staging_folder(out_root, script.date.isoformat())
    try:
        write_script(script, staging)
        mp3 = staging / AUDIO_FILE
        # The episode is mixed, mastered and encoded as its segments arrive, not after the last one.
        with EpisodeWriter(script, mp3) as writer:
            synthesis = synthesize_segments(
                list(script.segments),
                preset_chains(script, config),
                SegmentCache(config.paths.cache_path),
                synthesis_settings(config),
                progress,
                executor,
                on_audio=writer.add,
            )
            mix = writer.finish()
        title = f"{script.programme} {script.date.year}年{script.date.month}月{script.date.day}日"
        rundown = "；".join(f"{c.title}（{clock(c.start)}）" for c in mix.chapters)
        write_tags(
            mp3,
            title=title,
            programme=script.programme,
            author=config.feed.author,
            date=script.date.isoformat(),
            number=number,
            cover_jpeg=cover_bytes(script.programme, 600, "JPEG"),
            chapters=mix.chapters,
            description=rundown,
        )
        write_transcripts(mix.cues, staging)
        write_chapters_json(mix.chapters, staging)
        write_manifest(
            staging,
            Manifest(
                number=number,
                # A remade episode keeps its identity and publication time, so podcast apps do not list it twice.
                guid=previous.guid if previous and previous.guid else f"urn:uuid:{uuid.uuid4()}",
                published=previous.published if previous and previous.published else now,
                date=script.date.isoformat(),
                title=title,
                programme=script.programme,
                duration=round(mix.duration, 3),
                audio_bytes=mp3.stat().st_size,
                integrated_lufs=mix.loudness.integrated_lufs,
                true_peak_dbtp=mix.loudness.true_peak_dbtp,
                chapters=mix.chapters,
                stories=tuple(s.to_dict() for s in script.stories),
                presets=synthesis.segments_per_preset,
                segment_presets=synthesis.presets,
                # episode.json keeps the key `voice` for the preset, as earlier versions wrote it.
                fallbacks=tuple(
                    {"segment": f.segment, "voice": f.preset, "fallback": f.fallback, "reason": f.reason} for f in synthesis.fallbacks
                ),
                segments=len(script.segments),
                inputs=fingerprint,
                created=now,
            ),
        )
        write_atomically(out_root / COVER_FILE, cover_bytes(script.programme))
        _swap_into_place(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Episode(final_dir, number, len(script.stories), mix.duration, mix.chapters, synthesis, mix.loudness)


@contextmanager
def _executor(config: Config, given: Executor | None) -> Iterator[Executor | None]:
    """`given`; else the configured cluster's executor; else, when the voice's engine runs in
    processes, a local pool whose workers start loading it at once, while the script is written;
    else None (synthesis picks its own)."""
    from .cluster import cluster_executor
    from .synthesize import process_pool, warm_up

    if given is not None:
        yield given
        return
    if config.synthesis.cluster:
        with cluster_executor(config.synthesis.cluster) as executor:
            yield executor
        return
    workers = config.synthesis.workers or os.cpu_count() or 1
    engine = _voice_engine(config)
    if engine is None or engine.parallel != "processes" or workers == 1:
        yield None
        return
    pool = process_pool(workers)
    try:
        warm_up(pool, engine, synthesis_settings(config), workers)
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # the workers exit while the feed is written


def _voice_engine(config: Config) -> type[Engine] | None:
    """The engine of the voice that reads the stories, if it can run here."""
    from .engines import engine_class

    try:
        return engine_class(find_preset(config.synthesis.voice, config.paths.voices_path).engine)
    except (ConfigError, UsageError, EngineUnavailableError):
        return None


@lru_cache(maxsize=1)
def _load_mastering() -> None:
    """Import what mixing and mastering need (numpy, scipy, pyloudnorm, pydub: about half a second)
    on a thread, once, while the script is written and the engine loads."""

    def load() -> None:
        import pyloudnorm.iirfilter  # noqa: F401
        import scipy.signal  # noqa: F401

        from . import assemble  # noqa: F401

    threading.Thread(target=load, name="load-mastering", daemon=True).start()


def _swap_into_place(staging: Path, final_dir: Path) -> None:
    old = None
    try:
        if final_dir.exists():
            old = final_dir.with_name(f".{final_dir.name}-old-{os.getpid()}")
            os.replace(final_dir, old)
        os.replace(staging, final_dir)
    except OSError as exc:
        if old is not None and not final_dir.exists():
            os.replace(old, final_dir)
        raise OutputError(describe_write_error(final_dir, exc)) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    with _executor(first, None) as executor:
        for path, config in zip(config_files, configs):
            try:
                made.append((path, daily([], config, date, None, "", progress, executor), ""))
            except BriefingError as exc:
                made.append((path, None, str(exc)))
    return BatchResult(tuple(made))
