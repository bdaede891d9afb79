"""Building: one episode folder from a script. Its segments are synthesized into the writer that
mixes, masters and encodes them as they arrive; the tags, transcripts, chapters and manifest are
written beside the MP3 in a staging folder, which replaces the day's folder only when complete."""

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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .episode import (
    AUDIO_FILE,
    COVER_FILE,
    Chapter,
    FallbackRecord,
    Manifest,
    ToldStory,
    clock,
    episode_number,
    finished_manifest,
    read_manifest,
    write_chapters_json,
    write_manifest,
    write_transcripts,
)
from .errors import ConfigError, EngineUnavailableError, OutputError, UsageError
from .files import describe_write_error, make_staging_folder, source_digest, write_atomically
from .ingest import Article
from .script import Script, write_script
from .voices import VoiceChains, VoicePreset, find_preset, preset_for_engine

# numpy, the engines and the encoder load only when an episode is made.
if TYPE_CHECKING:
    from .mastering import Loudness
    from .mix import Mixdown
    from .synthesize import ProgressCallback, SynthesisReport, SynthesisSettings
    from .workers import JobPlaces


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


def read_voices(config: Config) -> VoiceChains:
    """The run's voice presets and their fallbacks, read once from the voices folder."""
    synthesis = config.synthesis
    return VoiceChains.read(synthesis.voice, synthesis.host_voice, config.paths.voices_path, synthesis.strict)


def inputs_fingerprint(articles: tuple[Article, ...], config: Config, voices: VoiceChains, date: dt.date) -> str:
    """Everything an episode depends on: articles, config, voice presets, lexicon and briefing's own code."""
    lexicon = config.paths.lexicon_path.read_bytes() if config.paths.lexicon_path.is_file() else b""
    settings = config.to_dict()
    for where_it_runs in ("cluster", "workers", "connections"):  # the same episode, wherever it is made
        settings["synthesis"].pop(where_it_runs)
    settings.pop("review")  # a draft and the episode published from it are made from the same inputs
    presets = [[p.__dict__ for p in chain] for chain in (voices.story, voices.host)]
    digest = hashlib.sha256()
    digest.update(
        json.dumps([[a.to_dict() for a in articles], settings, presets, date.isoformat()], ensure_ascii=False, sort_keys=True).encode()
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
    voices: VoiceChains | None = None,
    places: JobPlaces | None = None,
    progress: ProgressCallback | None = None,
    fingerprint: str = "",
    sidecars: dict[str, bytes] | None = None,
) -> Episode:
    """Synthesize, mix, master and write one episode folder; it replaces an older one only when
    complete. The caller holds the output folder's lock (`files.output_lock`), as `daily` does, and
    may say where synthesis jobs run (`synthesis_places`; default: this machine). `sidecars` are
    more files for the folder, by name."""
    from .cover import cover_bytes

    load_mastering()
    voices = voices or read_voices(config)
    final_dir = out_root / script.date.isoformat()
    number = episode_number(out_root, final_dir)
    previous = read_manifest(final_dir)
    staging = make_staging_folder(out_root, script.date.isoformat())
    try:
        write_script(script, staging)
        mix, synthesis = _synthesize_into_mp3(script, config, voices, places, progress, staging / AUDIO_FILE)
        title = f"{script.programme} {script.date.year}年{script.date.month}月{script.date.day}日"
        _tag(staging / AUDIO_FILE, title, script, number, mix, config.feed.author, cover_bytes(script.programme, 600, "JPEG"))
        write_transcripts(mix.cues, staging)
        write_chapters_json(mix.chapters, staging)
        for name, data in (sidecars or {}).items():
            write_atomically(staging / name, data)
        write_manifest(staging, _manifest(script, title, mix, synthesis, number, previous, fingerprint, staging / AUDIO_FILE))
        write_atomically(out_root / COVER_FILE, cover_bytes(script.programme))
        _swap_into_place(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Episode(final_dir, number, len(script.stories), mix.duration, mix.chapters, synthesis, mix.loudness)


def _synthesize_into_mp3(
    script: Script, config: Config, voices: VoiceChains, places: JobPlaces | None, progress: ProgressCallback | None, mp3: Path
) -> tuple[Mixdown, SynthesisReport]:
    """The episode is mixed, mastered and encoded as its segments arrive, not after the last one."""
    from .mix import EpisodeWriter
    from .retention import prune_segments
    from .synthesize import SegmentCache, synthesize_segments

    cache = SegmentCache(config.paths.cache_path)
    with EpisodeWriter(script, mp3) as writer:
        synthesis = synthesize_segments(
            list(script.segments), preset_chains(script, voices), cache, writer.add, synthesis_settings(config), progress, places
        )
        mixdown = writer.finish()
    prune_segments(cache.root, config.retention.cache_max_mb * 1_000_000, keep=cache.used)  # never what this episode uses
    return mixdown, synthesis


def _manifest(
    script: Script,
    title: str,
    mix: Mixdown,
    synthesis: SynthesisReport,
    number: int,
    previous: Manifest | None,
    fingerprint: str,
    mp3: Path,
) -> Manifest:
    """What episode.json records; the MP3 is final (tagged) by now, so its size is what the manifest says."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Manifest(
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
        stories=tuple(ToldStory.from_dict(s.to_dict()) for s in script.stories),
        presets=synthesis.segments_per_preset,
        segment_presets=synthesis.presets,
        fallbacks=tuple(FallbackRecord(f.segment, f.preset, f.fallback, f.reason) for f in synthesis.fallbacks),
        segments=len(script.segments),
        inputs=fingerprint,
        created=now,
    )


def _tag(mp3: Path, title: str, script: Script, number: int, mix: Mixdown, author: str, cover_jpeg: bytes) -> None:
    from .mp3 import write_tags

    write_tags(
        mp3,
        title=title,
        programme=script.programme,
        author=author,
        date=script.date.isoformat(),
        number=number,
        cover_jpeg=cover_jpeg,
        chapters=mix.chapters,
        description="；".join(f"{c.title}（{clock(c.start)}）" for c in mix.chapters),
    )


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


def preset_chains(script: Script, voices: VoiceChains) -> list[tuple[VoicePreset, ...]]:
    """Each segment's preset and its fallbacks: the host voice frames the episode, the story voice reads the stories."""
    return [voices.for_segment(segment.story is not None) for segment in script.segments]


def synthesis_settings(config: Config) -> SynthesisSettings:
    from .engines import EngineSettings
    from .synthesize import SynthesisSettings

    return SynthesisSettings(
        workers=config.synthesis.workers,
        connections=config.synthesis.connections,
        breaker=config.synthesis.breaker,
        engine=EngineSettings(retries=config.synthesis.retries, retry_delay=config.synthesis.retry_delay, timeout=config.synthesis.timeout),
    )


@contextmanager
def synthesis_places(config: Config, voices: VoiceChains | None, given: Executor | None = None) -> Iterator[JobPlaces]:
    """Where this run's synthesis jobs go (see `workers`): `given`, the configured cluster, or a
    local pool that starts loading the stories' engine now, while the script is written."""
    from .engines import engine_class
    from .workers import JobPlaces, run_executor

    try:
        engine = engine_class(voices.story[0].engine) if voices else None
    except EngineUnavailableError:
        engine = None  # synthesis says why, and falls back
    settings = synthesis_settings(config)
    with run_executor(engine, settings.engine, settings.workers, config.synthesis.cluster, given) as executor:
        yield JobPlaces(settings.workers, settings.connections, executor)


@lru_cache(maxsize=1)
def load_mastering() -> None:
    """Import what mixing and mastering need (numpy, scipy, pyloudnorm, pydub: about half a second)
    on a thread, once, while the script is written and the engine loads."""

    def load() -> None:
        import pyloudnorm.iirfilter  # noqa: F401
        import scipy.signal  # noqa: F401

        from . import mix  # noqa: F401

    threading.Thread(target=load, name="load-mastering", daemon=True).start()


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
