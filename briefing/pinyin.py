"""Pinyin: the syllables the offline voice says for spoken text, polyphones read in context.

Two steps, each measurable on its own:
- `dictionary_readings(text)`: one TONE3 syllable per Han character (neutral tone 5), the reading
  in context. Polyphonic characters are chosen by g2pM, a small BiLSTM trained on the CPP benchmark
  whose weights ship in its wheel; when it is unsure and the character sits in a word that pypinyin's
  phrase dictionary knows, the phrase reading wins; a few news words (FIXED_READINGS) always win.
- `with_tone_sandhi(text, readings)`: what a Mandarin speaker says (and the Baker voice was trained
  on): third-tone sandhi inside prosodic words, and the tone changes of 一 and 不.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .text import HAN, count_han, is_han

if TYPE_CHECKING:
    import numpy as np

# Changes whenever this module does, so cached audio made with other readings is not reused.
PRONUNCIATION_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
# Below this confidence g2pM defers to a dictionary phrase around the character (tuned on CPP dev:
# 0.9 scores 0.9763, 0.99 0.9777, 0.999 0.9785; always deferring 0.9739).
PHRASE_OVERRIDE_BELOW = 0.999
# Characters that keep 一 as yi1 beside it: counting, ordinals and dates (第一, 十一, 初一, 五月一日).
_NUMERALS = set("零〇一二三四五六七八九十百千万亿两")
_YI1_BEFORE = _NUMERALS | set("第初周星礼月")
_YI1_AFTER = _NUMERALS | set("月日号")


# News words whose reading never depends on context, where g2pM (trained on encyclopedia sentences)
# slips with little context around: these always win.
FIXED_READINGS = {
    word: reading.split()
    for word, reading in (
        line.split("\t")
        for line in """\
了解\tliao3 jie3
会计\tkuai4 ji4
银行\tyin2 hang2
行长\thang2 zhang3
行业\thang2 ye4
还款\thuan2 kuan3
还钱\thuan2 qian2
归还\tgui1 huan2
偿还\tchang2 huan2
重庆\tchong2 qing4
重新\tchong2 xin1
重要\tzhong4 yao4
调整\ttiao2 zheng3
调查\tdiao4 cha2
调研\tdiao4 yan2
协调\txie2 tiao2
利率\tli4 lv4
汇率\thui4 lv4
效率\txiao4 lv4
税率\tshui4 lv4
频率\tpin2 lv4
概率\tgai4 lv4
率先\tshuai4 xian1
市长\tshi4 zhang3
省长\tsheng3 zhang3
县长\txian4 zhang3
局长\tju2 zhang3
部长\tbu4 zhang3
校长\txiao4 zhang3
首相\tshou3 xiang4
处理\tchu3 li3
处于\tchu3 yu2
数据\tshu4 ju4
供应\tgong1 ying4
提供\tti2 gong1
给予\tji3 yu3
觉得\tjue2 de5
显得\txian3 de5
使得\tshi3 de5
角色\tjue2 se4
参与\tcan1 yu4
实干\tshi2 gan4
干出\tgan4 chu1
干劲\tgan4 jin4
指挥长\tzhi3 hui1 zhang3
组长\tzu3 zhang3""".splitlines()
    )
}


def dictionary_readings(text: str, rare: bool = False) -> list[str]:
    """One syllable per Han character of `text`, in order, as the dictionary reads it in context.
    With `rare`, the characters outside the common set (CJK extensions: 刘䶮's 䶮) get one too:
    their Unihan reading, or '?' where no dictionary here knows them."""
    common = count_han(text)
    if not common and not (rare and _RARE_HAN_RE.search(text)):
        return []
    phrase = _phrase_readings(text)
    predicted = _polyphone_model().polyphones(text) if common else {}
    readings = []
    slot = {}  # index in text -> index in readings
    for index, char in enumerate(text):
        if rare and _RARE_HAN_RE.fullmatch(char):
            readings.append(rare_reading(char) or "?")
            continue
        if not is_han(char):
            continue
        reading, in_phrase = phrase[index]
        if index in predicted:
            guess, confidence = predicted[index]
            if not (in_phrase and confidence < PHRASE_OVERRIDE_BELOW):
                reading = guess
        slot[index] = len(readings)
        readings.append(reading)
    for run in re.finditer(f"[{HAN}]+", text):  # runs of Han characters, never across a pause
        for length in (2, 3):  # a longer word overrides a shorter one inside it
            for offset in range(len(run.group()) - length + 1):
                fixed = FIXED_READINGS.get(run.group()[offset : offset + length])
                if fixed:
                    first = slot[run.start() + offset]
                    readings[first : first + length] = fixed
    return readings


# Han characters outside the common set the voices know: the CJK extensions and the newest additions.
_RARE_HAN_RE = re.compile("[\u3400-\u4dbf\u9fa6-\u9fff\U00020000-\U0003134f]")


def rare_reading(char: str) -> str:
    """The reading pypinyin's Unihan data gives a rare character ('' when it has none)."""
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")
    return _clean(found[0][0]) if found and found[0] else ""


def said_as_common(text: str) -> str:
    """`text` with each rare character written as a common one read the same way (刘䶮 -> 刘眼), so
    every voice says it; one that no dictionary here can read stays as it is."""
    if not _RARE_HAN_RE.search(text):
        return text

    def common(match: re.Match[str]) -> str:
        reading = rare_reading(match.group())
        try:
            return characters_for([reading]) if reading else match.group()
        except ValueError:
            return match.group()

    return _RARE_HAN_RE.sub(common, text)


def spoken_syllables(text: str) -> list[str]:
    """The syllables the offline voice says for `text` (already normalized): readings plus tone sandhi."""
    return with_tone_sandhi(text, dictionary_readings(text))


def is_polyphone(char: str) -> bool:
    """Whether the dictionary gives `char` more than one reading (the voice picks one from context)."""
    return _polyphone_model().is_polyphone(char)


def with_tone_sandhi(text: str, readings: list[str]) -> list[str]:
    """Apply the tone changes of 一 and 不 at the start of a word, then third-tone sandhi within
    prosodic words (a one-character word leans on its neighbour)."""
    positions = [i for i, char in enumerate(text) if is_han(char)]
    chars = [text[i] for i in positions]
    result = list(readings)
    for start, word, _ in _words(text):
        if start + 1 == len(positions) or positions[start + 1] != positions[start] + 1:
            continue  # a pause or the end follows: no change
        following = _tone(result[start + 1])
        if word[0] == "不" and result[start] == "bu4" and following == "4":
            result[start] = "bu2"
        elif word[0] == "一" and result[start] == "yi1" and not _counts(chars, start):
            result[start] = "yi2" if following in "45" else "yi4"
    for i in range(1, len(chars) - 1):  # 看一看, 试一试: 一 between a verb and itself is neutral
        if chars[i] == "一" and chars[i - 1] == chars[i + 1] not in _NUMERALS and positions[i + 1] - positions[i - 1] == 2:
            result[i] = "yi5"
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


def _words(text: str) -> Iterator[tuple[int, str, int]]:
    """(index among the Han characters, word, index in text) for each word of Han characters."""
    han_index = position = 0
    for word in _segment(text):
        if all(is_han(char) for char in word):
            yield han_index, word, position
        han_index += sum(1 for char in word if is_han(char))
        position += len(word)


def _prosodic_words(text: str, longest: int = 4) -> Iterator[tuple[int, int]]:
    """(start, length) of each prosodic word: jieba's words, one-character words joined to a
    neighbour they touch (never across punctuation)."""
    group: tuple[int, int] | None = None
    group_end = -1  # where the group ends in text
    for start, word, position in _words(text):
        if group and group_end == position and (group[1] == 1 or len(word) == 1) and group[1] + len(word) <= longest:
            group = (group[0], group[1] + len(word))
        else:
            if group:
                yield group
            group = (start, len(word))
        group_end = position + len(word)
    if group:
        yield group


@lru_cache(maxsize=64)
def _segment(text: str) -> tuple[str, ...]:
    """jieba's words; cached, since the readings and both sandhi passes segment the same text."""
    import jieba

    jieba.setLogLevel(60)
    return tuple(jieba.lcut(text, HMM=False))


def _phrase_readings(text: str) -> dict[int, tuple[str, bool]]:
    """pypinyin's reading of each Han character at its index, and whether a known phrase gave it."""
    from pypinyin import Style
    from pypinyin.constants import PHRASES_DICT

    parser = _pypinyin()
    readings: dict[int, tuple[str, bool]] = {}
    position = 0
    for word in _segment(text):
        syllables = parser(word, style=Style.TONE3, errors=lambda chars: [[""] for _ in chars], heteronym=False)
        covered = _covered_by_phrases(word, PHRASES_DICT)
        for offset, char in enumerate(word):
            if is_han(char):
                readings[position + offset] = (_clean(syllables[offset][0]) or "", offset in covered)
        position += len(word)
    return readings


def _covered_by_phrases(word: str, phrases: dict[str, Any], longest: int = 6) -> set[int]:
    """Offsets in `word` that a dictionary phrase of two or more characters covers (longest match first)."""
    covered: set[int] = set()
    start = 0
    while start < len(word) - 1:
        end = next((end for end in range(min(len(word), start + longest), start + 1, -1) if word[start:end] in phrases), start + 1)
        if end - start > 1:
            covered.update(range(start, end))
        start = end
    return covered


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

        model.fc_layer = recording_fc

    def _last_logits(self) -> np.ndarray:
        assert self._logits is not None, "g2pM ran without its output layer"
        return self._logits

    @property
    def dictionary(self) -> dict[str, list[str]]:
        """Each character's readings as g2pM knows them (CC-CEDICT)."""
        return self._model.cedict

    def is_polyphone(self, char: str) -> bool:
        return len(self.dictionary.get(char, ())) > 1

    def polyphones(self, text: str) -> dict[int, tuple[str, float]]:
        """{index in text: (reading, confidence)} for each polyphonic character."""
        indices = [i for i, char in enumerate(text) if self.is_polyphone(char)]
        if not indices:
            return {}
        import numpy as np

        self._logits = None
        readings = self._model(text, char_split=True, tone=True)
        logits = np.atleast_2d(self._last_logits())
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        confidence = (shifted.max(axis=1) / shifted.sum(axis=1)).tolist()
        return {i: (_clean(readings[i]), confidence[n]) for n, i in enumerate(indices)}


@lru_cache(maxsize=1)
def _polyphone_model() -> _PolyphoneModel:
    return _PolyphoneModel()


SYLLABLE_TABLE = Path(__file__).with_name("syllables.tsv")


@lru_cache(maxsize=1)
def _unambiguous_characters() -> dict[str, str]:
    """TONE3 syllable -> a common character read only so, from the table `find_unambiguous_characters`
    made (reading the dictionaries takes a second; the table, a millisecond)."""
    rows = SYLLABLE_TABLE.read_text(encoding="utf-8").splitlines()
    return dict(row.split("\t") for row in rows if row and not row.startswith("#"))


def find_unambiguous_characters() -> dict[str, str]:
    """TONE3 syllable -> the most frequent character (by jieba's dictionary) that both g2pM and
    pypinyin read only so. `python -m briefing.pinyin` writes it to syllables.tsv."""
    import jieba
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    jieba.setLogLevel(60)
    jieba.initialize()
    frequency = jieba.dt.FREQ
    best: dict[str, tuple[int, str]] = {}
    for char, readings in _polyphone_model().dictionary.items():
        if len(readings) != 1 or not is_han(char) or ord(char) not in pinyin_dict:
            continue
        syllable = _clean(readings[0])
        if _clean(to_tone3(pinyin_dict[ord(char)].split(",")[0], neutral_tone_with_five=True)) != syllable:
            continue
        count = frequency.get(char, 0)
        if syllable not in best or count > best[syllable][0]:
            best[syllable] = (count, char)
    return {syllable: char for syllable, (_, char) in best.items()}


if __name__ == "__main__":
    table = sorted(find_unambiguous_characters().items())
    header = "# TONE3 syllable, then a common character g2pM and pypinyin both read only so (python -m briefing.pinyin)\n"
    SYLLABLE_TABLE.write_text(header + "".join(f"{syllable}\t{char}\n" for syllable, char in table), encoding="utf-8")
    print(f"{SYLLABLE_TABLE}: {len(table)} syllables")
