"""Summarize: an article into the few sentences a listener needs, sized in seconds of speech."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .ingest import Article
from .sections import CHARS_PER_SECOND, STORY_SECONDS
from .text import split_clauses, split_sentences

# Sentences that carry no news for a listener.
_ATTENDANCE_RE = re.compile(
    r"(参加|出席|陪同|列席)(了)?(活动|会议|调研|座谈|仪式|考察|检查)?[。！]?$|^(会议|会上)?还(研究|讨论|审议)了其他"
)
_STOP_WORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 把 将 要 也 都 而 并 从 向 以 于 之 其 这 那 有 就 被 让 给 由 或 还 又 中 上 下 "
    "我们 他们 一个 一些 进行 工作 相关 各项 方面 重要 持续 不断 进一步 加强 推进 全面 深入 切实 坚持 积极 继续 "
    "会议 指出 强调 表示 认为 要求 提出 开展 围绕 通过 以及 同时 当前 今年 目前".split()
)
LEAD_SHARE = 0.9
_LEAD_BIAS = 0.35  # share of TextRank's teleport mass given to the lead, decaying by position
_MMR_LAMBDA = 0.7
_NEAR_DUPLICATE = 0.6


@dataclass(frozen=True)
class SummaryTarget:
    """How long a story may run when read aloud."""

    seconds: float = STORY_SECONDS
    chars_per_second: float = CHARS_PER_SECOND

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.chars_per_second <= 0:
            raise ValueError(f"Invalid summary target {self.seconds}s at {self.chars_per_second} chars/s: both must be positive")

    @property
    def chars(self) -> int:
        return int(self.seconds * self.chars_per_second)


@dataclass(frozen=True)
class Summary:
    """The chosen sentences of one article, in their original order."""

    title: str
    sentences: tuple[str, ...]
    byline: str = ""
    by: str = "extractive"  # who wrote it: extractive, or llm:<model>; a fallback says why

    @property
    def text(self) -> str:
        return "".join(self.sentences)


def summarize(article: Article, target: SummaryTarget = SummaryTarget()) -> Summary:
    """Pick lead-biased TextRank sentences without near-duplicates until the target length."""
    sentences = [s for paragraph in article.story_paragraphs for s in split_sentences(paragraph)]
    if sum(len(s) for s in sentences) <= target.chars:
        chosen = list(range(len(sentences)))
    else:
        chosen = _keep_what_listeners_can_follow(sentences, _select(sentences, target.chars), target.chars)
    return Summary(title=article.title, sentences=_within(tuple(sentences[i] for i in chosen), target.chars), byline=article.byline)


# A summary may run this much over its target before it is cut; a cut clause is at least this long.
_OVERRUN = 1.25
_MIN_CUT = 12


def _within(sentences: tuple[str, ...], budget: int) -> tuple[str, ...]:
    """`sentences` cut to the budget whatever the input: at a clause, else at characters. Sentence
    choice keeps to the budget; only text with few or no full stops (a long unpunctuated story,
    OCR that lost its marks) reaches a cut here."""
    if sum(map(len, sentences)) <= budget * _OVERRUN:
        return sentences
    kept: list[str] = []
    room = budget
    for sentence in sentences:
        if len(sentence) <= room:
            kept.append(sentence)
            room -= len(sentence)
            continue
        clauses = split_clauses(sentence)
        cut = ""
        for clause in clauses:
            if len(cut) + len(clause) > room:
                break
            cut += clause
        if len(cut) < _MIN_CUT and not kept:
            cut = sentence[:room]  # one endless clause: cut between characters
        if len(cut) >= _MIN_CUT or not kept:
            kept.append(cut.rstrip("，、；：,;: ") + "。")
        break
    return tuple(kept)


# A sentence that opens with one of these leans on the sentence before it.
_LEANS_ON_PREVIOUS_RE = re.compile(
    r"^(?:它|他|她|其|该|此|这|对此|为此|此外|另外|同时|与此同时|但|但是|然而|而|因此|所以|其中|随后|此前|"
    r"上述|前述|以上|前者|后者|二者|两者|双方|不过|可是|不仅如此|除此之外|另一方面|相比之下|据此|由此|届时|当时|之后|"
    r"[二三四五六七八九十]是|[二三四五六七八九十]要|第[二三四五六七八九十]|其次|再次|最后|[（(]?[二三四五六七八九十][）)、])"
)
# A list's steps: '一要…。…二要…。…三要…。', '一是…', '第一…', '（一）…', '一、…', '首先…其次…最后…'.
# The first step may follow an announcement in its sentence ('会议要求：一要…'); the others open theirs.
_NUMBERS = "一二三四五六七八九十"
_STEP = rf"(?:[（(](?P<paren>[{_NUMBERS}])[）)]|第(?P<ordinal>[{_NUMBERS}])|(?P<n>[{_NUMBERS}])(?P<kind>是|要|、)|(?P<order>首先|其次|再次|最后))"
_FIRST_STEP_RE = re.compile(rf"(?:^|[：:，,]){_STEP}")
_NEXT_STEP_RE = re.compile(rf"^{_STEP}")
_ORDER = {"首先": 1, "其次": 2, "再次": 3, "最后": 0}  # 最后 closes a list whatever its number
_STEP_GAP = 4  # explanations between two steps: more than this, and the list has ended


def _step(match: re.Match[str] | None) -> tuple[str, int] | None:
    """(the list's kind, the step's number) of a step marker; 0 for 最后."""
    if match is None:
        return None
    if match["order"]:
        return "order", _ORDER[match["order"]]
    kind = "paren" if match["paren"] else "ordinal" if match["ordinal"] else match["kind"]
    return kind, _NUMBERS.index(match["paren"] or match["ordinal"] or match["n"]) + 1


def _list_steps(sentences: list[str], start: int) -> list[int]:
    """The sentences that open the steps of the list whose first step is in sentence `start`: a
    step is told with its sibling steps (their lead sentences at least), even with explanations between them."""
    first = _step(_FIRST_STEP_RE.search(sentences[start]))
    if first is None or first[1] != 1:
        return []
    steps, expected = [start], 2
    for j in range(start + 1, len(sentences)):
        if j - steps[-1] > _STEP_GAP:
            break
        step = _step(_NEXT_STEP_RE.match(sentences[j]))
        if step is not None and step[0] == first[0] and step[1] in (expected, 0):
            steps.append(j)
            expected += 1
            if step[1] == 0:
                break
    return steps if len(steps) > 1 else []


def _keep_what_listeners_can_follow(sentences: list[str], chosen: list[int], budget: int) -> list[int]:
    """A list is told whole (its steps' lead sentences) or not at all, and a sentence that leans on
    the one before it comes with it."""
    kept = set(chosen)
    listed: set[int] = set()  # steps told with their list: they lean on it, not on the sentence before
    for start in sorted(kept):
        steps = set(_list_steps(sentences, start))
        if not steps or start not in kept:
            continue
        if sum(len(sentences[i]) for i in kept | steps) <= budget:
            kept |= steps
            listed |= steps
        else:
            kept -= steps
    for i in sorted(kept):  # in order, so a chain of leaning sentences falls together
        if i and i - 1 not in kept and i not in listed and _LEANS_ON_PREVIOUS_RE.match(sentences[i]):
            kept.discard(i)
    kept = _with_what_they_name(sentences, kept, budget)
    return sorted(kept) or [0]  # everything chosen leaned on what was left out: the lede stands on its own


# A numbered set in quotes (“三大法宝”, “两个维护”, “四个意识”) names what an earlier sentence introduced.
_NUMBERED_TERM_RE = re.compile(r"[“\"]([^”\"]{0,8}[一二三四五六七八九十两][大个项条种类点][^”\"]{0,8})[”\"]")


def _with_what_they_name(sentences: list[str], kept: set[int], budget: int) -> set[int]:
    """A kept sentence that uses a numbered set an earlier sentence introduced comes with that
    sentence (when it fits) or not at all: '学习“三大法宝”' alone leaves the listener asking which three."""
    for i in sorted(kept):
        for term in _NUMBERED_TERM_RE.findall(sentences[i]):
            first = next((j for j in range(i) if term in sentences[j]), None)
            if first is None or first in kept:
                continue
            if sum(len(sentences[j]) for j in kept | {first}) <= budget:
                kept = kept | {first}
            else:
                kept = kept - {i}
                break
    return kept


def lead(article: Article, target: SummaryTarget = SummaryTarget()) -> Summary:
    """The baseline: the first sentences up to the same length."""
    sentences = [s for paragraph in article.story_paragraphs for s in split_sentences(paragraph)]
    kept: list[str] = []
    for sentence in sentences:
        if kept and sum(map(len, kept)) + len(sentence) > target.chars:
            break
        kept.append(sentence)
    return Summary(title=article.title, sentences=tuple(kept), byline=article.byline)


def _select(sentences: list[str], budget: int) -> list[int]:
    words = [_content_words(s) for s in sentences]
    scores = _textrank(words)
    no_news = {i for i, s in enumerate(sentences) if i and (_ATTENDANCE_RE.search(s) or _is_slogan(s))}
    # The lede and what follows it carry the news (inverted pyramid): keep the opening
    # sentences up to LEAD_SHARE of the budget, then let TextRank pick the rest.
    chosen: list[int] = []
    used = 0
    for i, sentence in enumerate(sentences):
        if i in no_news or used + len(sentence) > budget * LEAD_SHARE:
            break
        if _repeats(i, chosen, words):
            continue
        chosen.append(i)
        used += len(sentence)
    candidates = set(range(len(sentences))) - set(chosen) - no_news
    while candidates:

        def mmr(i: int) -> float:
            redundancy = max((_overlap(words[i], words[j]) for j in chosen), default=0.0)
            return _MMR_LAMBDA * scores[i] - (1 - _MMR_LAMBDA) * redundancy

        best = max(candidates, key=mmr)
        candidates.discard(best)
        if _repeats(best, chosen, words):
            continue
        if chosen and used + len(sentences[best]) > budget:
            continue
        chosen.append(best)
        used += len(sentences[best])
    return sorted(chosen)


def _repeats(candidate: int, chosen: list[int], words: list[set[str]]) -> bool:
    """True when the candidate sentence says mostly what a chosen one already says."""
    return any(_overlap(words[candidate], words[j]) > _NEAR_DUPLICATE for j in chosen)


def _textrank(words: list[set[str]], damping: float = 0.85, iterations: int = 50) -> list[float]:
    n = len(words)
    weights = [[_similarity(words[i], words[j]) if i != j else 0.0 for j in range(n)] for i in range(n)]
    out_sums = [sum(row) or 1.0 for row in weights]
    lead_prior = [1.0 / (i + 1) for i in range(n)]
    prior_total = sum(lead_prior)
    teleport = [(1 - _LEAD_BIAS) / n + _LEAD_BIAS * p / prior_total for p in lead_prior]
    scores = [1.0 / n] * n
    for _ in range(iterations):
        scores = [(1 - damping) * teleport[i] + damping * sum(weights[j][i] / out_sums[j] * scores[j] for j in range(n)) for i in range(n)]
    top = max(scores)
    return [s / top for s in scores]


def _similarity(a: set[str], b: set[str]) -> float:
    if len(a) < 2 or len(b) < 2:
        return 0.0
    return len(a & b) / (math.log(len(a)) + math.log(len(b)))


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _is_slogan(sentence: str) -> bool:
    """Short rallying lines ('斗志要再激扬。') and chains of four-character phrases."""
    body = sentence.rstrip("。！”")
    if len(body) <= 8 and not re.search(r"\d", body):
        return True
    parts = re.split(r"[，、；]", body)
    return len(parts) >= 4 and all(len(part.strip("“”")) <= 5 for part in parts)


@lru_cache(maxsize=4096)
def _content_words_cached(sentence: str) -> frozenset[str]:
    import jieba

    jieba.setLogLevel(60)
    return frozenset(word for word in jieba.lcut(sentence) if len(word) > 1 and word not in _STOP_WORDS and re.search(r"\w", word))


def _content_words(sentence: str) -> set[str]:
    return set(_content_words_cached(sentence))
