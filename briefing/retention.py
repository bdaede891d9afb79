"""Retention: what a year of unattended mornings leaves on disk, kept within bounds.

Episode folders older than `keep_days` go (never today's); the segment cache is kept under
`cache_max_mb` by removing the least recently used entries (never one the run just used); the HTTP
cache is bounded by its own storage (see `fetch`); told-story rows older than de-duplication looks
back are dropped (see `dedup`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .episode import EPISODE_FILE


@dataclass(frozen=True)
class CacheUse:
    """What one cache holds."""

    name: str
    path: Path
    entries: int
    bytes: int
    oldest: dt.datetime | None  # when its least recently used entry was last used

    def to_dict(self) -> dict[str, object]:
        oldest = self.oldest.isoformat(timespec="seconds") if self.oldest else None
        return {"name": self.name, "path": str(self.path), "entries": self.entries, "bytes": self.bytes, "oldest": oldest}


def old_episode_folders(out_root: Path, keep_days: int, today: dt.date) -> list[Path]:
    """Episode folders dated more than `keep_days` before `today` (none when keep_days is 0)."""
    if keep_days <= 0 or not out_root.is_dir():
        return []
    cutoff = today - dt.timedelta(days=keep_days)
    old = []
    for folder in out_root.iterdir():
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue  # not an episode folder: briefing never removes what it did not make
        if day < cutoff and day != today and (folder / EPISODE_FILE).is_file():
            old.append(folder)
    return sorted(old)


def remove_folders(folders: list[Path]) -> None:
    """Each folder is renamed to a hidden name first, so a half-removed one never looks like an episode."""
    for folder in folders:
        hidden = folder.with_name(f".{folder.name}-removed-{os.getpid()}")
        os.replace(folder, hidden)
        shutil.rmtree(hidden, ignore_errors=True)


def segment_cache_use(root: Path) -> CacheUse:
    return _use("segments", root, [(size, mtime) for _, size, mtime in _segment_entries(root)])


def files_use(name: str, root: Path, pattern: str = "**/*") -> CacheUse:
    """What the files under `root` matching `pattern` hold (a file that goes away meanwhile is not counted)."""
    entries = []
    for path in root.glob(pattern) if root.is_dir() else []:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            entries.append((stat.st_size, stat.st_mtime))
    return _use(name, root, entries)


def _use(name: str, root: Path, entries: list[tuple[int, float]]) -> CacheUse:
    """(bytes, last used) per entry -> what the cache holds."""
    oldest = min((mtime for _, mtime in entries), default=None)
    when = dt.datetime.fromtimestamp(oldest, dt.UTC) if oldest is not None else None
    return CacheUse(name, root, len(entries), sum(size for size, _ in entries), when)


def prune_segments(root: Path, max_bytes: int, keep: frozenset[str] | set[str] = frozenset()) -> tuple[int, int]:
    """Remove the least recently used segments until the cache holds at most `max_bytes`; an entry
    whose key is in `keep` (the run just used it) stays. Returns (entries removed, bytes freed)."""
    entries = sorted(_segment_entries(root), key=lambda entry: entry[2])
    total = sum(size for _, size, _ in entries)
    removed = freed = 0
    for wav, size, _ in entries:
        if total <= max_bytes:
            break
        if wav.stem in keep:
            continue
        for path in (wav, wav.with_suffix(".words.json")):
            path.unlink(missing_ok=True)
        total -= size
        removed, freed = removed + 1, freed + size
    return removed, freed


def _segment_entries(root: Path) -> list[tuple[Path, int, float]]:
    """(wav, bytes with its word timings, when it was last used) for every entry."""
    entries = []
    for wav in root.glob("*/*.wav") if root.is_dir() else []:
        try:
            stat = wav.stat()
        except OSError:
            continue
        words = wav.with_suffix(".words.json")
        extra = words.stat().st_size if words.exists() else 0
        entries.append((wav, stat.st_size + extra, stat.st_mtime))
    return entries
