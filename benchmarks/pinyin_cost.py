"""What the pinyin stage costs the offline engine: the example page's segments synthesized on one
thread, against the stage alone in a fresh process (imports and model loads included), in one run.

    .venv/bin/python benchmarks/pinyin_cost.py      # target: the stage adds at most 5%
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import datetime as dt

    from briefing.config import Config
    from briefing.engines.offline import OfflineEngine
    from briefing.pipeline import ingest_pages, make_script
    from briefing.voices import VoicePreset

    articles = ingest_pages([ROOT / "examples" / "newspaper-page.txt"]).articles
    segments = [s.spoken for s in make_script(articles, Config(), dt.date(2026, 11, 27)).segments]
    # In a fresh process, as in a new synthesis worker: imports and the loads of g2pM and jieba included.
    probe = ("import sys, time; t = time.perf_counter(); from briefing.pinyin import spoken_syllables; "
             "[spoken_syllables(line) for line in sys.stdin.read().splitlines()]; print(time.perf_counter() - t)")
    ran = subprocess.run([sys.executable, "-c", probe], input="\n".join(segments), capture_output=True, text=True, cwd=ROOT, check=True)
    stage = float(ran.stdout)

    engine = OfflineEngine(threads=1)
    voice = VoicePreset(name="offline", engine="offline")
    started = time.perf_counter()
    audio = sum(engine.synthesize(spoken, voice).duration for spoken in segments)
    synthesis = time.perf_counter() - started
    print(f"{len(segments)} segments, {audio:.0f} s of audio; engine with the stage {synthesis:.1f} s")
    workers = os.cpu_count() or 1  # each synthesis worker loads the stage once
    print(f"pinyin stage in a fresh process {stage:.2f} s; x{workers} workers = {stage * workers / synthesis:.1%} "
          f"of one-thread synthesis (target <= 5%)")


if __name__ == "__main__":
    main()
