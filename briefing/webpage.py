"""Web pages: the article a news page shows, its headline, and nothing of the page around it.

The page is parsed the way a browser parses it (html5lib: a stray `</html>` before the content does
not lose the article) and rendered into lines, one per block element, as a reader sees them. Each
line has a value: its sentence text, less its links and labels. The story is looked for under the
headline the page shows, up to the first line that closes a story (else in the best-scoring block
element), and grows from its richest line while what it adds is worth more than it costs. The
page's own JSON-LD `articleBody` is taken when it holds more; furniture (credits, sources, original
titles, disclaimers, prompts) goes by what it is. The headline is the candidate (`<h1>`,
`og:title`, JSON-LD, the lines above the body) that the `<title>` and the body agree with, so a
site's name around it goes without a list of sites.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import SourceError
from .furniture import ends_story, is_furniture_line, trim_furniture, without_trailing_prompt
from .text import count_han

_SKIPPED = {"script", "style", "noscript", "template", "svg", "iframe", "select", "button", "textarea", "head"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
}  # fmt: skip
_SENTENCE_MARKS_RE = re.compile(r"[。！？；，：!?;]")
_SENTENCE_END_RE = re.compile(r"[。！？!?][”’」』）)]?\s*$")
_TITLE_SEPARATORS_RE = re.compile(r"\s*(?:_+|\|+|｜|--+|—+|-\s|\s-|–|·\s)\s*")
_SPACES_RE = re.compile(r"\s+")
_SITE_OWNER_RE = re.compile(r"版权|copyright|©|主办|ICP|备案", re.IGNORECASE)
LABEL_PENALTY = 3  # a short line without a sentence mark: a label, a button, a date
HEADLINES_TRIED = 5  # lines that look like the headline (a sticky header may repeat it)
STORY_GAP = 40  # han characters of links and labels in a row that end a story: a list of related stories
TITLE_LINES_ABOVE = 30  # lines above the first sentence where the headline may stand
OPENING_LINES = 5  # the lines of the story a headline is compared with
MIN_ARTICLE_HAN = 10  # less than this is no article
DATE_SEARCH_CHARS = 300_000  # a page says its date near its top; the rest of a long page is not searched


@dataclass(frozen=True)
class WebArticle:
    """What a reader of the page is told: the headline and the article's paragraphs."""

    title: str
    paragraphs: tuple[str, ...]
    published: str = ""  # ISO 8601, as the page gives it; empty: unknown

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class Line:
    """One rendered line of the page: the text of one block element, and how much of it is link text."""

    text: str
    han: int
    link_han: int
    furniture: bool  # not told: a credit, source, disclaimer, prompt or navigation line (see furniture.py)
    ends_story: bool  # furniture that closes a story: a source, an editor, a disclaimer, a related-stories label

    @property
    def is_links(self) -> bool:
        return self.han > 0 and self.link_han * 2 > self.han

    @property
    def is_sentence(self) -> bool:
        return not self.is_links and self.han >= 10 and bool(_SENTENCE_END_RE.search(self.text))

    @property
    def is_headline_like(self) -> bool:
        """Short and without a full stop: a headline may hold a comma or end with ！ or ？."""
        return len(self.text) <= 50 and "。" not in self.text and not self.text.endswith(("，", ","))

    @property
    def value(self) -> int:
        """What the line adds to a container that holds it: sentences count, links and labels cost."""
        if self.is_links or self.furniture:
            return -max(self.han, LABEL_PENALTY)
        if _SENTENCE_MARKS_RE.search(self.text) or self.han >= 30:
            return self.han - self.link_han
        return -LABEL_PENALTY


def read_web_page(html: str, url: str = "") -> WebArticle:
    """The article of one news page. SourceError when the page holds no article text."""
    tree = parse_html(html)
    page = _Rendered.of(tree)
    owners = _site_owner_lines(page.lines)
    start, end = page.body_range(_headline_lines(tree, page.lines, owners))
    lede = next((n for n in range(start, end) if page.lines[n].is_sentence and not page.lines[n].is_headline_like), start)
    body = [line.text for line in page.lines[start:end] if not line.is_links and not line.furniture]
    title = choose_title(tree, page.lines[max(0, lede - TITLE_LINES_ABOVE) : lede], "".join(body[:OPENING_LINES]), owners)
    body = _trimmed(body, title)
    stated = _trimmed(_stated_body(tree), title)
    if count_han("".join(stated)) > count_han("".join(body)):
        body = stated  # the page's own articleBody holds more of the story than its markup shows
    if count_han("".join(body)) < MIN_ARTICLE_HAN:
        body = _trimmed(_trafilatura_body(html), title)  # an article in markup the scorer does not see as a block
    if count_han("".join(body)) < MIN_ARTICLE_HAN:
        raise SourceError(f"{url or 'the page'}: no article text on the page")
    return WebArticle(title, tuple(body), _published(tree, html))


def parse_html(html: str) -> Any:
    """The page as a browser builds it (html5lib), as an ElementTree element. html5lib's lxml
    builder counts an element's children on every text it adds, which is quadratic on long pages."""
    import html5lib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


@dataclass
class _Rendered:
    """The page's lines, and for each block element the lines it holds and what they are worth."""

    lines: list[Line] = field(default_factory=list)
    containers: list[tuple[int, int, int]] = field(default_factory=list)  # (score, first line, line after the last)
    _parts: list[tuple[str, bool]] = field(default_factory=list)  # the line being rendered: (text, inside a link)
    _opened: list[tuple[int, int]] = field(default_factory=list)  # each open block: (first line, score so far)
    _links: int = 0

    @classmethod
    def of(cls, root: Any) -> _Rendered:
        page = cls()
        stack: list[tuple[Any, bool]] = [(root, False)]  # a loop, not recursion: pages nest deeply
        while stack:
            element, closing = stack.pop()
            tag = element.tag if isinstance(element.tag, str) else ""
            if closing:
                page._close(tag)
            elif tag and tag not in _SKIPPED:
                page._open(tag, element.text)
                stack.append((element, True))
                stack.extend((child, False) for child in reversed(element))
                continue
            if element.tail:
                page._parts.append((element.tail, page._links > 0))
        page._flush()
        return page

    def _open(self, tag: str, text: str | None) -> None:
        if tag in _BLOCKS or tag == "br":
            self._flush()
        if tag in _BLOCKS:
            self._opened.append((len(self.lines), 0))
        self._links += tag == "a"
        if text:
            self._parts.append((text, self._links > 0))

    def _close(self, tag: str) -> None:
        self._links -= tag == "a"
        if tag in _BLOCKS:
            self._flush()
            first, score = self._opened.pop()
            self.containers.append((score, first, len(self.lines)))
            self._add_to_open_block(score)

    def _flush(self) -> None:
        text = without_trailing_prompt(_SPACES_RE.sub(" ", "".join(part for part, _ in self._parts)).strip())
        link_han = sum(count_han(part) for part, in_link in self._parts if in_link)
        self._parts.clear()
        if text:
            line = Line(text, count_han(text), link_han, is_furniture_line(text), ends_story(text))
            self.lines.append(line)
            self._add_to_open_block(line.value)

    def _add_to_open_block(self, value: int) -> None:
        if self._opened:
            first, score = self._opened[-1]
            self._opened[-1] = (first, score + value)

    def body_range(self, headlines: list[int]) -> tuple[int, int]:
        """The story's lines: from its most valuable line out to each side while what is added is
        worth more than it costs, never past furniture that closes a story (a credit, a source, a
        disclaimer, a related-stories label). Where to look: under the page's headline when it
        shows one (`headlines`, the lines the <title> or <h1> agree with), up to the first line
        that closes a story, so a long comment thread below a short story is never taken for it;
        else the best-scoring block element."""
        first, last = self._under_headline(headlines) or self._best_container()
        core = max(range(first, last), key=lambda n: self.lines[n].value, default=first)
        if core >= len(self.lines) or self.lines[core].value <= 0:
            return 0, 0
        return self._edge(core, first - 1, -1), self._edge(core, last, 1) + 1

    def _best_container(self) -> tuple[int, int]:
        _, first, last = max(self.containers, key=lambda c: (c[0], -(c[2] - c[1])), default=(0, 0, 0))
        return first, last

    def _under_headline(self, headlines: list[int]) -> tuple[int, int] | None:
        regions = [(h + 1, self._story_end(h + 1)) for h in headlines[:HEADLINES_TRIED]]
        worth = [(sum(line.value for line in self.lines[first:last]), first, last) for first, last in regions]
        value, first, last = max(worth, default=(0, 0, 0))
        return (first, last) if value > 0 else None

    def _story_end(self, start: int) -> int:
        """The first line after `start` that closes a story, once some text has been told."""
        told = False
        for n in range(start, len(self.lines)):
            line = self.lines[n]
            if told and line.ends_story:
                return n
            told = told or line.value > 0
        return len(self.lines)

    def _edge(self, core: int, stop: int, step: int) -> int:
        edge, balance = core, 0
        for n in range(core + step, stop, step):
            line = self.lines[n]
            if line.ends_story:
                break
            balance += line.value
            if balance > 0:
                edge, balance = n, 0
            elif balance < -STORY_GAP:
                break
        return edge


def _trimmed(lines: list[str], title: str) -> list[str]:
    """The body without the headline above it and without furniture at its head and tail."""
    kept = [line for line in lines if line.strip()]
    while kept and (is_furniture_line(kept[0]) or _same_words(kept[0], title)):
        kept.pop(0)
    return trim_furniture(kept)


def _elements(tree: Any, *tags: str) -> Iterator[Any]:
    return (element for element in tree.iter() if element.tag in tags)


def _trafilatura_body(html: str) -> list[str]:
    import trafilatura

    return (trafilatura.extract(html, include_comments=False, include_tables=False) or "").splitlines()


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or "") or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack += node
            elif isinstance(node, dict):
                yield node
                stack += [value for key, value in node.items() if key == "@graph"]


def _stated_body(tree: Any) -> list[str]:
    for node in _json_ld(tree):
        body = node.get("articleBody")
        if isinstance(body, str) and count_han(body) >= 50:
            return [line.strip() for line in body.splitlines() if line.strip()]
    return []


def _published(tree: Any, html: str) -> str:
    """When the page says it was published: its JSON-LD or meta tags, else the date htmldate finds
    in its head and the text near the top (an old article must not pass for today's)."""
    for node in _json_ld(tree):
        if isinstance(node.get("datePublished"), str):
            return node["datePublished"]
    for name in ("article:published_time", "pubdate", "publishdate", "og:release_date"):
        for meta in tree.iter("meta"):
            if name in (meta.get("property"), meta.get("name"), meta.get("itemprop")) and meta.get("content"):
                return str(meta.get("content")).strip()
    from htmldate import find_date

    try:
        return find_date(html[:DATE_SEARCH_CHARS], original_date=True) or ""
    except (ValueError, TypeError):
        return ""


# --- the headline ---------------------------------------------------------------------------------


def choose_title(tree: Any, lines_above: list[Line], opening: str, owners: list[str]) -> str:
    """The headline: the on-page candidate the `<title>` agrees with (the longest, when several do);
    else the `<h1>` shown nearest above the story, when it shares words with its opening; else the
    candidate sharing most words with the `opening`; else the page's declared headline (`og:title`,
    JSON-LD) or the `<title>` without its site name. Never the site's own name (`owners`)."""
    page_title = _page_title(tree)
    shown = [line.text for line in lines_above if not line.is_links and line.is_headline_like and not line.furniture]
    broken = ["".join(shown[n : n + size]) for size in (2, 3) for n in range(len(shown) - size + 1)]  # a headline over lines
    candidates = [c for c in _title_candidates(tree, lines_above) if not _names_the_site(c, owners)]
    agreed = [c for c in candidates + broken if _agrees_with(c, page_title)]
    if agreed:
        return max(agreed, key=len)
    marked = {_comparable(text) for text in _h1_texts(tree)}
    headed = [c for c in shown if _comparable(c) in marked and _shared_bigrams(c, opening) >= 0.3 and not _names_the_site(c, owners)]
    if headed:
        return headed[-1]
    near = [c for c in candidates if _shared_bigrams(c, opening) >= 0.5]
    if near:
        return max(near, key=lambda c: _shared_bigrams(c, opening) * min(count_han(c), 30))
    declared = [c for c in _declared_headlines(tree) if not _names_the_site(c, owners)]
    declared += [max(_TITLE_SEPARATORS_RE.split(page_title), key=count_han, default="")]
    declared += [c for c in shown if _comparable(c) in marked][-1:] + _h1_texts(tree)
    return next((c for c in declared if count_han(c) >= 4), "")


def _headline_lines(tree: Any, lines: list[Line], owners: list[str]) -> list[int]:
    """The lines that show the page's headline: ones the <title> agrees with, or an <h1>'s text;
    never the site's own name."""
    page_title = _page_title(tree)
    marked = {_comparable(text) for text in _h1_texts(tree)} - {""}
    return [
        n
        for n, line in enumerate(lines)
        if line.is_headline_like
        and not line.is_links
        and (_agrees_with(line.text, page_title) or _comparable(line.text) in marked)
        and not _names_the_site(line.text, owners)
    ]


def _site_owner_lines(lines: list[Line]) -> list[str]:
    """The page's copyright or publisher lines, for comparison (`_comparable`)."""
    return [_comparable(line.text) for line in lines if line.furniture and _SITE_OWNER_RE.search(line.text)]


def _names_the_site(candidate: str, owners: list[str]) -> bool:
    """A candidate the site's owner line repeats ('版权所有 某某学会') is the site's name, not a headline."""
    return any(_comparable(candidate) in owner for owner in owners)


def _page_title(tree: Any) -> str:
    title = tree.find(".//title")
    return "" if title is None else _SPACES_RE.sub(" ", "".join(title.itertext())).strip()


def _h1_texts(tree: Any) -> list[str]:
    return [" ".join("".join(h.itertext()).split()) for h in _elements(tree, "h1")]


def _declared_headlines(tree: Any) -> list[str]:
    """The headline the page declares for sharing and search: og:title, twitter:title, JSON-LD."""
    found = [
        meta.get("content") or ""
        for meta in tree.iter("meta")
        if meta.get("property") in ("og:title", "twitter:title") or meta.get("name") in ("og:title", "twitter:title", "title")
    ]
    found += [str(node["headline"]) for node in _json_ld(tree) if isinstance(node.get("headline"), str)]
    return [c.strip() for c in found if count_han(c) >= 4]


def _title_candidates(tree: Any, lines_above: list[Line]) -> list[str]:
    found = [" ".join("".join(h.itertext()).split()) for h in _elements(tree, "h1", "h2")] + _declared_headlines(tree)
    found += [line.text for line in lines_above if not line.is_links and line.is_headline_like and not line.furniture]
    return [c.strip() for c in dict.fromkeys(found) if 4 <= count_han(c) and len(c) <= 120 and not is_furniture_line(c)]


def _comparable(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _agrees_with(candidate: str, page_title: str) -> bool:
    """The `<title>` holds the candidate, and the candidate is most of it (a site name or channel
    around a headline is shorter than the headline; a breadcrumb inside a title is not the headline)."""
    short, title = _comparable(candidate), _comparable(page_title)
    return bool(short) and short in title and len(short) * 2 >= len(title)


def _same_words(line: str, title: str) -> bool:
    return bool(title) and _comparable(line) == _comparable(title)


def _shared_bigrams(candidate: str, text: str) -> float:
    """The share of the candidate's two-character words that `text` holds."""
    pairs = {candidate[i : i + 2] for i in range(len(candidate) - 1) if count_han(candidate[i : i + 2]) == 2}
    if not pairs:
        return 0.0
    return sum(pair in text for pair in pairs) / len(pairs)
