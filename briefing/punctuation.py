"""ASCII punctuation inside Chinese text, turned into its Chinese (full-width) form."""

from __future__ import annotations

import re

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
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
