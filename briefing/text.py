"""Text: what counts as Chinese, the punctuation a voice pauses at, and how text splits into
sentences and clauses. Every stage asks this module, so the script, the engines and the transcript
always cut a text at the same places."""

from __future__ import annotations

import html
import re

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # a character class: CJK ideographs with extension A and compatibility
HAN = "\u4e00-\u9fa5"  # the common ideographs: the ones the offline voice has syllables for
SENTENCE_END = "。！？"
CLAUSE_MARKS = "，。！？、；："  # a voice pauses at each; nothing else is left in spoken text
_HAN_RE = re.compile(f"[{HAN}]")
_CJK_RE = re.compile(f"[{CJK}]")
_SENTENCE_RE = re.compile(r"[^。！？!?]+(?:[。！？!?]+[”’」』）]*|$)")
# Characters that carry no text and break XML, HTML, ID3 or a terminal: C0 and C1 controls (but
# tab, newline and carriage return), zero-width and direction marks, byte-order marks, lone
# surrogates and the non-characters U+FFFE and U+FFFF.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
_TERMINAL_UNSAFE_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def clean_text(text: str) -> str:
    """`text` without invisible and control characters (see _INVISIBLE_RE); what is left is XML-safe."""
    return _INVISIBLE_RE.sub("", text)


def printable(text: str) -> str:
    """`text` safe to print on a terminal: control and format characters (ESC, bidi overrides that
    reorder the line, zero-width ones) shown as escapes (ESC as \\x1b, U+202E as \\u202e), never sent."""
    return _TERMINAL_UNSAFE_RE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def is_han(char: str) -> bool:
    return bool(_HAN_RE.fullmatch(char))


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def count_han(text: str) -> int:
    return len(_HAN_RE.findall(text))


def split_sentences(text: str) -> list[str]:
    """Split on Chinese terminal punctuation, keeping closing quotes with their sentence."""
    return [sentence.strip() for sentence in _SENTENCE_RE.findall(text) if sentence.strip()]


def split_clauses(text: str, marks: str = CLAUSE_MARKS) -> list[str]:
    """Cut after each run of `marks`, keeping the marks with the clause before them; joined, they give back `text`
    less any blank pieces."""
    clauses = re.findall(f"[^{marks}]+[{marks}]*|[{marks}]+", text)
    return [clause for clause in clauses if clause.strip()]


def strip_marks(text: str) -> str:
    """`text` without the clause marks at its ends."""
    return text.strip(CLAUSE_MARKS)


_ASCII_TO_CHINESE = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_NEXT_TO_CJK = re.compile(rf"(?<=[{CJK}])\s*([,;:?!()])|([,;:?!()])\s*(?=[{CJK}])")
# '.' is a full stop only between Chinese characters or at the end after one.
_FULL_STOP = re.compile(rf"(?<=[{CJK}])\.(?=[{CJK}“”]|\s*$)")
_BEFORE_BREAK = re.compile(r"(?<=[%‰℃\w])([,;:?!])(?=\s|$)")
_PAREN_PAIR = re.compile(rf"\(([^()]*[{CJK}][^()]*)\)")


def to_chinese_punctuation(text: str) -> str:
    """'10日下午,区委书记' -> '10日下午，区委书记'; digits such as '1,800' or '10:30' are kept."""
    text = _PAREN_PAIR.sub(r"（\1）", text)

    def replace(match: re.Match[str]) -> str:
        mark = match.group(1) or match.group(2)
        return _ASCII_TO_CHINESE[mark]

    text = _NEXT_TO_CJK.sub(replace, text)
    if re.search(f"[{CJK}]", text):
        # In Chinese text a mark before a space or the line's end ends a clause ('8.2%,').
        text = _BEFORE_BREAK.sub(replace, text)
    return _FULL_STOP.sub("。", text)


# HTML that pages scraped from the web carry inside their text or Markdown: markup, not words. Only
# real tag names count, so a comparison ('3<5', 'a < b') is left to be said.
_BLOCK_TAGS = "p|br|div|li|ul|ol|h[1-6]|section|article|blockquote|table|tr|hr|header|footer|figure|figcaption|pre|center"
_INLINE_TAGS = "span|strong|b|i|em|u|a|font|img|sup|sub|small|big|mark|code|td|th|tbody|thead|label|abbr|cite|s|del|ins|q"
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG_RE = re.compile(rf"</?(?:{_BLOCK_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_INLINE_TAG_RE = re.compile(rf"</?(?:{_INLINE_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")


def without_markup(text: str) -> str:
    """`text` with inline HTML taken out: its tags gone, their words kept, a paragraph for each <p>,
    <br> or other block, entities decoded (&nbsp; is a space, &lt; a '<')."""
    if "<" not in text and "&" not in text:
        return text
    text = _SCRIPT_RE.sub("", text)
    text = _INLINE_TAG_RE.sub("", _BLOCK_TAG_RE.sub("\n\n", text))  # a blank line: a paragraph of its own
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group()).replace("\xa0", " "), text)


_NUMERAL_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_NUMERAL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_NUMERAL_UNITS = {"万": 10_000, "亿": 100_000_000}


def chinese_number(text: str) -> int | None:
    """一千三百五十万 -> 13500000; 二〇二六 -> 2026 (numerals without units are read one by one);
    None when the numerals do not make a number."""
    if not any(c in _NUMERAL_UNITS or c in BIG_NUMERAL_UNITS for c in text):
        return int("".join(str(_NUMERAL_DIGITS[c]) for c in text))
    total = section = digit = 0
    for char in text:
        if char in _NUMERAL_DIGITS:
            digit = _NUMERAL_DIGITS[char]
        elif char in _NUMERAL_UNITS:
            section += (digit or 1) * _NUMERAL_UNITS[char]
            digit = 0
        elif section + digit == 0 and total == 0:
            return None  # 万 or 亿 with nothing before it
        else:
            total = (total + section + digit) * BIG_NUMERAL_UNITS[char]
            section = digit = 0
    return total + section + digit


def is_url(text: str) -> bool:
    """Whether `text` is a web address (http or https; never javascript: or file:)."""
    return text.startswith(("http://", "https://"))
