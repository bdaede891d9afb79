"""Pipeline: pages -> articles -> summaries -> script -> episode folder -> feed, composed from the stages.

The use cases a command line or a library caller runs: `daily`, `episode_from_script`,
`write_review_script`, each one call that returns what it did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from .assemble import Master, master_and_encode, mix_episode, write_tags
from .config import Config
from .cover import cover_bytes
from .engines import EngineSettings, engine_class
from .episode import (
    AUDIO_FILE,
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
from .errors import InputError, OutputError
from .files import describe_write_error, write_atomically
from .ingest import Article, expand_inputs, read_articles
from .normalize import Lexicon, to_spoken
from .pinyin import dictionary_readings, spoken_syllables
from .publish import publish
from .script import Script, build_script, read_script, write_script
from .summarize import SummaryTarget, summarize
from .synthesize import ProgressCallback, SegmentCache, SynthesisReport, SynthesisSettings, synthesize_segments
from .voices import VoicePreset, fallback_chain, find_preset, preset_for_engine


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
    master: Master

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


@dataclass(frozen=True)
class ReviewScript:
    path: Path
    problems: tuple[str, ...]


def ingest_pages(paths: list[Path], require_articles: bool = False) -> Ingested:
    """Read every input; a bad one is reported and the rest are still used. With
    `require_articles`, no article at all is an InputError listing every problem."""
    articles: list[Article] = []
    problems: list[str] = []
    try:
        files = expand_inputs(paths)
    except InputError as exc:
        files, problems = [], [str(exc)]
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
    if engine and not voice:
        default_voice = engine_class(engine, must_be_available=False).default_voice
        voice = preset_for_engine(engine, config.paths.voices_path, default_voice).name
        host_voice = host_voice or voice
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
) -> DailyResult:
    """Make the day's episode from page files unless the one on disk was made from the same inputs,
    then rewrite the feed and the page. Inputs that cannot be read are reported in the result."""
    ingested = ingest_pages(pages, require_articles=True)
    day = date or today(config)
    out_root = out_root or config.paths.output_path
    fingerprint = inputs_fingerprint(ingested.articles, config, day)
    reused = finished_episode(out_root, day, fingerprint)
    episode = None
    if reused is None:
        episode = make_episode(make_script(ingested.articles, config, day), config, out_root, progress, fingerprint)
    feed = publish(out_root, config, base_url)
    return DailyResult(out_root / day.isoformat() / AUDIO_FILE, episode, reused, feed, ingested.problems)


def episode_from_script(
    script_file: Path, config: Config, out_root: Path | None = None, progress: ProgressCallback | None = None
) -> Episode:
    """Make the episode from a reviewed script.json (only edited segments are synthesized again), then the feed."""
    out_root = out_root or config.paths.output_path
    episode = make_episode(read_script(script_file, load_lexicon(config)), config, out_root, progress)
    publish(out_root, config)
    return episode


def write_review_script(pages: list[Path], config: Config, date: dt.date | None = None, folder: Path | None = None) -> ReviewScript:
    """script.json and script.md for page files, to review and edit before `episode_from_script`."""
    ingested = ingest_pages(pages, require_articles=True)
    day = date or today(config)
    made = make_script(ingested.articles, config, day)
    return ReviewScript(write_script(made, folder or config.paths.output_path / day.isoformat()), ingested.problems)


def load_lexicon(config: Config) -> Lexicon | None:
    path = config.paths.lexicon_path
    return Lexicon.load(path) if path.exists() else None


def pronounce(text: str, lexicon: Lexicon | None, raw: bool = False) -> list[str]:
    """The offline voice's syllables for `text`: normalized, lexicon and tone sandhi applied; with
    `raw`, the dictionary reading in context of each Han character of `text` as it is."""
    if raw:
        return dictionary_readings(text)
    return spoken_syllables(to_spoken(text, lexicon))


def make_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> Script:
    if config.wording.max_stories:
        articles = articles[: config.wording.max_stories]
    target = SummaryTarget(config.wording.story_seconds, config.wording.chars_per_second)
    return build_script(
        [summarize(article, target) for article in articles],
        date,
        config,
        load_lexicon(config),
        kickers=[article.kicker for article in articles],
        sources=[article.source for article in articles],
    )


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
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [[a.to_dict() for a in articles], config.to_dict(), [[p.__dict__ for p in chain] for chain in presets], date.isoformat()],
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
    )
    digest.update(lexicon)
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def finished_episode(out_root: Path, date: dt.date, fingerprint: str) -> Manifest | None:
    """The manifest of a complete episode made from exactly these inputs, if there is one."""
    manifest = finished_manifest(out_root / date.isoformat())
    # An episode with fallback segments is remade: the preferred voice may answer this time.
    return manifest if manifest and manifest.inputs == fingerprint and not manifest.fallbacks else None


def make_episode(
    script: Script, config: Config, out_root: Path, progress: ProgressCallback | None = None, fingerprint: str = ""
) -> Episode:
    """Synthesize, mix, master and write one episode folder; it replaces an older one only when complete."""
    synthesis = synthesize_segments(
        list(script.segments), preset_chains(script, config), SegmentCache(config.paths.cache_path), synthesis_settings(config), progress
    )
    mix = mix_episode(script, list(synthesis.audio))
    final_dir = out_root / script.date.isoformat()
    number = episode_number(out_root, final_dir)
    previous = read_manifest(final_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{script.date.isoformat()}-", dir=out_root))
    except OSError as exc:
        raise OutputError(describe_write_error(out_root, exc)) from None
    try:
        write_script(script, staging)
        mp3 = staging / AUDIO_FILE
        master = master_and_encode(mix.samples, mix.sample_rate, mp3)
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
                integrated_lufs=master.after.integrated_lufs,
                true_peak_dbtp=master.after.true_peak_dbtp,
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
        write_atomically(out_root / "cover.png", cover_bytes(script.programme))
        _swap_into_place(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Episode(final_dir, number, len(script.stories), mix.duration, mix.chapters, synthesis, master)


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
