"""Pipeline: pages -> articles -> summaries -> script -> episode folder, composed from the stages."""

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

from .assemble import Chapter, Master, clock, master_and_encode, mix_episode, write_chapters_json, write_tags, write_transcripts
from .config import Config
from .cover import cover_bytes
from .engines import EngineSettings
from .errors import InputError, OutputError
from .files import describe_write_error, write_atomically
from .ingest import Article, expand_inputs, read_articles
from .normalize import Lexicon, to_spoken
from .pinyin import dictionary_readings, spoken_syllables
from .script import Script, build_script, write_script
from .summarize import SummaryTarget, summarize
from .synthesize import ProgressCallback, SegmentCache, SynthesisReport, SynthesisSettings, synthesize_segments
from .voices import VoicePreset, fallback_chain, find_preset

EPISODE_FILE = "episode.json"  # written last: a folder without it is not a finished episode


@dataclass(frozen=True)
class Ingested:
    articles: tuple[Article, ...]
    problems: tuple[str, ...]  # one message per input that could not be used


@dataclass(frozen=True)
class Episode:
    directory: Path
    number: int
    duration: float
    chapters: tuple[Chapter, ...]
    synthesis: SynthesisReport
    master: Master

    @property
    def mp3(self) -> Path:
        return self.directory / "episode.mp3"


def today(config: Config) -> dt.date:
    return dt.datetime.now(ZoneInfo(config.timezone)).date()


def ingest_pages(paths: list[Path]) -> Ingested:
    """Read every input; a bad one is reported and the rest are still used."""
    articles: list[Article] = []
    problems: list[str] = []
    try:
        files = expand_inputs(paths)
    except InputError as exc:
        return Ingested((), (str(exc),))
    for path in files:
        try:
            articles.extend(read_articles(path))
        except InputError as exc:
            problems.append(str(exc))
    return Ingested(tuple(articles), tuple(problems))


def load_lexicon(config: Config) -> Lexicon | None:
    path = config.lexicon_path
    return Lexicon.load(path) if path.exists() else None


def pronounce(text: str, lexicon: Lexicon | None, raw: bool = False) -> list[str]:
    """The offline voice's syllables for `text`: normalized, lexicon and tone sandhi applied; with
    `raw`, the dictionary reading in context of each Han character of `text` as it is."""
    if raw:
        return dictionary_readings(text)
    return spoken_syllables(to_spoken(text, lexicon))


def make_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> Script:
    if config.max_stories:
        articles = articles[: config.max_stories]
    target = SummaryTarget(config.story_seconds, config.chars_per_second)
    return build_script(
        [summarize(article, target) for article in articles],
        date,
        config,
        load_lexicon(config),
        kickers=[article.kicker for article in articles],
        sources=[article.source for article in articles],
    )


def voice_chains(script: Script, config: Config) -> list[tuple[VoicePreset, ...]]:
    """Each segment's preset and its fallbacks: the host voice frames the episode, `voice` reads the stories."""
    story = fallback_chain(find_preset(config.voice, config.voices_path), config.voices_path)
    host = fallback_chain(find_preset(config.host_voice, config.voices_path), config.voices_path) if config.host_voice else story
    if config.strict:
        story, host = story[:1], host[:1]
    return [story if segment.story is not None else host for segment in script.segments]


def synthesis_settings(config: Config) -> SynthesisSettings:
    return SynthesisSettings(workers=config.workers, connections=config.connections, breaker=config.breaker,
                             engine=EngineSettings(retries=config.retries, retry_delay=config.retry_delay, timeout=config.timeout))


def inputs_fingerprint(articles: tuple[Article, ...], config: Config, date: dt.date) -> str:
    """Everything an episode depends on: articles, config, voice presets, lexicon and briefing's own code."""
    presets = [fallback_chain(find_preset(name, config.voices_path), config.voices_path) for name in (config.voice, config.host_voice) if name]
    lexicon = config.lexicon_path.read_bytes() if config.lexicon_path.exists() else b""
    digest = hashlib.sha256()
    digest.update(json.dumps([[a.to_dict() for a in articles], config.to_dict(), [[p.__dict__ for p in chain] for chain in presets],
                              date.isoformat()], ensure_ascii=False, sort_keys=True).encode("utf-8"))
    digest.update(lexicon)
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def finished_manifest(folder: Path) -> dict[str, object] | None:
    """The manifest of the complete episode in `folder`: None when it is missing, damaged, or its MP3
    is not the size the manifest records."""
    manifest = _manifest(folder)
    try:
        complete = (folder / manifest["audio"]["file"]).stat().st_size == manifest["audio"]["bytes"]  # type: ignore[index]
    except (OSError, KeyError, TypeError):
        return None
    return manifest if complete else None


def finished_episode(out_root: Path, date: dt.date, fingerprint: str) -> dict[str, object] | None:
    """The manifest of a complete episode made from exactly these inputs, if there is one."""
    manifest = finished_manifest(out_root / date.isoformat())
    # An episode with fallback segments is remade: the preferred voice may answer this time.
    return manifest if manifest and manifest.get("inputs") == fingerprint and not manifest.get("fallbacks") else None


def make_episode(script: Script, config: Config, out_root: Path, progress: ProgressCallback | None = None,
                 fingerprint: str = "") -> Episode:
    """Synthesize, mix, master and write one episode folder; it replaces an older one only when complete."""
    synthesis = synthesize_segments(list(script.segments), voice_chains(script, config), SegmentCache(config.cache_path),
                                    synthesis_settings(config), progress)
    mix = mix_episode(script, list(synthesis.audio))
    final_dir = out_root / script.date.isoformat()
    number = _episode_number(out_root, final_dir)
    previous = _manifest(final_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{script.date.isoformat()}-", dir=out_root))
    except OSError as exc:
        raise OutputError(describe_write_error(out_root, exc)) from None
    try:
        write_script(script, staging)
        mp3 = staging / "episode.mp3"
        master = master_and_encode(mix.samples, mix.sample_rate, mp3)
        title = f"{script.programme} {script.date.year}年{script.date.month}月{script.date.day}日"
        rundown = "；".join(f"{c.title}（{clock(c.start)}）" for c in mix.chapters)
        write_tags(mp3, title=title, programme=script.programme, author=config.author, date=script.date.isoformat(),
                   number=number, cover_jpeg=cover_bytes(script.programme, 600, "JPEG"), chapters=mix.chapters, description=rundown)
        write_transcripts(mix.cues, staging)
        write_chapters_json(mix.chapters, staging)
        manifest = {
            "number": number,
            # A remade episode keeps its identity and publication time, so podcast apps do not list it twice.
            "guid": previous.get("guid") or f"urn:uuid:{uuid.uuid4()}",
            "published": previous.get("published") or now,
            "date": script.date.isoformat(),
            "title": title,
            "programme": script.programme,
            "duration": round(mix.duration, 3),
            "audio": {"file": "episode.mp3", "bytes": mp3.stat().st_size, "type": "audio/mpeg"},
            "loudness": {"integrated_lufs": master.after.integrated_lufs, "true_peak_dbtp": master.after.true_peak_dbtp},
            "chapters": [{"start": c.start, "end": c.end, "title": c.title, "story": c.story} for c in mix.chapters],
            "stories": [s.to_dict() for s in script.stories],
            "voices": synthesis.segments_per_voice,
            "segment_voices": list(synthesis.voices),
            "fallbacks": [fallback.__dict__ for fallback in synthesis.fallbacks],
            "segments": len(script.segments),
            "inputs": fingerprint,
            "created": now,
        }
        write_atomically(staging / EPISODE_FILE, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        write_atomically(out_root / "cover.png", cover_bytes(script.programme))
        _swap_into_place(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Episode(final_dir, number, mix.duration, mix.chapters, synthesis, master)


def _manifest(folder: Path) -> dict[str, object]:
    try:
        manifest = json.loads((folder / EPISODE_FILE).read_text(encoding="utf-8"))
        return manifest if isinstance(manifest, dict) else {}
    except (OSError, ValueError):
        return {}


def _episode_number(out_root: Path, final_dir: Path) -> int:
    """The number an episode already has, else one more than the highest."""
    numbers = {path.parent: _manifest(path.parent).get("number") for path in out_root.glob(f"*/{EPISODE_FILE}")}
    known = {folder: number for folder, number in numbers.items() if isinstance(number, int)}
    return known.get(final_dir) or max(known.values(), default=0) + 1


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
