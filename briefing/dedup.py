"""Told once: near-duplicate stories across sources (MinHash over jieba word pairs, datasketch), and
the stories earlier episodes told (a small SQLite database beside the output)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
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
TOLD_SIDECAR = "told.json"  # in each episode folder
LOCK_SECONDS = 5.0  # how long to wait for another process that has the database locked


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

    Each episode folder also keeps what it told in told.json, so this database is a cache of those
    files: a damaged one is set aside and rebuilt from them, and a day it could not record (a locked
    or read-only file, a full disk) is recorded by the next run. Written only by the run that holds
    the output lock; `briefing sources` only reads it.
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        if read_only:  # and leaves no file behind: immutable, unless a writer's log is there to be read
            flags = "mode=ro" if path.with_name(path.name + "-wal").exists() else "mode=ro&immutable=1"
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=LOCK_SECONDS)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=LOCK_SECONDS)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS told (date TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, signature BLOB NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS told_by_date ON told (date)")
        self._check()

    def _check(self) -> None:
        """Raise sqlite3.DatabaseError unless this is a told-stories database whose rows can be read."""
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(told)")]
        if columns != ["date", "title", "url", "signature"]:
            raise sqlite3.DatabaseError(f"no told table with date, title, url and signature (columns: {columns or 'none'})")
        (bad,) = self._db.execute("SELECT COUNT(*) FROM told WHERE length(signature) != ?", (NUM_PERM * 8,)).fetchone()
        if bad:
            raise sqlite3.DatabaseError(f"{bad} signatures are not {NUM_PERM * 8} bytes long")

    @classmethod
    def for_run(cls, out_root: Path, since: dt.date) -> tuple[ToldStories, list[str]]:
        """The history, writable, with every episode folder's told.json from `since` on in it; a
        damaged database is kept beside it under another name and rebuilt. Also the warnings to show."""
        path = out_root / TOLD_FILE
        warnings = []
        try:
            told = cls(path)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            aside = path.with_name(f"{path.name}.damaged-{dt.datetime.now():%Y%m%dT%H%M%S}")
            os.replace(path, aside)
            for extra in ("-wal", "-shm"):
                path.with_name(path.name + extra).unlink(missing_ok=True)
            warnings.append(f"{path} was damaged ({exc}); kept as {aside.name}, and rebuilt from the episode folders")
            told = cls(path)
        told.catch_up(out_root, since)
        return told, warnings

    def catch_up(self, out_root: Path, since: dt.date) -> None:
        """Record each episode folder's told.json (from `since` on) whose day has no rows here."""
        for sidecar in sorted(out_root.glob(f"*/{TOLD_SIDECAR}")):
            try:
                day = dt.date.fromisoformat(sidecar.parent.name)
                if day < since or self._db.execute("SELECT 1 FROM told WHERE date = ? LIMIT 1", (day.isoformat(),)).fetchone():
                    continue
                self.remember(day, read_sidecar(sidecar.read_bytes()))
            except (ValueError, KeyError, TypeError, OSError):
                continue  # not an episode folder, or its told.json is damaged: nothing to add

    def told_between(self, first: dt.date, last: dt.date) -> list[Told]:
        """Stories told from `first` to `last`, both included."""
        rows = self._db.execute(
            "SELECT date, title, url, signature FROM told WHERE date BETWEEN ? AND ? ORDER BY date DESC",
            (first.isoformat(), last.isoformat()),
        )
        return [Told(dt.date.fromisoformat(day), title, url, _minhash(blob)) for day, title, url, blob in rows]

    def remember(self, date: dt.date, stories: Iterable[tuple[str, str, MinHash]], forget_before: dt.date | None = None) -> None:
        """Record what the episode for `date` told (title, URL, signature), replacing an earlier make
        of that day; rows dated before `forget_before` go (de-duplication no longer looks at them)."""
        with self._db:
            self._db.execute("DELETE FROM told WHERE date = ?", (date.isoformat(),))
            if forget_before is not None:
                self._db.execute("DELETE FROM told WHERE date < ?", (forget_before.isoformat(),))
            self._db.executemany(
                "INSERT INTO told VALUES (?, ?, ?, ?)", [(date.isoformat(), title, url, _blob(sig)) for title, url, sig in stories]
            )

    def close(self) -> None:
        self._db.close()


def sidecar_bytes(stories: Iterable[tuple[str, str, MinHash]]) -> bytes:
    """told.json: what one episode told, with each story's signature, to rebuild the history from."""
    rows = [{"title": title, "url": url, "signature": encode_signature(sig)} for title, url, sig in stories]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


def encode_signature(sig: MinHash) -> str:
    """A signature as told.json (and a draft) keeps it: base64 of its hash values."""
    return base64.b64encode(_blob(sig)).decode()


def decode_signature(text: str) -> MinHash:
    return _minhash(base64.b64decode(text))


def read_sidecar(data: bytes) -> list[tuple[str, str, MinHash]]:
    return [(str(r["title"]), str(r["url"]), decode_signature(r["signature"])) for r in json.loads(data)]


def _blob(sig: MinHash) -> bytes:
    import numpy as np

    return np.asarray(sig.hashvalues).astype(np.uint64).tobytes()


def _minhash(blob: bytes) -> MinHash:
    import numpy as np
    from datasketch import MinHash

    if len(blob) != NUM_PERM * 8:
        raise ValueError(f"a signature of {len(blob)} bytes")
    dtype = MinHash(num_perm=NUM_PERM, scheme=SCHEME).hashvalues.dtype
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME, hashvalues=np.frombuffer(blob, dtype=np.uint64).astype(dtype))
