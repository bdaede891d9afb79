"""Numbers read right: the share of `data/number_pairs.tsv` (written text, what a newsreader says)
that `to_spoken` gets exactly, beside wetext alone (the normalizer briefing builds on).

The pairs were written on 2026-11-30 in three rounds, each before the rules for what it missed:
- the first 50: 40 right (ordinals with 两, birth cohorts, temperatures below zero, time ranges,
  products, a unit per unit and service numbers were not);
- the next 40, written after those rules: 36 right (a day of the month 2日 said 两日, a count of
  two said 二, `约1/4` -> 四分之约一, `2单元`);
- the next 30, after those: 30 right;
- the last 40, in other fields (sport, markets, law, traffic, science): 36 right (hundredths of a
  second `9秒83`, `2平方公里` said 二, `二〇二四年` losing its 〇, `第1、2名` said 第一、两名).
All 160 are development pairs now, not held-out ones. Run with `make bench` or
`.venv/bin/python -m benchmarks.number_pairs [--show]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

PAIRS = Path(__file__).parent / "data" / "number_pairs.tsv"


def main() -> None:
    from briefing.normalize import _wetext_normalizer, to_spoken

    pairs = [line.split("\t") for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    wetext = _wetext_normalizer()
    ours = sum(to_spoken(written) == said for written, said in pairs)
    alone = sum(wetext.normalize(written) == said for written, said in pairs)
    if "--show" in sys.argv:
        for written, said in pairs:
            if to_spoken(written) != said:
                print(f"miss: {written} -> {to_spoken(written)} (want {said})")
    print(f"number pairs: briefing {ours}/{len(pairs)} = {ours / len(pairs):.3f}; wetext alone {alone / len(pairs):.3f}")


if __name__ == "__main__":
    main()
