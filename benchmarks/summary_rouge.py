"""ROUGE-L on characters: the summarizer against a same-length lead baseline.

References are human-written: each headline (with its kicker) as the paper's editors printed
it, for the bundled example page and for the real articles in data/news_references.jsonl
(their sources are noted there). Run: `.venv/bin/python -m benchmarks.summary_rouge`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from briefing.ingest import Article, read_articles
from briefing.summarize import SummaryTarget, lead, summarize

ROOT = Path(__file__).resolve().parent.parent


def lcs(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if ch == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> tuple[float, float, float]:
    candidate, reference = _chars(candidate), _chars(reference)
    common = lcs(candidate, reference)
    if not common:
        return 0.0, 0.0, 0.0
    recall, precision = common / len(reference), common / len(candidate)
    return recall, precision, 2 * recall * precision / (recall + precision)


def _chars(text: str) -> str:
    return re.sub(r"[^\w]", "", text)


def cases() -> list[tuple[str, Article, str]]:
    found = [("example page", a, f"{a.kicker}{a.headline}") for a in read_articles(ROOT / "examples" / "newspaper-page.txt")]
    for line in (ROOT / "benchmarks" / "data" / "news_references.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found.append((row["source"].split()[0], Article(headline="", paragraphs=(row["text"],)), row["reference"]))
    # The summarizer never sees the headline it is scored against.
    return found


def main() -> None:
    for seconds in (20.0, 45.0):
        target = SummaryTarget(seconds=seconds)
        totals = {name: [0.0, 0.0, 0.0] for name in ("lead-chars", "lead-sents", "summarize")}
        all_cases = cases()
        for _, article, reference in all_cases:
            summary = summarize(article, target).text
            candidates = {
                "lead-chars": article.body[: len(summary)],  # the first characters, exactly as long
                "lead-sents": lead(article, target).text,  # whole opening sentences within the budget
                "summarize": summary,
            }
            for name, text in candidates.items():
                for k, value in enumerate(rouge_l(text, reference)):
                    totals[name][k] += value / len(all_cases)
        print(f"target {seconds:.0f} s ({target.chars} characters), {len(all_cases)} articles, ROUGE-L on characters vs headlines")
        print(f"  {'method':<11} {'recall':>7} {'precision':>9} {'F1':>7}")
        for name, (recall, precision, f1) in totals.items():
            print(f"  {name:<11} {recall:7.3f} {precision:9.3f} {f1:7.3f}")


if __name__ == "__main__":
    main()
