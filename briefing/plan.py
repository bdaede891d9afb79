"""Planning: what the episode says. Which articles are told (Chinese enough, within `max_stories`
and `max_minutes`), each one's summary (extractive, or the LLM's with the extractive one as its
fallback), and the script built from them; everything left out is said in a warning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .config import Config, Summarizer
from .errors import InputError
from .ingest import Article
from .normalize import Lexicon
from .script import Script, build_script
from .summarize import Summary, SummaryTarget, summarize
from .text import has_cjk, split_sentences

# What each story adds besides its summary (transition, title, pauses, the chime), in seconds.
STORY_FRAME_SECONDS = 5.0
# A story is read only when at least this share of its letters and digits are Chinese: the voice
# would spell the rest letter by letter.
MIN_CHINESE_LETTERS = 0.5
# A headline longer than this is cut at its last clause mark within it: it is said twice (in the
# rundown and before its story), and a page's mistake must not become minutes of the episode.
MAX_TITLE_CHARS = 60


@dataclass(frozen=True)
class PlannedScript:
    script: Script
    warnings: tuple[str, ...]  # what was left out, and why
    articles: tuple[Article, ...] = ()  # the articles the script tells, in its order


def load_lexicon(config: Config) -> Lexicon | None:
    path = config.paths.lexicon_path
    return Lexicon.load(path) if path.is_file() else None


def plan_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> PlannedScript:
    """The script for `articles`, keeping to `max_stories` and `max_minutes` and leaving out stories
    that are mostly not Chinese; each thing left out is said in a warning."""
    target = SummaryTarget(config.wording.story_seconds, config.wording.chars_per_second)
    warnings: list[str] = []
    kept, summaries = _stories_that_fit(_candidates(articles, config, warnings), target, config, warnings)
    if config.stories.summarizer == Summarizer.LLM:
        summaries, fallbacks = _llm_summaries(kept, summaries, target, config)
        if fallbacks:
            warnings.append(f"{len(fallbacks)} stories use the extractive summary, the LLM's could not be used: {'; '.join(fallbacks)}")
    script = build_script(summaries, date, config, load_lexicon(config), kickers=[a.kicker for a in kept], sources=[a.source for a in kept])
    return PlannedScript(script, tuple(warnings), tuple(kept))


def make_script(articles: tuple[Article, ...], config: Config, date: dt.date) -> Script:
    return plan_script(articles, config, date).script


def _candidates(articles: tuple[Article, ...], config: Config, warnings: list[str]) -> list[Article]:
    """The articles in Chinese, at most `max_stories` of them."""
    chinese = [_chinese_share(a.title + a.body) >= MIN_CHINESE_LETTERS for a in articles]
    if not all(chinese):
        foreign = [a for a, ok in zip(articles, chinese) if not ok]
        warnings.append(f"left out {len(foreign)} stories that are mostly not Chinese: {_titles(foreign)}")
    candidates = [_short_title(a, warnings) for a, ok in zip(articles, chinese) if ok]
    most = config.wording.max_stories
    if most and len(candidates) > most:
        warnings.append(f"left out {len(candidates) - most} stories over max_stories = {most}: {_titles(candidates[most:])}")
        candidates = candidates[:most]
    return candidates


def _stories_that_fit(
    candidates: list[Article], target: SummaryTarget, config: Config, warnings: list[str]
) -> tuple[list[Article], list[Summary]]:
    """The candidates, summarized, up to the first that would take the episode over `max_minutes`."""
    wording = config.wording
    kept: list[Article] = []
    summaries: list[Summary] = []
    seconds = 0.0
    for n, article in enumerate(candidates):
        summary = summarize(article, target)
        seconds += len(summary.text) / wording.chars_per_second + STORY_FRAME_SECONDS
        if wording.max_minutes and kept and seconds > wording.max_minutes * 60:
            warnings.append(
                f"left out {len(candidates) - n} stories to keep the episode under max_minutes = {wording.max_minutes:g}: "
                f"{_titles(candidates[n:])}"
            )
            break
        kept.append(article)
        summaries.append(summary)
    if not kept:
        raise InputError("no story left to read: " + "; ".join(warnings))
    return kept, summaries


def _llm_summaries(
    articles: list[Article], extractive: list[Summary], target: SummaryTarget, config: Config
) -> tuple[list[Summary], list[str]]:
    """The LLM's summary for each article, or the extractive one with the reason (see `llm`)."""
    from .llm import LlmUnavailable, LlmUnusable, llm_summary

    summaries, fallbacks = [], []
    down: LlmUnavailable | None = None  # once the endpoint fails, the other stories do not wait on it
    for article, fallback in zip(articles, extractive):
        try:
            text = llm_summary(article, target.chars, config.llm, config.paths.cache_path, down)
            summaries.append(Summary(article.title, tuple(split_sentences(text)), article.byline, by=f"llm:{config.llm.model}"))
        except LlmUnusable as exc:
            down = exc if isinstance(exc, LlmUnavailable) else down
            fallbacks.append(f"《{article.title}》 ({exc})")
            summaries.append(replace(fallback, by=f"extractive (llm: {exc})"))
    return summaries, fallbacks


def _short_title(article: Article, warnings: list[str]) -> Article:
    if len(article.headline) <= MAX_TITLE_CHARS:
        return article
    head = article.headline[:MAX_TITLE_CHARS]
    cut = max(head.rfind(mark) for mark in "，、；：。！？ ,;:")
    title = head[:cut] if cut >= MAX_TITLE_CHARS // 3 else head
    warnings.append(f"a headline of {len(article.headline)} characters is said as its first {len(title)}: 《{title}…》")
    return replace(article, headline=title.rstrip("，、；：。 ,;:"))


def _chinese_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalnum()]
    return sum(1 for ch in letters if has_cjk(ch)) / len(letters) if letters else 0.0


def _titles(articles: list[Article], shown: int = 5) -> str:
    titles = "；".join(f"《{a.title}》" for a in articles[:shown])
    return titles + (f" and {len(articles) - shown} more" if len(articles) > shown else "")
