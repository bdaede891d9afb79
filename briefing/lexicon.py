"""The lexicon: a user-editable table of pronunciation fixes (lexicon.tsv), applied after normalization."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .files import write_atomically
from .pinyin import characters_for

PINYIN_READING_RE = re.compile(r"[a-z]+[1-5](?: +[a-z]+[1-5])*")


@dataclass(frozen=True)
class LexiconEntry:
    """One pronunciation fix: `written` is replaced by `spoken` after normalization."""

    written: str
    spoken: str
    note: str = ""


class Lexicon:
    """A user-editable table of pronunciation fixes, longest match first."""

    def __init__(self, entries: list[LexiconEntry] | None = None) -> None:
        self.entries = sorted(entries or [], key=lambda entry: len(entry.written), reverse=True)
        self._pattern = re.compile("|".join(map(_lexicon_pattern, self.entries))) if self.entries else None
        self._spoken = {_lexicon_key(entry.written): entry.spoken for entry in self.entries}

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read a TSV of `written<TAB>spoken<TAB>note`; '#' lines and a header row are skipped.

        `spoken` is either characters the voice reads right (`单县	善县`) or TONE3 pinyin, one syllable
        per character (`单县	shan4 xian4`), which becomes characters with exactly those readings.
        """
        try:
            return cls.load_lines(path.read_text(encoding="utf-8").splitlines(), str(path))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the lexicon ({exc.strerror})") from None

    @classmethod
    def load_lines(cls, lines: list[str], path: str) -> Lexicon:
        """The lexicon in `lines` (as `load` reads them); `path` names it in errors."""
        entries = []
        rows = list(csv.reader(lines, delimiter="\t"))
        for number, row in enumerate(rows, start=1):
            if not row or row[0].startswith("#") or row[:2] == ["written", "spoken"]:
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise ConfigError(f"{path}:{number}: expected 'written<TAB>spoken<TAB>note', got {row!r}")
            spoken = row[1].strip()
            if PINYIN_READING_RE.fullmatch(spoken):
                try:
                    spoken = characters_for(spoken.split())
                except ValueError as exc:
                    raise ConfigError(f"{path}:{number}: {exc}") from None
            entries.append(LexiconEntry(row[0].strip(), spoken, row[2].strip() if len(row) > 2 else ""))
        return cls(entries)

    def apply(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._spoken[_lexicon_key(match.group(0))], text)


def _lexicon_key(written: str) -> str:
    return written.casefold() if written.isascii() else written


def _lexicon_pattern(entry: LexiconEntry) -> str:
    """A Latin word matches in any case and only as a whole word ('Google', 'GOOGLE', not 'Googleplex')."""
    if entry.written.isascii():
        return rf"(?i:(?<![A-Za-z]){re.escape(entry.written)}(?![A-Za-z]))"
    return re.escape(entry.written)


def save_lexicon_entry(path: Path, entry: LexiconEntry) -> None:
    """Add `entry` to the lexicon TSV, replacing the word's earlier entry, atomically."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else ["written\tspoken\tnote"]
    lines = [line for line in lines if line.split("\t")[0].strip() != entry.written]
    lines.append(f"{entry.written}\t{entry.spoken}\t{entry.note}")
    Lexicon.load_lines(lines, str(path))  # refuse to write a lexicon that would not load
    write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"))
