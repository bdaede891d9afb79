"""Ingest: OCR'd newspaper pages, Markdown or plain-text files into Article records."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .credits import (
    BYLINE_LINE_RE,
    CAPTION_RE,
    DATELINE_START_RE,
    TRAILING_BYLINE_RE,
    find_dateline,
    looks_like_byline,
    split_run_in_dateline,
    strip_photo_credits,
)
from .errors import InputError
from .furniture import is_page_furniture
from .text import CJK, HAN, clean_text, has_cjk, to_chinese_punctuation, without_markup

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".text"}

# A paragraph that ends with one of these is complete; anything else was cut by a column break.
_PARAGRAPH_END = tuple("。！？!?…；;：:”’」』）)")
_PAGE_DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


@dataclass(frozen=True)
class Article:
    """One story as printed: its title lines, body paragraphs and byline."""

    headline: str
    paragraphs: tuple[str, ...]
    kicker: str = ""
    subtitle: str = ""
    byline: str = ""
    source: str = ""
    date: str | None = None
    headings: tuple[int, ...] = ()  # indexes of paragraphs that are in-article subheads (小标题)

    @property
    def title(self) -> str:
        return self.headline or self.kicker

    @property
    def body(self) -> str:
        return "".join(self.paragraphs)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["paragraphs"] = list(self.paragraphs)
        data["headings"] = list(self.headings)
        return data

    @property
    def story_paragraphs(self) -> tuple[str, ...]:
        """The paragraphs a listener hears: the body without its subheads."""
        return tuple(p for i, p in enumerate(self.paragraphs) if i not in self.headings)


@dataclass
class _Draft:
    kicker: str = ""
    headline: str = ""
    subtitle: str = ""
    lines: list[str] = field(default_factory=list)  # raw body lines, "" for a blank line

    def has_body(self) -> bool:
        return any(self.lines)


def decode_page(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030/GBK, without control or invisible characters;
    anything else is an InputError that says what is wrong."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if b"\x00" in data:
        raise InputError(f"{name}: this is a binary file, not page text (expected UTF-8 or GBK text)")
    try:
        text = clean_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    else:  # valid UTF-8: whatever invisible characters it held are gone
        if not text.strip():
            raise InputError(f"{name}: the file holds only control or invisible characters, no text")
        if _looks_like_text(text):
            return text
    if _control_byte_ratio(data) > 0.05:
        raise InputError(f"{name}: this is a binary file, not page text (expected UTF-8 or GBK text)")
    try:
        text = clean_text(data.decode("gb18030"))
        if text.strip() and _looks_like_text(text) and _mostly_common_hanzi(text):
            return text
    except UnicodeDecodeError:
        pass
    raise InputError(f"{name}: unknown text encoding (expected UTF-8 or GB18030/GBK); re-save the file as UTF-8")


def _control_byte_ratio(data: bytes) -> float:
    controls = sum(1 for b in data[:65536] if b < 32 and b not in (9, 10, 13, 12))
    return controls / min(len(data), 65536)


def _looks_like_text(text: str) -> bool:
    readable = sum(1 for ch in text if ch.isprintable() or ch.isspace())
    return readable / len(text) > 0.98


def _mostly_common_hanzi(text: str) -> bool:
    """Big5 or Shift-JIS bytes also decode as GB18030, but into rare characters outside GB2312."""
    hanzi = re.findall(f"[{CJK}]", text)
    if not hanzi:
        return True
    common = 0
    for ch in hanzi:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(hanzi) >= 0.9


def read_articles(path: Path, source: str = "") -> list[Article]:
    """Read one page or article file and return its articles (never an empty list)."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; use read_folder or pass the files inside it") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    text = decode_page(data, str(path))
    if not has_cjk(text):
        raise InputError(f"{path}: no Chinese text; briefing reads Chinese news, and this would be spelled out letter by letter")
    articles = parse_page(text, source=source or path.stem)
    if not articles:
        raise InputError(f"{path}: no recognisable article (expected '#' headline lines or a title and paragraphs)")
    return articles


@dataclass(frozen=True)
class Ingested:
    articles: tuple[Article, ...]
    problems: tuple[str, ...]  # one message per input that could not be used


def read_inputs(paths: list[Path]) -> Ingested:
    """The articles of every page file and folder; a bad one is reported and the rest are still read."""
    articles: list[Article] = []
    files, problems = expand_inputs(paths)
    for path in files:
        try:
            articles.extend(read_articles(path))
        except InputError as exc:
            problems.append(str(exc))
    return Ingested(tuple(articles), tuple(problems))


def expand_inputs(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Replace each folder by the text and Markdown files inside it, in name order. A link inside a
    folder that leads out of it is not followed (a page folder must not publish /etc/shadow): it is
    reported, with a folder that holds no page, in the second list."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        folder = path.resolve()
        inside = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file())
        for page in inside:
            if page.is_symlink() and not page.resolve().is_relative_to(folder):
                problems.append(f"{page}: not read, it is a link to a file outside {path}")
            else:
                files.append(page)
        if not inside:
            problems.append(f"{path}: the folder holds no .txt or .md file")
    return files, problems


def parse_page(text: str, source: str = "") -> list[Article]:
    """Split page text into articles. Text with no '#' lines is read as one article."""
    lines = [to_chinese_punctuation(line.strip()) for line in without_markup(clean_text(text)).replace("\r\n", "\n").split("\n")]
    page_date = _find_page_date(lines)
    if not any(line.startswith("#") for line in lines):
        return _parse_single_article(lines, source, page_date)
    drafts: list[_Draft] = []
    for line in lines:
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            heading, run_in = split_run_in_dateline(line.lstrip("#").strip())
            if not heading:
                continue
            _add_heading(drafts, level, heading)
            if run_in:
                drafts[-1].lines.append(run_in)
        elif drafts and not is_page_furniture(line):
            drafts[-1].lines.append(line)
    articles = (_finish(draft, source, page_date) for draft in drafts)
    return [article for article in articles if article is not None]


def _add_heading(drafts: list[_Draft], level: int, heading: str) -> None:
    current = drafts[-1] if drafts else None
    if level == 1:
        if current is not None and not current.has_body() and not current.headline:
            current.headline = heading
        else:
            drafts.append(_Draft(headline=heading))
    elif current is not None and current.headline and not current.has_body() and not current.subtitle:
        current.subtitle = heading  # a '##' right under the headline is its subtitle
    else:
        drafts.append(_Draft(kicker=heading))


def _parse_single_article(lines: list[str], source: str, page_date: str | None) -> list[Article]:
    content = [line for line in lines if not is_page_furniture(line)]
    while content and not content[0]:
        content.pop(0)
    if not content:
        return []
    first = content[0]
    looks_like_title = len(first) <= 40 and not first.endswith(tuple("。！？"))
    draft = _Draft(headline=first if looks_like_title else "", lines=content[1:] if looks_like_title else content)
    article = _finish(draft, source, page_date)
    return [article] if article else []


def _find_page_date(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("#"):
            return None  # only an edition line above the first story dates the page
        match = _PAGE_DATE_RE.search(line)
        if match and is_page_furniture(line):
            year, month, day = (int(part) for part in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _finish(draft: _Draft, source: str, page_date: str | None) -> Article | None:
    lines = [strip_photo_credits(line) if line else line for line in draft.lines]
    subtitle = draft.subtitle
    if draft.headline and not subtitle:
        subtitle, lines = _take_subtitle(lines)
    blocks = _rejoin_paragraphs(lines)
    captions = [block for block in blocks if CAPTION_RE.match(block.text)]
    blocks = [block for block in blocks if block not in captions] or [
        _Block(CAPTION_RE.sub("", block.text, count=1))
        for block in captions  # a photo story: its caption is the story
    ]
    top_bylines = []  # some papers print the reporters under the headline
    while len(blocks) > 1 and looks_like_byline(blocks[0].text):
        top_bylines.append(blocks.pop(0).text)
    at, dated = find_dateline([block.text for block in blocks])
    if dated is not None and dated.rest:
        blocks[at] = _Block(dated.rest)
    elif dated is not None:
        blocks.pop(at)
    paragraphs = [block.text for block in blocks]
    headings = [i for i, block in enumerate(blocks) if block.heading]
    byline = ""
    if paragraphs and BYLINE_LINE_RE.fullmatch(paragraphs[-1]) and len(paragraphs) > 1:
        byline = paragraphs.pop()
    if paragraphs:
        trailing = TRAILING_BYLINE_RE.match(paragraphs[-1])
        if trailing and not byline:
            paragraphs[-1], byline = trailing.group(1), trailing.group(2)
    credited = [*top_bylines, *(dated.reporters if dated else ()), byline]
    byline = " ".join(dict.fromkeys(" ".join(credited).split()))
    headline, kicker = draft.headline, draft.kicker
    if not headline:  # a '##' story with no '#' line: the kicker is its only title
        headline, kicker = kicker, ""
    while paragraphs and len(paragraphs) - 1 in headings:  # a subhead with nothing under it
        paragraphs.pop()
        headings.pop()
    if not paragraphs:
        return None
    return Article(
        headline=headline,
        kicker=kicker,
        subtitle=subtitle,
        paragraphs=tuple(paragraphs),
        byline=re.sub(r"\s+", " ", byline),
        source=source,
        date=page_date or (dated.date if dated else None),
        headings=tuple(headings),
    )


# A subtitle (副题) stands right under the headline: a dash lead, a series number, or a short line
# with no punctuation at all (a paragraph cut by a column break is far longer than a subtitle).
_SUBTITLE_RE = re.compile(r"^(?:——|--|—)\s*(?P<dashed>.+)$|^(?P<numbered>.{2,40}[①-⑳])$")
_SUBTITLE_MAX = 20


def _take_subtitle(lines: list[str]) -> tuple[str, list[str]]:
    """('subtitle', remaining lines) when the first body line is a subtitle, else ('', lines)."""
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None or not any(lines[first + 1 :]):
        return "", lines
    line = lines[first]
    subtitle, run_in = split_run_in_dateline(line)
    if run_in and len(subtitle) <= _SUBTITLE_MAX * 2:  # '——副题本报北京6月3日电 正文…'
        return subtitle.lstrip("—-").strip(), [run_in, *lines[first + 1 :]]
    match = _SUBTITLE_RE.match(line)
    if match:
        return (match.group("dashed") or match.group("numbered")).strip(), lines[first + 1 :]
    if (
        len(line) <= _SUBTITLE_MAX
        and not re.search(r"[，。！？；：、,.;:!?]", line)
        and not looks_like_byline(line)
        and not DATELINE_START_RE.match(line)
    ):
        return line, lines[first + 1 :]
    return "", lines


@dataclass(frozen=True)
class _Block:
    text: str
    heading: bool = False


# A subhead (小标题): an enumerated line ('一、…', '（二）…'), an 'X：Y' line, or a short label,
# standing alone after a finished paragraph, with no sentence punctuation of its own.
_ENUMERATION_RE = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.、．]|第[一二三四五六七八九十]+[，、：]|[■□●○◆◇▲△★☆▶►]\s*)"
)
# Printed subheads also come as a couplet ('稳投资 促消费') or in brackets ('【抓防控】').
_SHAPED_SUBHEAD_RE = re.compile(rf"^(?:[{HAN}]{{2,10}}[ 　][{HAN}]{{2,10}}|【[^】]{{2,20}}】)$")
_SUBHEAD_MAX = 24
# A line that starts with one of these continues the sentence before it.
_CONTINUATION_START = tuple("的地得了着过和与及或而并，。、；：！？）》”’")


def _is_subhead(text: str, after: str | None, before: str | None) -> bool:
    """`text` stands alone between `after` (the paragraph before it) and `before` (the one after)."""
    if len(text) > _SUBHEAD_MAX or (after is not None and not after.endswith(_PARAGRAPH_END)):
        return False
    if before is None or before.startswith(_CONTINUATION_START):
        return False
    body = _ENUMERATION_RE.sub("", text)
    if re.search(r"[，。！？；!?;]", body):
        return False
    return bool(_ENUMERATION_RE.match(text) or _SHAPED_SUBHEAD_RE.match(text)) or "：" in body or len(body) <= 12


def _rejoin_paragraphs(lines: list[str]) -> list[_Block]:
    """Blank lines separate paragraphs, unless the text before them stops mid-sentence; a subhead
    is its own paragraph even though it has no closing punctuation. Each paragraph is joined once,
    from its pieces, so a page of many lines costs time in proportion to its size."""
    pieces: list[str] = []
    fragments: list[str] = []
    for line in lines + [""]:
        if line:
            fragments.append(line)
        elif fragments:
            pieces.append(_joined(fragments))
            fragments = []
    paragraphs: list[tuple[list[str], bool]] = []  # (pieces of one paragraph, whether it is a subhead)
    for i, piece in enumerate(pieces):
        previous = paragraphs[-1] if paragraphs else None
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        if _is_subhead(piece, previous[0][-1] if previous else None, following) and not piece.endswith(_PARAGRAPH_END):
            paragraphs.append(([piece], True))
        elif previous is not None and not previous[1] and not previous[0][-1].endswith(_PARAGRAPH_END):
            previous[0].append(piece)
        else:
            paragraphs.append(([piece], False))
    return [_Block(_joined(parts), heading) for parts, heading in paragraphs]


def _joined(fragments: list[str]) -> str:
    """Fragments of one paragraph as one text: Chinese runs straight on, Latin words and numbers
    broken across lines get a space between them."""
    joined = [fragments[0]]
    for fragment in fragments[1:]:
        if _LATIN_END_RE.search(joined[-1]) and _LATIN_START_RE.match(fragment):
            joined.append(" ")
        joined.append(fragment)
    return "".join(joined)


_LATIN_END_RE = re.compile(r"[A-Za-z0-9]$")
_LATIN_START_RE = re.compile(r"[A-Za-z0-9]")
