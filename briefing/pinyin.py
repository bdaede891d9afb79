"""Pinyin: the syllables the offline voice says for spoken text, polyphones read in context.

Two steps, each measurable on its own:
- `dictionary_readings(text)`: one TONE3 syllable per Han character (neutral tone 5), the reading
  in context. Polyphonic characters are chosen by g2pM, a small BiLSTM trained on the CPP benchmark
  whose weights ship in its wheel; when it is unsure and the character sits in a word that pypinyin's
  phrase dictionary knows, the phrase reading wins.
- `with_tone_sandhi(text, readings)`: what a Mandarin speaker says (and the Baker voice was trained
  on): third-tone sandhi inside prosodic words, and the tone changes of 一 and 不.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import numpy as np

HAN = "\u4e00-\u9fa5"  # the characters the offline voice has syllables for
_HAN_RE = re.compile(f"[{HAN}]")
SYLLABLE_RE = re.compile(r"[a-z]+[1-5]")
# Below this confidence g2pM defers to a dictionary phrase around the character: tuned on CPP dev,
# where 0.9 and 0.99 score alike, and news vocabulary (利率, 汇率) is safer with the dictionary.
PHRASE_OVERRIDE_BELOW = 0.99
# Characters that keep 一 as yi1 beside it: counting, ordinals and dates (第一, 十一, 初一, 五月一日).
_NUMERALS = set("零〇一二三四五六七八九十百千万亿两")
_YI1_BEFORE = _NUMERALS | set("第初周星礼月")
_YI1_AFTER = _NUMERALS | set("月日号")


def is_han(char: str) -> bool:
    return bool(_HAN_RE.fullmatch(char))


def dictionary_readings(text: str) -> list[str]:
    """One syllable per Han character of `text`, in order, as the dictionary reads it in context."""
    if not _HAN_RE.search(text):
        return []
    phrase = _phrase_readings(text)
    model = _polyphone_model()
    predicted = model.polyphones(text)
    readings = []
    for index, char in enumerate(text):
        if not is_han(char):
            continue
        reading, in_phrase = phrase[index]
        if index in predicted:
            guess, confidence = predicted[index]
            if not (in_phrase and confidence < PHRASE_OVERRIDE_BELOW):
                reading = guess
        readings.append(reading)
    return readings


def spoken_syllables(text: str) -> list[str]:
    """The syllables the offline voice says for `text` (already normalized): readings plus tone sandhi."""
    return with_tone_sandhi(text, dictionary_readings(text))


def with_tone_sandhi(text: str, readings: list[str]) -> list[str]:
    """Apply the tone changes of 一 and 不 at the start of a word, then third-tone sandhi within
    prosodic words (a one-character word leans on its neighbour)."""
    positions = [i for i, char in enumerate(text) if is_han(char)]
    chars = [text[i] for i in positions]
    result = list(readings)
    for start, word in _words(text):
        if start + 1 == len(positions) or positions[start + 1] != positions[start] + 1:
            continue  # a pause or the end follows: no change
        following = _tone(result[start + 1])
        if word[0] == "不" and result[start] == "bu4" and following == "4":
            result[start] = "bu2"
        elif word[0] == "一" and result[start] == "yi1" and not _counts(chars, start):
            result[start] = "yi2" if following in "45" else "yi4"
    for start, length in _prosodic_words(text):
        for i in range(start, start + length - 1):
            if _tone(result[i]) == "3" and _tone(result[i + 1]) == "3":
                result[i] = result[i][:-1] + "2"
    return result


def characters_for(syllables: list[str]) -> str:
    """Common characters with exactly these readings and no other: '善县' for ['shan4', 'xian4'].

    A lexicon entry written in pinyin becomes these characters in the spoken text, so every engine
    (and the segment cache) sees ordinary text and the offline voice says exactly those syllables.
    """
    index = _unambiguous_characters()
    missing = [syllable for syllable in syllables if syllable not in index]
    if missing:
        raise ValueError(f"no Mandarin syllable {' '.join(missing)} (write TONE3 pinyin such as 'shan4 xian4')")
    return "".join(index[syllable] for syllable in syllables)


def _tone(syllable: str) -> str:
    return syllable[-1]


def _counts(chars: list[str], i: int) -> bool:
    """一 in a number, an ordinal or a date is always yi1 (第一, 十一, 一九九一, 初一)."""
    before = chars[i - 1] if i > 0 else ""
    after = chars[i + 1] if i + 1 < len(chars) else ""
    return before in _YI1_BEFORE or after in _YI1_AFTER


def _words(text: str) -> Iterator[tuple[int, str]]:
    """(index among the Han characters, word) for each word of Han characters."""
    han_index = 0
    for word in _segment(text):
        if all(is_han(char) for char in word):
            yield han_index, word
        han_index += sum(1 for char in word if is_han(char))


def _prosodic_words(text: str, longest: int = 4) -> Iterator[tuple[int, int]]:
    """(start, length) of each prosodic word: jieba's words, one-character words joined to a neighbour."""
    group: tuple[int, int] | None = None
    for start, word in _words(text):
        if group and group[0] + group[1] == start and (group[1] == 1 or len(word) == 1) and group[1] + len(word) <= longest:
            group = (group[0], group[1] + len(word))
            continue
        if group:
            yield group
        group = (start, len(word))
    if group:
        yield group


def _segment(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return jieba.lcut(text, HMM=False)


def _phrase_readings(text: str) -> dict[int, tuple[str, bool]]:
    """pypinyin's reading of each Han character at its index, and whether a known phrase gave it."""
    from pypinyin import Style
    from pypinyin.constants import PHRASES_DICT

    parser = _pypinyin()
    readings: dict[int, tuple[str, bool]] = {}
    position = 0
    for word in _segment(text):
        syllables = parser(word, style=Style.TONE3, errors=lambda chars: [[""] for _ in chars], heteronym=False)
        in_phrase = len(word) > 1 and word in PHRASES_DICT
        for offset, char in enumerate(word):
            if is_han(char):
                readings[position + offset] = (_clean(syllables[offset][0]) or "", in_phrase)
        position += len(word)
    return readings


def _clean(syllable: str) -> str:
    """pypinyin and g2pM spell ü as 'v' and 'u:'; the voice uses 'v'. A missing tone is neutral."""
    syllable = syllable.replace("u:", "v").replace("ü", "v")
    return syllable if not syllable or syllable[-1].isdigit() else syllable + "5"


@lru_cache(maxsize=1)
def _pypinyin() -> Any:
    from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
    from pypinyin.converter import DefaultConverter
    from pypinyin.core import Pinyin

    class Converter(NeutralToneWith5Mixin, DefaultConverter):
        pass

    return Pinyin(Converter()).pinyin


class _PolyphoneModel:
    """g2pM's network, asked for its choice and its confidence at each polyphonic character."""

    def __init__(self) -> None:
        from g2pM import G2pM

        model = G2pM()
        self._model = model
        self._logits: np.ndarray | None = None
        inner_fc = model.fc_layer

        def recording_fc(hidden: np.ndarray) -> np.ndarray:
            self._logits = inner_fc(hidden)
            return self._logits

        model.fc_layer = recording_fc  # type: ignore[method-assign]

    def is_polyphone(self, char: str) -> bool:
        return len(self._model.cedict.get(char, ())) > 1

    def polyphones(self, text: str) -> dict[int, tuple[str, float]]:
        """{index in text: (reading, confidence)} for each polyphonic character."""
        indices = [i for i, char in enumerate(text) if self.is_polyphone(char)]
        if not indices:
            return {}
        self._logits = None
        import numpy as np

        readings = self._model(text, char_split=True, tone=True)
        logits = np.atleast_2d(self._logits)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        confidence = (shifted.max(axis=1) / shifted.sum(axis=1)).tolist()
        return {i: (_clean(readings[i]), confidence[n]) for n, i in enumerate(indices)}


@lru_cache(maxsize=1)
def _polyphone_model() -> _PolyphoneModel:
    return _PolyphoneModel()


@lru_cache(maxsize=1)
def _unambiguous_characters() -> dict[str, str]:
    """TONE3 syllable -> the most common GB2312 character that has only that reading."""
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    model = _polyphone_model()
    best: dict[str, tuple[bytes, str]] = {}
    for code, readings in pinyin_dict.items():
        char = chr(code)
        if "," in readings or not is_han(char) or model.is_polyphone(char):
            continue
        try:
            rank = char.encode("gb2312")  # GB2312 orders its first level by frequency of use
        except UnicodeEncodeError:
            continue
        syllable = _clean(to_tone3(readings, neutral_tone_with_five=True))
        if syllable not in best or rank < best[syllable][0]:
            best[syllable] = (rank, char)
    return {syllable: char for syllable, (_, char) in best.items()}
