"""Polyphone accuracy on the CPP benchmark's dev split (../shared/data/cpp-polyphones/).

Prints the share of sentences whose marked polyphonic character gets the labelled reading, for
pypinyin's defaults (the offline voice's old frontend) and for briefing's pinyin stage
(`briefing pinyin --raw`), with the time each takes.

    .venv/bin/python -m benchmarks.polyphones [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from briefing import pinyin

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cpp-polyphones"
MARK = "▁"


def load(data: Path, limit: int) -> list[tuple[str, int, str]]:
    """(sentence, index of the marked character, its reading) for each dev sentence."""
    sentences = (data / "dev.sent").read_text(encoding="utf-8").splitlines()
    labels = (data / "dev.lb").read_text(encoding="utf-8").split()
    items = []
    for sentence, label in zip(sentences, labels):
        index = sentence.index(MARK)
        items.append((sentence.replace(MARK, ""), index, label.replace("u:", "v")))
    return items[:limit] if limit else items


def han_position(text: str, index: int) -> int:
    return sum(1 for char in text[:index] if pinyin.is_han(char))


def pypinyin_defaults(text: str) -> list[str]:
    """What the offline voice's old frontend said: pypinyin over the text, phrases and all."""
    from pypinyin import Style

    only_han = "".join(char if pinyin.is_han(char) else "，" for char in text)
    return [pinyin._clean(s[0]) for s in pinyin._pypinyin()(only_han, style=Style.TONE3, errors="ignore")]


def score(name: str, method, items: list[tuple[str, int, str]]) -> tuple[float, Counter[str]]:
    started = time.perf_counter()
    correct, wrong = 0, Counter()
    for text, index, label in items:
        readings = method(text)
        if readings[han_position(text, index)] == label:
            correct += 1
        else:
            wrong[text[index]] += 1
    elapsed = time.perf_counter() - started
    accuracy = correct / len(items)
    print(f"{name:<28} accuracy {accuracy:.4f}  ({correct}/{len(items)}, {elapsed / len(items) * 1000:.2f} ms a sentence)")
    return accuracy, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with dev.sent and dev.lb")
    parser.add_argument("--limit", type=int, default=0, help="only the first N sentences")
    args = parser.parse_args()
    if not (args.data / "dev.sent").exists():
        sys.exit(f"Error: {args.data}: no dev.sent here; pass --data with the CPP dev split")
    items = load(args.data, args.limit)
    print(f"CPP dev: {len(items)} sentences")
    score("pypinyin defaults", pypinyin_defaults, items)
    accuracy, wrong = score("briefing pinyin --raw", pinyin.dictionary_readings, items)
    print(f"target >= 0.97 (aim 0.99): {'met' if accuracy >= 0.97 else 'NOT met'}")
    print("most missed:", " ".join(f"{char}{count}" for char, count in wrong.most_common(15)))


if __name__ == "__main__":
    main()
