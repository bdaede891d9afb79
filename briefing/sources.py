"""Sources: the day's stories from where they are published: RSS and Atom feeds, article pages,
JSON Lines files and page files. Each source is read on its own; one that fails is reported and the
others still make the episode."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax import SAXParseException
from zoneinfo import ZoneInfo

from .config import SourceConfig, SourceKind
from .errors import InputError, SourceError
from .fetch import Fetched, Fetcher
from .furniture import trim_furniture
from .ingest import Article, expand_inputs, parse_page, read_articles
from .text import clean_text
from .text import is_url as is_url
from .webpage import WebArticle, html_paragraphs, read_web_page

# A feed item with less text than this, or ending in an ellipsis, carries a teaser: its link is
# fetched for the article. When that fails, a feed text of at least MIN_FEED_TEXT is read as it is.
TEASER_CHARS = 200
MIN_FEED_TEXT = 80
_XML_FORBIDDEN_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 does not allow
FETCHES_AT_ONCE = 4  # sources read at the same time, and a feed's linked pages


@dataclass(frozen=True)
class Item:
    """One story a source offers, with where it came from."""

    source: str
    article: Article
    url: str = ""
    published: str = ""  # ISO 8601 date or date and time, as the source gave it; empty: unknown
    priority: int = 0
    position: int = 0  # order within the source
    error: str = ""  # why this one item could not be read (its source still could)

    @property
    def title(self) -> str:
        return self.article.title

    def local_date(self, zone: ZoneInfo) -> dt.date | None:
        """The day the item was published, in the programme's time zone."""
        if not self.published:
            return None
        try:
            if len(self.published) == 10:
                return dt.date.fromisoformat(self.published)
            when = dt.datetime.fromisoformat(self.published.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(zone).date()


@dataclass(frozen=True)
class SourceResult:
    source: SourceConfig
    items: tuple[Item, ...] = ()
    error: str = ""


def read_sources(sources: tuple[SourceConfig, ...], fetcher: Fetcher) -> list[SourceResult]:
    """Every source's items, in the order of the config, read at the same time; a source that fails
    carries its error. Each source has `budget_seconds` in all, linked pages included."""
    with ThreadPoolExecutor(max_workers=FETCHES_AT_ONCE) as pool:
        return list(pool.map(lambda source: _read_source(source, fetcher), sources))


def read_article_pages(urls: list[str], fetcher: Fetcher) -> tuple[tuple[Article, ...], tuple[str, ...]]:
    """Article pages read as `kind = "web"` sources read them (`briefing ingest URL`): the articles,
    and a problem for each page that could not be read."""
    articles: list[Article] = []
    problems: list[str] = []
    for result in read_sources(tuple(SourceConfig(url=url, kind=SourceKind.WEB) for url in urls), fetcher):
        problems += [result.error] if result.error else [item.error for item in result.items if item.error]
        articles += [item.article for item in result.items if not item.error]
    return tuple(articles), tuple(problems)


def _read_source(source: SourceConfig, fetcher: Fetcher) -> SourceResult:
    budget = _Budget(source, time.monotonic() + source.budget_seconds)
    try:
        return SourceResult(source, tuple(_READERS[_kind(source)](source, fetcher, budget)))
    except (SourceError, InputError) as exc:
        return SourceResult(source, (), str(exc))


@dataclass(frozen=True)
class _Budget:
    """What a source may still fetch: until `deadline` (time.monotonic()), content links as its config allows."""

    source: SourceConfig
    deadline: float

    def get(self, fetcher: Fetcher, url: str, from_content: bool = False) -> Fetched:
        return fetcher.get(url, trusted=not from_content, allow_private=self.source.allow_private, deadline=self.deadline)


def _kind(source: SourceConfig) -> SourceKind:
    if source.kind:
        return source.kind
    if source.path:
        return SourceKind.JSONL if source.path.endswith(".jsonl") else SourceKind.PAGE
    return SourceKind.GUESS


def _item(source: SourceConfig, title: str, text: str, position: int, url: str = "", published: str = "") -> Item:
    return Item(source.name, to_article(title, text, source.name), url, published, source.priority, position)


def to_article(title: str, text: str, source: str) -> Article:
    """An article from a title and plain text, cleaned the way page files are (bylines, credits…)."""
    body = "\n".join(line.lstrip("#").strip() for line in clean_text(text).splitlines())  # never a headline marker
    articles = parse_page(f"# {clean_text(title).strip() or '无题'}\n{body}\n", source=source)
    if not articles:
        raise SourceError(f"{source}: 《{title}》 has no text to read")
    first = articles[0]
    rest = tuple(p for article in articles[1:] for p in article.paragraphs)
    return Article(first.headline, first.paragraphs + rest, first.kicker, first.subtitle, first.byline, source, first.date, first.headings)


# --- readers -----------------------------------------------------------------------------------------


def _auto(source: SourceConfig, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    """A URL without a kind: a feed when the answer is XML, else an article page."""
    fetched = budget.get(fetcher, source.url)
    head = fetched.content[:500].lstrip().lower()
    if "xml" in fetched.content_type or head.startswith((b"<?xml", b"<rss", b"<feed")):
        return _feed_items(source, fetched, fetcher, budget)
    return [_page_item(source, fetched, 0)]


def _rss(source: SourceConfig, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    return _feed_items(source, budget.get(fetcher, source.url), fetcher, budget)


def _feed_items(source: SourceConfig, fetched: Fetched, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    import feedparser

    feed = feedparser.parse(_feed_document(fetched), response_headers={"content-type": fetched.content_type})
    if isinstance(feed.get("bozo_exception"), SAXParseException):  # cut short or not XML: its items cannot be trusted
        raise SourceError(f"{source.url}: not an RSS or Atom feed (the XML is broken: {feed.bozo_exception})")
    if not feed.entries:
        reason = f" ({feed.bozo_exception})" if feed.bozo else ""
        raise SourceError(f"{source.url}: not an RSS or Atom feed with items{reason}")
    entries = [_FeedEntry.of(entry) for entry in feed.entries]
    teasers = [n for n, entry in enumerate(entries) if entry.link and entry.is_teaser and not entry.problem][: source.max_pages]
    with ThreadPoolExecutor(max_workers=FETCHES_AT_ONCE) as pool:
        pages = dict(zip(teasers, pool.map(lambda n: _linked_page(entries[n].link, fetcher, budget), teasers)))
    items = []
    for position, entry in enumerate(entries):
        text, published, problem = entry.text, entry.published, entry.problem
        page = pages.get(position)
        if isinstance(page, WebArticle):
            text, published = page.text, published or page.published
        elif entry.is_teaser and len(text) < MIN_FEED_TEXT and not problem:
            problem = page or f"{entry.link}: not fetched: over max_pages = {source.max_pages} linked pages for this source"
        try:
            if problem:
                raise SourceError(problem)
            items.append(_item(source, entry.title, text, position, entry.link, published))
        except SourceError as exc:
            items.append(Item(source.name, Article(entry.title, ()), entry.link, published, source.priority, position, str(exc)))
    return items


@dataclass(frozen=True)
class _FeedEntry:
    title: str
    link: str
    text: str
    published: str
    problem: str  # why the item cannot be used, whatever its page says

    @classmethod
    def of(cls, entry: dict[str, Any]) -> _FeedEntry:
        contents = [c.get("value", "") for c in entry.get("content", [])] or [entry.get("summary", "")]
        published, problem = "", ""
        try:
            published = _feed_time(entry)
        except (ValueError, OverflowError, OSError):
            problem = (
                f"{entry.get('link') or entry.get('title')}: its date is out of range ({entry.get('published') or entry.get('updated')})"
            )
        text = "\n\n".join(trim_furniture(html_paragraphs(max(contents, key=len))))  # 原标题, 责任编辑…
        return cls(str(entry.get("title", "")), str(entry.get("link", "")), text, published, problem)

    @property
    def is_teaser(self) -> bool:
        return len(self.text) < TEASER_CHARS or self.text.rstrip().endswith(("…", "..."))


def _linked_page(link: str, fetcher: Fetcher, budget: _Budget) -> WebArticle | str:
    """The article a feed item links to, or why it could not be read."""
    try:
        return extract_article(budget.get(fetcher, link, from_content=True))
    except SourceError as exc:
        return str(exc)


def _feed_document(fetched: Fetched) -> bytes | str:
    """The feed with XML's forbidden control characters taken out, so one of them does not lose the
    whole feed; UTF-8 with a few bad bytes is decoded here, so only the items holding them suffer."""
    content = _XML_FORBIDDEN_RE.sub(b"", fetched.content)
    declared = re.search(rb"""<\?xml[^>]*encoding=["']([\w-]+)""", content[:200])
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return content  # feedparser reads the encoding it declares
    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError:
        text = content.decode("utf-8", errors="replace")
        return re.sub(r"<\?xml[^>]*\?>", "", text, count=1)


def _feed_time(entry: dict[str, Any]) -> str:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return ""
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC).isoformat()


def _web(source: SourceConfig, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    return [_page_item(source, budget.get(fetcher, source.url), 0)]


def _page_item(source: SourceConfig, fetched: Fetched, position: int) -> Item:
    page = extract_article(fetched)
    return _item(source, page.title, page.text, position, fetched.url, page.published)


def _jsonl(source: SourceConfig, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    path = Path(source.path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            title, text = entry["title"], entry["text"]
            if not isinstance(title, str) or not isinstance(text, str):
                raise TypeError("title and text must be strings")
            published = str(entry.get("published") or "")
            if published:
                dt.datetime.fromisoformat(published.replace("Z", "+00:00"))
            name = str(entry.get("source") or source.name)
            items.append(Item(name, to_article(title, text, name), str(entry.get("url") or ""), published, source.priority, number))
        except (ValueError, KeyError, TypeError, RecursionError, SourceError) as exc:
            problem = (
                f"{path}:{number}: not an item ({type(exc).__name__}: {exc}); expected title, text, and optional url, published, source"
            )
            items.append(Item(source.name, Article("", ()), "", "", source.priority, number, problem))
    return items


def _pages(source: SourceConfig, fetcher: Fetcher, budget: _Budget) -> list[Item]:
    files, problems = expand_inputs([Path(source.path)])
    if not files:
        raise SourceError("; ".join(problems) or f"{source.path}: no page file")
    items: list[Item] = []
    for path in files:
        try:
            articles = read_articles(path, source=source.name)
        except InputError as exc:
            items.append(Item(source.name, Article("", ()), str(path), "", source.priority, len(items), str(exc)))
            continue
        items += [Item(source.name, a, str(path), a.date or "", source.priority, len(items) + n) for n, a in enumerate(articles)]
    return items


_READERS: dict[str, Callable[[SourceConfig, Fetcher, _Budget], list[Item]]] = {
    SourceKind.GUESS: _auto,
    SourceKind.RSS: _rss,
    SourceKind.WEB: _web,
    SourceKind.JSONL: _jsonl,
    SourceKind.PAGE: _pages,
}


# --- article pages ------------------------------------------------------------------------------------


def extract_article(fetched: Fetched) -> WebArticle:
    """The article of a fetched news page: its headline and paragraphs, nothing around them."""
    return read_web_page(fetched.text, fetched.url)
