"""Ingest: OCR'd newspaper pages, Markdown or plain-text files into Article records."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import InputError
from .punctuation import to_chinese_punctuation

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".text"}

# Lines that belong to the page, not to any story: social-media labels, page numbers,
# edition and editor lines. Matched against a whole stripped line.
PAGE_FURNITURE = [
    r"官方(微信|微博|抖音|网站|客户端|视频号)",
    r"(扫码|扫一扫|长按)关注.{0,8}",
    r"(微信)?公众号.{0,10}",
    r"第?\s*[0-9０-９A-Za-z]{1,3}\s*版.{0,12}",
    r"[A-Za-z]?\d{1,3}",
    r"[-—–]\s*\d{1,3}\s*[-—–]",
    r"(责任|本版)?(编辑|校对|美编|组版|版式|版面设计)[:：\s].{0,12}",
    r"(图片新闻|广告|要闻|综合新闻|本版导读|导读)",
    r".{0,12}\d{4}年\d{1,2}月\d{1,2}日\s*(星期|周)[一二三四五六日天].{0,12}",
]
_FURNITURE_RE = re.compile("|".join(f"(?:{p})" for p in PAGE_FURNITURE))

# A paragraph that ends with one of these is complete; anything else was cut by a column break.
_PARAGRAPH_END = "。！？!?…；;：:”’」』）)"
_CJK = "\u4e00-\u9fff"
_NAME = rf"[{_CJK}]{{2,4}}"
_BYLINE_LINE_RE = re.compile(
    rf"^(?:(?:本报)?(?:记者|通讯员|实习生|特约记者)\s*)?{_NAME}(?:\s+(?:(?:记者|通讯员)\s*)?{_NAME}){{0,2}}$"
)
_TRAILING_BYLINE_RE = re.compile(
    rf"^(.*[。！？”’])\s+((?:(?:记者|通讯员)\s*)?{_NAME}(?:\s+{_NAME}){{0,2}})$"
)
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

    @property
    def title(self) -> str:
        return self.headline or self.kicker

    @property
    def body(self) -> str:
        return "".join(self.paragraphs)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["paragraphs"] = list(self.paragraphs)
        return data


@dataclass
class _Draft:
    kicker: str = ""
    headline: str = ""
    subtitle: str = ""
    lines: list[str] = field(default_factory=list)  # raw body lines, "" for a blank line

    def has_body(self) -> bool:
        return any(self.lines)


def decode_page(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030/GBK; anything else is an InputError."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if b"\x00" in data or _control_byte_ratio(data) > 0.05:
        raise InputError(f"{name}: this is a binary file, not page text (expected UTF-8 or GBK text)")
    try:
        text = data.decode("utf-8-sig")
        if _looks_like_text(text):
            return text
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _looks_like_text(text) and _mostly_common_hanzi(text):
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
    hanzi = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
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
    articles = parse_page(text, source=source or path.stem)
    if not articles:
        raise InputError(f"{path}: no recognisable article (expected '#' headline lines or a title and paragraphs)")
    return articles


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Replace each folder by the text and Markdown files inside it, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not inside:
                raise InputError(f"{path}: the folder holds no .txt or .md file")
            files.extend(inside)
        else:
            files.append(path)
    return files


def parse_page(text: str, source: str = "") -> list[Article]:
    """Split page text into articles. Text with no '#' lines is read as one article."""
    lines = [to_chinese_punctuation(line.strip()) for line in text.replace("\r\n", "\n").split("\n")]
    page_date = _find_page_date(lines)
    if not any(line.startswith("#") for line in lines):
        return _parse_single_article(lines, source, page_date)
    drafts: list[_Draft] = []
    for line in lines:
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            heading = line.lstrip("#").strip()
            if not heading:
                continue
            _add_heading(drafts, level, heading)
        elif drafts and not _is_furniture(line):
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
    content = [line for line in lines if not _is_furniture(line)]
    while content and not content[0]:
        content.pop(0)
    if not content:
        return []
    first = content[0]
    looks_like_title = len(first) <= 40 and not first.endswith(tuple("。！？"))
    draft = _Draft(headline=first if looks_like_title else "", lines=content[1:] if looks_like_title else content)
    article = _finish(draft, source, page_date)
    return [article] if article else []


def _is_furniture(line: str) -> bool:
    return bool(line) and _FURNITURE_RE.fullmatch(line) is not None


def _find_page_date(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("#"):
            return None  # only an edition line above the first story dates the page
        match = _PAGE_DATE_RE.search(line)
        if match and _is_furniture(line):
            year, month, day = (int(part) for part in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _finish(draft: _Draft, source: str, page_date: str | None) -> Article | None:
    paragraphs = _rejoin_paragraphs(draft.lines)
    if paragraphs:
        paragraphs[0] = _drop_dateline(paragraphs[0])
    byline = ""
    if paragraphs and _BYLINE_LINE_RE.fullmatch(paragraphs[-1]) and len(paragraphs) > 1:
        byline = paragraphs.pop()
    if paragraphs:
        trailing = _TRAILING_BYLINE_RE.match(paragraphs[-1])
        if trailing and not byline:
            paragraphs[-1], byline = trailing.group(1), trailing.group(2)
    headline, kicker = draft.headline, draft.kicker
    if not headline:  # a '##' story with no '#' line: the kicker is its only title
        headline, kicker = kicker, ""
    if not paragraphs:
        return None
    return Article(
        headline=headline,
        kicker=kicker,
        subtitle=draft.subtitle,
        paragraphs=tuple(paragraphs),
        byline=re.sub(r"\s+", " ", byline),
        source=source,
        date=page_date,
    )


_DATELINE_RE = re.compile(r"^(?:本报讯|本报[^\s，。]{0,12}电|新华社[^\s，。]{0,12}电)\s*(?:[（(](?:记者|通讯员)[^）)]{0,20}[）)])?\s*")


def _drop_dateline(paragraph: str) -> str:
    """'本报讯（记者 张三）2020年…' -> '2020年…': the agency tag is not read to listeners."""
    return _DATELINE_RE.sub("", paragraph, count=1) or paragraph


def _rejoin_paragraphs(lines: list[str]) -> list[str]:
    """Blank lines separate paragraphs, unless the text before them stops mid-sentence."""
    paragraphs: list[str] = []
    current = ""
    for line in lines + [""]:
        if line:
            current = _join_fragments(current, line)
            continue
        if not current:
            continue
        if paragraphs and not paragraphs[-1].endswith(tuple(_PARAGRAPH_END)):
            paragraphs[-1] = _join_fragments(paragraphs[-1], current)
        else:
            paragraphs.append(current)
        current = ""
    return paragraphs


def _join_fragments(left: str, right: str) -> str:
    if not left:
        return right
    if re.search(r"[A-Za-z0-9]$", left) and re.match(r"[A-Za-z0-9]", right):
        return f"{left} {right}"
    return left + right
