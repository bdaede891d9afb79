"""Choose: which of the sources' items today's episode tells, and why each other one is not told.

Items are ranked by source priority, then by their place in the source. Each gets a status:
`new` (told today), `duplicate` (the same story as a higher-ranked item), `told` (an episode of the
last `dedup_days` days told it, and it has not changed materially), `old` (published on another
day) or `error` (it could not be read).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .dedup import NUM_PERM, SAME_STORY, ToldStories, signature, similarity
from .ingest import Article
from .sources import Item, SourceResult

if TYPE_CHECKING:
    from datasketch import MinHash


class Status(StrEnum):
    """What became of an item, in the order `briefing sources` counts them."""

    NEW = "new"  # told in today's episode
    DUPLICATE = "duplicate"  # the same story as one ranked before it today
    TOLD = "told"  # told in an earlier episode, and not changed materially since
    OLD = "old"  # published before the episode's day
    FUTURE = "future"  # dated after the episode's day
    ERROR = "error"  # the item or its source could not be read


@dataclass(frozen=True)
class Choice:
    source: str
    title: str
    url: str
    published: str
    status: Status
    detail: str = ""
    item: Item | None = None
    signature: MinHash | None = None

    def to_dict(self) -> dict[str, str]:
        return {
            "source": self.source,
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "status": self.status,
            "detail": self.detail,
        }


def choose(results: list[SourceResult], date: dt.date, zone: ZoneInfo, told: ToldStories | None, dedup_days: int) -> list[Choice]:
    """A Choice for every item of every source (and one for each source that failed), best first."""
    from datasketch import MinHashLSH

    choices: list[Choice] = []
    for result in results:
        if result.error:
            where = result.source.url or result.source.path
            choices.append(Choice(result.source.name, "", where, "", Status.ERROR, result.error))
    order = {id(result.source): n for n, result in enumerate(results)}
    items = sorted(
        ((item, order[id(result.source)]) for result in results for item in result.items),
        key=lambda pair: (pair[0].priority, pair[1], pair[0].position),
    )
    earlier = told.told_between(date - dt.timedelta(days=dedup_days), date - dt.timedelta(days=1)) if told and dedup_days else []
    kept = MinHashLSH(threshold=SAME_STORY, num_perm=NUM_PERM)
    kept_items: dict[str, Choice] = {}
    for item, _ in items:
        base = Choice(item.source, item.title, item.url, item.published, Status.NEW, item=item)
        if item.error:
            choices.append(replace(base, status=Status.ERROR, detail=item.error))
            continue
        day = item.local_date(zone)
        if day is not None and day != date:
            status = Status.OLD if day < date else Status.FUTURE
            choices.append(replace(base, status=status, detail=f"published {day.isoformat()}, not {date.isoformat()}"))
            continue
        mark = signature(item.article.body or item.title)
        same = [kept_items[key] for key in kept.query(mark) if similarity(mark, kept_items[key].signature) >= SAME_STORY]
        if same:
            choices.append(replace(base, status=Status.DUPLICATE, detail=f"the same story as 《{same[0].title}》 ({same[0].source})"))
            continue
        before = next((story for story in earlier if similarity(mark, story.signature) >= SAME_STORY), None)
        if before is not None:
            choices.append(replace(base, status=Status.TOLD, detail=f"told on {before.date.isoformat()} as 《{before.title}》"))
            continue
        chosen = replace(base, signature=mark)
        key = f"{len(kept_items)}"
        kept.insert(key, mark)
        kept_items[key] = chosen
        choices.append(chosen)
    return choices


@dataclass(frozen=True)
class Gathered:
    """What the sources offer for one day: every item's Choice, and the new stories to tell."""

    choices: tuple[Choice, ...]
    warnings: tuple[str, ...] = ()  # about the history of what was told

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(c.item.article for c in self.choices if c.status == Status.NEW and c.item is not None)

    @property
    def problems(self) -> tuple[str, ...]:
        errors = [c for c in self.choices if c.status == Status.ERROR]
        return tuple(f"{c.source}: {c.detail}" if not c.detail.startswith(c.url or "\0") else c.detail for c in errors)

    def told(self, articles: tuple[Article, ...]) -> list[tuple[str, str, MinHash]]:
        """(title, URL, signature) of the chosen items behind `articles`: what the episode tells."""
        ids = {id(article) for article in articles}
        return [(c.title, c.url, c.signature) for c in self.choices if c.item is not None and id(c.item.article) in ids and c.signature]

    def outcomes(self, names: list[str]) -> list[tuple[str, bool, str]]:
        """(source, read, why not) for each source: a source fails when nothing it offered could be read."""
        outcomes = []
        for name in names:
            errors = [c.detail for c in self.choices if c.source == name and c.status == Status.ERROR]
            failed = bool(errors) and len(errors) == sum(c.source == name for c in self.choices)
            outcomes.append((name, not failed, errors[0] if failed else ""))
        return outcomes


def record_told(out_root: Path, date: dt.date, told: list[tuple[str, str, MinHash]], keep_days: int) -> str:
    """Record what the episode for `date` told in told.sqlite, forgetting rows older than
    de-duplication looks back; a database that cannot be written is a warning (the episode folder's
    told.json has it, and the next run records it from there)."""
    import sqlite3

    from .dedup import TOLD_FILE, ToldStories

    try:
        stories = ToldStories(out_root / TOLD_FILE)
        try:
            stories.remember(date, told, forget_before=date - dt.timedelta(days=keep_days + 1))
        finally:
            stories.close()
    except (sqlite3.Error, OSError) as exc:
        return f"what this episode told could not be recorded in {out_root / TOLD_FILE} ({exc}); the next run records it"
    return ""
