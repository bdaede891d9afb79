"""Web pages: the article a news page shows, its headline, and nothing of the page around it.

The page is parsed the way a browser parses it (html5lib: a stray `</html>` before the content does
not lose the article) and rendered into lines, one per block element, as a reader sees them. Each
line has a value: its sentence text, less its links and labels. The story is looked for under the
headline the page shows, up to the first line that closes a story (else in the best-scoring block
element), and grows from its richest line while what it adds is worth more than it costs. The
page's own JSON-LD `articleBody` is taken when it holds more; furniture (credits, sources, original
titles, disclaimers, prompts) goes by what it is. The headline is chosen in `headline.py`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import SourceError
from .furniture import furniture_kind, is_furniture_line, trim_furniture, without_trailing_prompt
from .headline import PageHead, choose_title, date_shown, headline_lines, same_words, site_owner_lines
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
_SPACES_RE = re.compile(r"\s+")
LABEL_PENALTY = 3  # a short line without a sentence mark: a label, a button, a date
HEADLINES_TRIED = 5  # lines that look like the headline (a sticky header may repeat it)
STORY_GAP = 40  # han characters of links and labels in a row that end a story: a list of related stories
TITLE_LINES_ABOVE = 30  # lines above the first sentence where the headline may stand
OPENING_LINES = 5  # the lines of the story a headline is compared with
MIN_ARTICLE_HAN = 10  # less than this is no article


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
    page, head = _Rendered.of(tree), PageHead.of(tree)
    owners = site_owner_lines(page.lines)
    start, end = page.body_range(headline_lines(head, page.lines, owners))
    lede = next((n for n in range(start, end) if page.lines[n].is_sentence and not page.lines[n].is_headline_like), start)
    body = [line.text for line in page.lines[start:end] if not line.is_links and not line.furniture]
    title = choose_title(head, page.lines[max(0, lede - TITLE_LINES_ABOVE) : lede], "".join(body[:OPENING_LINES]), owners)
    body = _trimmed(body, title)
    stated = _trimmed(head.stated_body(), title)
    if count_han("".join(stated)) > count_han("".join(body)):
        body = stated  # the page's own articleBody holds more of the story than its markup shows
    if count_han("".join(body)) < MIN_ARTICLE_HAN:
        body = _trimmed(_trafilatura_body(html), title)  # an article in markup the scorer does not see as a block
    if count_han("".join(body)) < MIN_ARTICLE_HAN:
        raise SourceError(f"{url or 'the page'}: no article text on the page")
    return WebArticle(title, tuple(body), head.published() or date_shown(html))


def html_paragraphs(fragment: str) -> list[str]:
    """The text of an HTML fragment (a feed item's content), a paragraph per block element or <br>,
    rendered as a page is; plain text keeps its blank-line paragraphs."""
    if "<" not in fragment:
        return [paragraph for paragraph in fragment.strip().split("\n\n") if paragraph.strip()]
    return [line.text for line in _Rendered.of(parse_html(fragment)).lines]


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
            line = Line(text, count_han(text), link_han, *furniture_kind(text))
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
    while kept and (is_furniture_line(kept[0]) or same_words(kept[0], title)):
        kept.pop(0)
    return trim_furniture(kept)


def _trafilatura_body(html: str) -> list[str]:
    import trafilatura

    return (trafilatura.extract(html, include_comments=False, include_tables=False) or "").splitlines()
