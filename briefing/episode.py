"""The episode folder: its file names, its manifest (episode.json) and its transcripts and chapters.

A folder holds a finished episode only when episode.json is there, parses as a `Manifest`, and the
MP3 it names has the size it records; episode.json is written last, so a killed run never looks
finished. Everything that reads episodes (feed, page, Alexa, speakers) goes through this module.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .files import write_atomically
from .text import clean_text

EPISODE_FILE = "episode.json"
AUDIO_FILE = "episode.mp3"
AUDIO_TYPE = "audio/mpeg"
VTT_FILE = "transcript.vtt"
SRT_FILE = "transcript.srt"
CHAPTERS_FILE = "chapters.json"
# What the output root shows the world, beside the episode folders (see publish).
FEED_FILE, PAGE_FILE, ALEXA_FILE, COVER_FILE = "feed.xml", "index.html", "alexa.json", "cover.png"
MANIFEST_VERSION = 1
DRAFT_FILE = ".draft.json"  # in a folder that holds a draft, not yet published (see drafts)


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str
    story: int | None


@dataclass(frozen=True)
class Cue:
    """When one piece of the script is heard, with its written text (for transcripts)."""

    start: float
    end: float
    text: str
    story: int | None
    role: str


@dataclass(frozen=True)
class ToldStory:
    """One story as episode.json records it (the same fields as script.json's stories)."""

    index: int
    title: str
    summary: str = ""
    kicker: str = ""
    byline: str = ""
    source: str = ""
    summarizer: str = "extractive"  # extractive, llm:<model>, or extractive with the reason the LLM's was not used

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToldStory:
        texts = {f.name: str(data[f.name]) for f in fields(cls) if f.name in data and f.name not in ("index", "title")}
        return cls(int(data["index"]), str(data["title"]), **texts)


@dataclass(frozen=True)
class FallbackRecord:
    """A segment that its voice preset could not make, and the preset that made it instead."""

    segment: int
    voice: str  # the preset (episode.json's key since the first version)
    fallback: str
    reason: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FallbackRecord:
        return cls(int(data["segment"]), str(data["voice"]), str(data["fallback"]), str(data.get("reason", "")))


@dataclass(frozen=True)
class Manifest:
    """What episode.json records about one finished episode."""

    number: int
    guid: str
    published: str  # ISO 8601; kept when the episode is remade, so apps do not list it twice
    date: str  # the episode's date, YYYY-MM-DD
    title: str
    programme: str
    duration: float  # seconds
    audio_bytes: int
    integrated_lufs: float
    true_peak_dbtp: float
    chapters: tuple[Chapter, ...]
    stories: tuple[ToldStory, ...]
    presets: dict[str, int] = field(default_factory=dict)  # segments made by each voice preset
    segment_presets: tuple[str, ...] = ()
    fallbacks: tuple[FallbackRecord, ...] = ()
    segments: int = 0
    inputs: str = ""  # fingerprint of everything the episode was made from
    created: str = ""
    audio_file: str = AUDIO_FILE
    version: int = MANIFEST_VERSION

    @property
    def published_time(self) -> dt.datetime:
        """When the episode was first published (an old manifest without the time: 06:00 UTC on its date)."""
        return dt.datetime.fromisoformat(self.published or f"{self.date}T06:00:00+00:00")

    @property
    def story_chapters(self) -> list[Chapter]:
        return [chapter for chapter in self.chapters if chapter.story is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "number": self.number,
            "guid": self.guid,
            "published": self.published,
            "date": self.date,
            "title": self.title,
            "programme": self.programme,
            "duration": self.duration,
            "audio": {"file": self.audio_file, "bytes": self.audio_bytes, "type": AUDIO_TYPE},
            "loudness": {"integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp},
            "chapters": [asdict(chapter) for chapter in self.chapters],
            "stories": [asdict(story) for story in self.stories],
            "voices": self.presets,
            "segment_voices": list(self.segment_presets),
            "fallbacks": [asdict(fallback) for fallback in self.fallbacks],
            "segments": self.segments,
            "inputs": self.inputs,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Raises ValueError when `data` is not a manifest this version can read. Text is cleaned of
        control characters on the way in, so an episode written before briefing cleaned its input
        is repaired for the feed and the page instead of breaking them."""
        data = _cleaned(data)
        try:
            version = int(data.get("version", 0))  # version 0: written before the field existed, same shape
            if version > MANIFEST_VERSION:
                raise ValueError(f"manifest version {version} is newer than this briefing reads ({MANIFEST_VERSION})")
            audio, loudness = data["audio"], data.get("loudness", {})
            manifest = cls(
                number=int(data["number"]),
                guid=str(data.get("guid") or ""),
                published=str(data.get("published") or data.get("created") or ""),
                date=str(data["date"]),
                title=str(data["title"]),
                programme=str(data["programme"]),
                duration=float(data["duration"]),
                audio_file=str(audio["file"]),
                audio_bytes=int(audio["bytes"]),
                integrated_lufs=float(loudness.get("integrated_lufs", 0.0)),
                true_peak_dbtp=float(loudness.get("true_peak_dbtp", 0.0)),
                chapters=tuple(
                    Chapter(float(c["start"]), float(c["end"]), str(c["title"]), None if c.get("story") is None else int(c["story"]))
                    for c in data["chapters"]
                ),
                stories=tuple(ToldStory.from_dict(story) for story in data["stories"]),
                presets={str(name): int(count) for name, count in data.get("voices", {}).items()},
                segment_presets=tuple(str(name) for name in data.get("segment_voices", ())),
                fallbacks=tuple(FallbackRecord.from_dict(fallback) for fallback in data.get("fallbacks", ())),
                segments=int(data.get("segments", 0)),
                inputs=str(data.get("inputs", "")),
                created=str(data.get("created", "")),
                version=MANIFEST_VERSION,
            )
            dt.date.fromisoformat(manifest.date)
            manifest.published_time  # noqa: B018  (parses, or raises ValueError)
            return manifest
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an episode manifest ({exc!r})") from None


@dataclass(frozen=True)
class PublishedEpisode:
    """One finished episode folder under the output root."""

    folder: str
    manifest: Manifest

    @property
    def date(self) -> str:
        return self.manifest.date


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest in `folder`, or None when it is missing or damaged."""
    try:
        data = json.loads((folder / EPISODE_FILE).read_text(encoding="utf-8"))
        return Manifest.from_dict(data) if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    write_atomically(folder / EPISODE_FILE, json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2).encode("utf-8"))


def finished_manifest(folder: Path) -> Manifest | None:
    """The manifest of the complete episode in `folder`: None when it is missing, damaged, or its MP3
    is not the size the manifest records."""
    manifest = read_manifest(folder)
    try:
        complete = manifest is not None and (folder / manifest.audio_file).stat().st_size == manifest.audio_bytes
    except OSError:
        return None
    return manifest if complete else None


def published_episodes(out_root: Path) -> list[PublishedEpisode]:
    """Finished episodes under `out_root`, newest first; staging folders (hidden names) and drafts are skipped."""
    found = []
    for path in out_root.glob(f"*/{EPISODE_FILE}"):
        hidden = path.parent.name.startswith(".") or (path.parent / DRAFT_FILE).exists()
        manifest = None if hidden else finished_manifest(path.parent)
        if manifest is not None:
            found.append(PublishedEpisode(path.parent.name, manifest))
    return sorted(found, key=lambda e: (e.date, e.manifest.number), reverse=True)


def episode_number(out_root: Path, folder: Path) -> int:
    """The number the episode in `folder` already has, else one more than the highest under `out_root`."""
    known = {
        path.parent: manifest.number for path in out_root.glob(f"*/{EPISODE_FILE}") if (manifest := read_manifest(path.parent)) is not None
    }
    return known.get(folder) or max(known.values(), default=0) + 1


def clock(seconds: float) -> str:
    """'MM:SS', as chapter lists show times."""
    return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"


def write_transcripts(cues: tuple[Cue, ...], folder: Path) -> None:
    """transcript.srt and transcript.vtt with the written text at the real times."""
    srt = []
    vtt = ["WEBVTT", ""]
    for n, cue in enumerate(cues, start=1):
        srt += [str(n), f"{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}", cue.text, ""]
        vtt += [f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}", cue.text, ""]
    write_atomically(folder / SRT_FILE, "\n".join(srt).encode("utf-8"))
    write_atomically(folder / VTT_FILE, "\n".join(vtt).encode("utf-8"))


_VTT_CUE_RE = re.compile(r"^(\d+):(\d\d):(\d\d\.\d{3}) --> (\d+):(\d\d):(\d\d\.\d{3})\n(.+)$", re.M)


def read_vtt(path: Path) -> list[tuple[float, float, str]]:
    """The (start, end, text) cues of a transcript.vtt that write_transcripts made."""
    return [
        (int(h1) * 3600 + int(m1) * 60 + float(s1), int(h2) * 3600 + int(m2) * 60 + float(s2), text)
        for h1, m1, s1, h2, m2, s2, text in _VTT_CUE_RE.findall(path.read_text(encoding="utf-8"))
    ]


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def write_chapters_json(chapters: tuple[Chapter, ...], folder: Path) -> None:
    """Podcasting 2.0 JSON chapters."""
    data = {"version": "1.2.0", "chapters": [{"startTime": c.start, "endTime": c.end, "title": c.title} for c in chapters]}
    write_atomically(folder / CHAPTERS_FILE, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
