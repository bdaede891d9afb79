"""Told once: near-duplicate stories across sources (MinHash over jieba word pairs, datasketch), and
the stories earlier episodes told (a small SQLite database beside the output)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .text import has_cjk

if TYPE_CHECKING:
    from datasketch import MinHash

NUM_PERM = 128
SCHEME = "affine32"  # datasketch 2 hashes; named, so stored signatures are read back the same way
# Two stories whose word pairs overlap at least this much (estimated Jaccard) are the same story.
# Tuned on pairs in tests/test_dedup.py: the same wire story re-headlined, re-punctuated or cut by a
# third from the bottom scores 0.6 to 1.0; different stories on the same topic score under 0.2.
SAME_STORY = 0.5
TOLD_FILE = "told.sqlite"


def signature(text: str) -> MinHash:
    """A MinHash of the story's consecutive word pairs: punctuation and spacing do not count."""
    import jieba
    from datasketch import MinHash

    jieba.setLogLevel(60)  # its dictionary-loading notes are not for a cron log
    words = [word for word in jieba.lcut(text) if has_cjk(word) or word.isalnum()]
    pairs = {f"{a} {b}" for a, b in zip(words, words[1:])} or set(words) or {text}
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch([pair.encode("utf-8") for pair in sorted(pairs)])
    return minhash


def similarity(a: MinHash, b: MinHash) -> float:
    return float(a.jaccard(b))


@dataclass(frozen=True)
class Told:
    date: dt.date
    title: str
    url: str
    signature: MinHash


class ToldStories:
    """What earlier episodes told, one row a story: the date, title, URL and signature.

    WAL mode, and written only when an episode is finished, by the run that holds the output lock.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS told (date TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, signature BLOB NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS told_by_date ON told (date)")

    def told_between(self, first: dt.date, last: dt.date) -> list[Told]:
        """Stories told from `first` to `last`, both included."""
        import numpy as np
        from datasketch import MinHash

        rows = self._db.execute(
            "SELECT date, title, url, signature FROM told WHERE date BETWEEN ? AND ? ORDER BY date DESC",
            (first.isoformat(), last.isoformat()),
        )
        dtype = MinHash(num_perm=NUM_PERM, scheme=SCHEME).hashvalues.dtype
        return [
            Told(
                dt.date.fromisoformat(day),
                title,
                url,
                MinHash(num_perm=NUM_PERM, scheme=SCHEME, hashvalues=np.frombuffer(blob, dtype=np.uint64).astype(dtype)),
            )
            for day, title, url, blob in rows
        ]

    def remember(self, date: dt.date, stories: Iterable[tuple[str, str, MinHash]]) -> None:
        """Record what the episode for `date` told (title, URL, signature), replacing an earlier make of that day."""
        import numpy as np

        with self._db:
            self._db.execute("DELETE FROM told WHERE date = ?", (date.isoformat(),))
            self._db.executemany(
                "INSERT INTO told VALUES (?, ?, ?, ?)",
                [(date.isoformat(), title, url, np.asarray(sig.hashvalues).astype(np.uint64).tobytes()) for title, url, sig in stories],
            )

    def close(self) -> None:
        self._db.close()
