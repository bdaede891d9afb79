"""A page's head and its headline: what a news page says about itself (its <title>, headings, meta
tags and JSON-LD, read in one pass) and which of its candidates is the headline a reader sees.

The headline is the candidate (`<h1>`, `og:title`, JSON-LD, the lines above the story) that the
`<title>` agrees with, so a site's name around it goes by comparison, without a list of sites.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .furniture import is_furniture_line
from .text import count_han

if TYPE_CHECKING:
    from .webpage import Line

_TITLE_SEPARATORS_RE = re.compile(r"\s*(?:_+|\|+|｜|--+|—+|-\s|\s-|–|·\s)\s*")
_SPACES_RE = re.compile(r"\s+")
_SITE_OWNER_RE = re.compile(r"版权|copyright|©|主办|ICP|备案", re.IGNORECASE)
DATE_SEARCH_CHARS = 300_000  # a page says its date near its top; the rest of a long page is not searched


@dataclass(frozen=True)
class PageHead:
    """What a page says about itself, read in one pass over it: its <title>, <h1> and <h2> texts,
    <meta> tags and JSON-LD objects, each in page order."""

    title: str
    headings: tuple[tuple[str, str], ...]  # (tag, text)
    metas: tuple[dict[str, str], ...]
    linked_data: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, tree: Any) -> PageHead:
        titles: list[str] = []
        headings: list[tuple[str, str]] = []
        metas: list[dict[str, str]] = []
        linked_data: list[dict[str, Any]] = []
        for element in tree.iter():
            if element.tag == "title" and not titles:
                titles.append(_SPACES_RE.sub(" ", "".join(element.itertext())).strip())
            elif element.tag in ("h1", "h2"):
                headings.append((element.tag, " ".join("".join(element.itertext()).split())))
            elif element.tag == "meta":
                metas.append(dict(element.attrib))
            elif element.tag == "script" and "ld+json" in (element.get("type") or "") and element.text:
                linked_data += json_ld_objects(element.text)
        return cls(titles[0] if titles else "", tuple(headings), tuple(metas), tuple(linked_data))

    @property
    def h1(self) -> list[str]:
        return [text for tag, text in self.headings if tag == "h1"]

    def declared_headlines(self) -> list[str]:
        """The headline the page declares for sharing and search: og:title, twitter:title, JSON-LD."""
        found = [
            meta.get("content") or ""
            for meta in self.metas
            if meta.get("property") in ("og:title", "twitter:title") or meta.get("name") in ("og:title", "twitter:title", "title")
        ]
        found += [str(node["headline"]) for node in self.linked_data if isinstance(node.get("headline"), str)]
        return [c.strip() for c in found if count_han(c) >= 4]

    def stated_body(self) -> list[str]:
        for node in self.linked_data:
            body = node.get("articleBody")
            if isinstance(body, str) and count_han(body) >= 50:
                return [line.strip() for line in body.splitlines() if line.strip()]
        return []

    def published(self) -> str:
        """When the page says it was published: JSON-LD, else its meta tags."""
        for node in self.linked_data:
            if isinstance(node.get("datePublished"), str):
                return node["datePublished"]
        for name in ("article:published_time", "pubdate", "publishdate", "og:release_date"):
            for meta in self.metas:
                if name in (meta.get("property"), meta.get("name"), meta.get("itemprop")) and meta.get("content"):
                    return str(meta.get("content")).strip()
        return ""


def json_ld_objects(text: str) -> list[dict[str, Any]]:
    """The objects of one JSON-LD script, those in an @graph included; none when it is not JSON."""
    try:
        stack = [json.loads(text)]
    except ValueError:
        return []
    found = []
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
        elif isinstance(node, dict):
            found.append(node)
            stack += [value for key, value in node.items() if key == "@graph"]
    return found


def date_shown(html: str) -> str:
    """The date htmldate finds near the top of a page that states none in its markup (the date under
    the headline): an old article must not pass for today's."""
    from htmldate import find_date

    try:
        return find_date(html[:DATE_SEARCH_CHARS], original_date=True) or ""
    except (ValueError, TypeError):
        return ""


def choose_title(head: PageHead, lines_above: list[Line], opening: str, owners: list[str]) -> str:
    """The headline: the on-page candidate the `<title>` agrees with (the longest, when several do);
    else the `<h1>` shown nearest above the story, when it shares words with its opening; else the
    candidate sharing most words with the `opening`; else the page's declared headline (`og:title`,
    JSON-LD) or the `<title>` without its site name. Never the site's own name (`owners`)."""
    shown = [line.text for line in lines_above if not line.is_links and line.is_headline_like and not line.furniture]
    broken = ["".join(shown[n : n + size]) for size in (2, 3) for n in range(len(shown) - size + 1)]  # a headline over lines
    candidates = [c for c in _title_candidates(head, shown) if not _names_the_site(c, owners)]
    agreed = [c for c in candidates + broken if _agrees_with(c, head.title)]
    if agreed:
        return max(agreed, key=len)
    marked = {_comparable(text) for text in head.h1}
    headed = [c for c in shown if _comparable(c) in marked and _shared_bigrams(c, opening) >= 0.3 and not _names_the_site(c, owners)]
    if headed:
        return headed[-1]
    near = [c for c in candidates if _shared_bigrams(c, opening) >= 0.5]
    if near:
        return max(near, key=lambda c: _shared_bigrams(c, opening) * min(count_han(c), 30))
    declared = [c for c in head.declared_headlines() if not _names_the_site(c, owners)]
    declared += [max(_TITLE_SEPARATORS_RE.split(head.title), key=count_han, default="")]
    declared += [c for c in shown if _comparable(c) in marked][-1:] + head.h1
    return next((c for c in declared if count_han(c) >= 4), "")


def headline_lines(head: PageHead, lines: list[Line], owners: list[str]) -> list[int]:
    """The lines that show the page's headline: ones the <title> agrees with, or an <h1>'s text;
    never the site's own name."""
    marked = {_comparable(text) for text in head.h1} - {""}
    return [
        n
        for n, line in enumerate(lines)
        if line.is_headline_like
        and not line.is_links
        and (_agrees_with(line.text, head.title) or _comparable(line.text) in marked)
        and not _names_the_site(line.text, owners)
    ]


def site_owner_lines(lines: list[Line]) -> list[str]:
    """The page's copyright or publisher lines, for comparison (`_comparable`)."""
    return [_comparable(line.text) for line in lines if line.furniture and _SITE_OWNER_RE.search(line.text)]


def _names_the_site(candidate: str, owners: list[str]) -> bool:
    """A candidate the site's owner line repeats ('版权所有 某某学会') is the site's name, not a headline."""
    return any(_comparable(candidate) in owner for owner in owners)


def _title_candidates(head: PageHead, shown: list[str]) -> list[str]:
    """<h1> and <h2> texts, the declared headlines, and the headline-like lines shown above the story."""
    found = [text for _, text in head.headings] + head.declared_headlines() + shown
    return [c.strip() for c in dict.fromkeys(found) if 4 <= count_han(c) and len(c) <= 120 and not is_furniture_line(c)]


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _agrees_with(candidate: str, page_title: str) -> bool:
    """The `<title>` holds the candidate, and the candidate is most of it (a site name or channel
    around a headline is shorter than the headline; a breadcrumb inside a title is not the headline)."""
    short, title = _comparable(candidate), _comparable(page_title)
    return bool(short) and short in title and len(short) * 2 >= len(title)


def same_words(line: str, title: str) -> bool:
    return bool(title) and _comparable(line) == _comparable(title)


def _shared_bigrams(candidate: str, text: str) -> float:
    """The share of the candidate's two-character words that `text` holds."""
    pairs = {candidate[i : i + 2] for i in range(len(candidate) - 1) if count_han(candidate[i : i + 2]) == 2}
    if not pairs:
        return 0.0
    return sum(pair in text for pair in pairs) / len(pairs)
