"""Credits and datelines: who wrote a story and where it was filed, said for the eye and not the ear.

Bylines ('本报记者 李明远', a name alone under the last sentence), datelines with their credits
('本报北京5月11日电（记者韩鑫）'), and photo credits and captions ('黄春涛摄（人民视觉）', '图为…').
Every reader of pages (files, feeds, web pages) takes them off with these rules.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .text import HAN, chinese_number

NAME = rf"[{HAN}]{{2,4}}"
BYLINE_LINE_RE = re.compile(rf"^(?:(?:本报)?(?:记者|通讯员|实习生|特约记者)\s*)?{NAME}(?:\s+(?:(?:记者|通讯员)\s*)?{NAME}){{0,2}}$")
TRAILING_BYLINE_RE = re.compile(rf"^(.*[。！？”’])\s+((?:(?:记者|通讯员)\s*)?{NAME}(?:\s+{NAME}){{0,2}})$")


def looks_like_byline(line: str) -> bool:
    """'本报记者 李明远', '张三 李四', '许应田': reporters' names; a lone four-character line without a
    label ('韩正出席') is more likely a subtitle."""
    if not BYLINE_LINE_RE.fullmatch(line):
        return False
    names = CREDIT_LABEL_RE.sub(" ", line).split()
    return bool(CREDIT_LABEL_RE.search(line)) or len(names) > 1 or all(len(name) <= 3 for name in names)


# Datelines open a story: 本报讯, 本报北京5月11日电, 新华社北京5月11日电, 据新华社澳门10月14日电,
# 人民网北京5月11日电, 央视网消息, each with or without the reporters' credit that follows.
_NUMERAL = "0-9０-９一二三四五六七八九十〇零"
_AGENCY = r"(?:本报|新华社|中新社|人民网|新华网|央视网|中新网|中国新闻网|光明网|央广网|国际在线|[^\s，。（(]{2,8}?(?:社|网|台|报))"
# The web's forms: 新京报讯, 本站讯, 华龙网-新重庆客户端讯, 证券时报e公司讯 (an outlet's 讯 before a credit, a
# space or a comma), IT之家9月30日消息, 据中新网9月9日报道 (any outlet with a date), and 【文/…】.
_OUTLET = r"[^\s，。、（(：:“”]{2,14}?"
_DATELINE = (
    rf"(?:据)?(?:本报讯|(?:央视网|人民网|新华网|中新网|光明网)消息|{_AGENCY}[^\s，。（(]{{0,12}}?(?:(?P<month>[{_NUMERAL}]{{1,3}})月(?P<day>[{_NUMERAL}]{{1,3}})日)?电"
    rf"|{_OUTLET}(?P<web_month>[{_NUMERAL}]{{1,3}})月(?P<web_day>[{_NUMERAL}]{{1,3}})日(?:电|讯|消息|报道)|{_OUTLET}快?讯(?=[\s（(，,：:0-9０-９]))"
    r"|【[^】]{0,6}[/／][^】]{1,30}】|【[^】]{0,12}(?:报道|记者|讯)[^】]{0,20}】"
)
DATELINE_START_RE = re.compile(rf"^{_DATELINE}")
# A dateline with its date, run onto the end of a headline or subtitle line by the page's layout:
# '……会议在京举行本报北京6月3日电 ……'. Only a dated one: 本报讯 inside a line may be a phrase.
_RUN_IN_DATELINE_RE = re.compile(
    rf"(?<=[{HAN}”》])(?:本报|新华社|中新社|人民网|新华网|央视网|中新网|光明网)[^\s，。（(]{{0,12}}?[{_NUMERAL}]{{1,3}}月[{_NUMERAL}]{{1,3}}日电"
)


def split_run_in_dateline(line: str) -> tuple[str, str]:
    """(the headline or subtitle, the dateline and the text after it) when a dated dateline is run
    onto the end of `line`'s words; else (line, '')."""
    match = _RUN_IN_DATELINE_RE.search(line)
    if match is None or re.search(r"[，。！？；：]", line[: match.start()]):
        return line, ""
    return line[: match.start()].strip(), line[match.start() :].strip()


_CREDIT_RE = re.compile(r"^\s*[（(](?P<credit>[^（）()]{1,40})[）)]\s*")
CREDIT_LABEL_RE = re.compile(r"本报|特约|实习生|见习|职工|通讯员|记者|报道")


@dataclass(frozen=True)
class Dateline:
    rest: str  # the paragraph after the dateline
    reporters: tuple[str, ...]
    date: str | None


def read_dateline(paragraph: str) -> Dateline | None:
    """Split a dateline and its credit off the first paragraph: '本报北京5月11日电（记者韩鑫）记者日前…'."""
    match = DATELINE_START_RE.match(paragraph)
    if not match:
        return None
    rest = paragraph[match.end() :]
    reporters: tuple[str, ...] = ()
    credit = _CREDIT_RE.match(rest)
    if credit:
        labelled = bool(CREDIT_LABEL_RE.search(credit.group("credit")))
        names = re.split(r"[\s、，,]+", CREDIT_LABEL_RE.sub(" ", credit.group("credit")).strip())
        # '（新闻联播）' after 央视网消息 names a programme, not people: unlabelled names are short.
        reporters = tuple(name for name in names if re.fullmatch(NAME, name) and (labelled or len(name) <= 3))
        rest = rest[credit.end() :]
    if match.group(0).startswith("【"):  # 【文/李明】: the credit is the dateline
        reporters = tuple(name for name in re.split(r"[/／\s、，,】]+", match.group(0)[1:]) if re.fullmatch(NAME, name))
    date = None
    month, day = match.group("month") or match.group("web_month"), match.group("day") or match.group("web_day")
    if month:
        date = _dateline_date(month, day)
    return Dateline(rest.lstrip("：:，, 　"), reporters, date)


DATELINE_SEARCH = 3  # paragraphs a dateline may stand in: a caption or an inner headline may come first
SET_ABOVE_MAX = 60  # characters of such a caption or inner headline


def find_dateline(paragraphs: list[str]) -> tuple[int, Dateline | None]:
    """(where, the dateline) opening a story: in its first paragraph, or after a short inner
    headline or photo caption that a web page sets above it; (0, None) when there is none."""
    for at, paragraph in enumerate(paragraphs[:DATELINE_SEARCH]):
        dated = read_dateline(paragraph)
        if dated is not None:
            return at, dated
        if len(paragraph) > SET_ABOVE_MAX:
            break
    return 0, None


def _dateline_date(month: str, day: str) -> str | None:
    """The most recent such day up to today (a dateline names no year)."""
    try:
        month_number, day_number = _read_number(month), _read_number(day)
        today = dt.date.today()
        when = dt.date(today.year, month_number, day_number)
        if when > today:
            when = when.replace(year=today.year - 1)
        return when.isoformat()
    except ValueError:
        return None


def _read_number(text: str) -> int:
    """'11', '１１' or '十一' -> 11 (the numbers of months and days)."""
    text = unicodedata.normalize("NFKC", text)
    value = int(text) if text.isdigit() else chinese_number(text)
    if value is None:
        raise ValueError(text)
    return value


# Photo credits and captions are for the eye: '黄春涛摄（人民视觉）', '本报记者 王某摄', '（新华社发）',
# '（图片来源：…）', and '图为…' captions.
_SPACED_NAME = rf"[{HAN}](?: ?[{HAN}]){{1,3}}"  # OCR and layout put spaces inside names: '王 明摄'
_PHOTO_CREDIT_RE = re.compile(
    rf"\s*(?:(?:(?:本报|新华社|中新社|人民网)?(?:特约)?(?:记者|通讯员)?\s*{_SPACED_NAME}(?:[\s、]+{_SPACED_NAME}){{0,2}}\s*/?\s*摄(?:影)?)"
    rf"(?:[（(][^（）()]{{1,12}}[）)])?|[（(](?:[^（）()]{{0,10}}(?:社|网)发|图片来源[：:][^（）()]{{0,30}}|资料图片?|视觉中国|受访者供图|[^（）()]{{0,12}}供图)[）)])\s*"
)
CAPTION_RE = re.compile(r"^(?:图为|上图[：:]?|下图[：:]?|左图[：:]?|右图[：:]?|图[①-⑳0-9]+[：:]?|组图[：:]?)")


# A caption's credit after its last sentence, without brackets: '…纸团。沙坪坝区公安分局供图 华龙网', '…周琦。视频截图'.
_CAPTION_CREDIT_RE = re.compile(
    r"(?<=[。！？])\s*(?:[^\s。，！？]{0,12}供图|视频截图|截图|资料图片?|网络图片)(?:\s+[^\s。，！？]{1,8})?\s*$"
)


def strip_photo_credits(line: str) -> str:
    """A line that is only a credit disappears; a credit after a caption's last sentence is cut off."""

    def credit_or_text(match: re.Match[str]) -> str:
        # One with brackets goes anywhere; a bare '王某摄' only at the line's start or end.
        at_edge = match.start() == 0 or match.end() == len(line)
        return "" if at_edge or "（" in match.group(0) or "(" in match.group(0) else match.group(0)

    return _CAPTION_CREDIT_RE.sub("", _PHOTO_CREDIT_RE.sub(credit_or_text, line)).strip()
