"""Speed of the whole pipeline on the example page: cold run, warm rerun, and the engine alone.

Prints ratios, not absolute targets: pipeline time / audio duration (real-time factor) and
warm rerun / cold run. Run with `make bench` or `.venv/bin/python benchmarks/episode_speed.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "examples" / "newspaper-page.txt"


def timed(cache: Path, *arguments: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *arguments],
        check=True,
        capture_output=True,
        env={**os.environ, "BRIEFING_CACHE_DIR": str(cache)},
    )
    return time.perf_counter() - started


def engine_rtf(threads: int) -> float:
    import datetime as dt

    from briefing.config import Config
    from briefing.engines.offline import OfflineEngine
    from briefing.pipeline import ingest_pages, make_script
    from briefing.voices import VoicePreset

    script = make_script(ingest_pages([PAGE]).articles, Config(), dt.date(2026, 11, 26))
    engine = OfflineEngine(threads=threads)
    voice = VoicePreset(name="offline", engine="offline")
    engine.synthesize("预热。", voice)
    spent = audio = 0.0
    for segment in script.segments[:20]:
        started = time.perf_counter()
        audio += engine.synthesize(segment.spoken, voice).duration
        spent += time.perf_counter() - started
    return spent / audio


def main() -> None:
    from mutagen.mp3 import MP3

    with tempfile.TemporaryDirectory() as tmp:
        out, cache = Path(tmp) / "out", Path(tmp) / "cache"
        daily = ("daily", str(PAGE), "--out", str(out), "--date", "2026-11-26")
        cold = timed(cache, *daily)
        warm = timed(cache, *daily)
        remake = timed(cache, "episode", str(out / "2026-11-26" / "script.json"), "--out", str(out))
        duration = MP3(out / "2026-11-26" / "episode.mp3").info.length
    print(f"cores                     {os.cpu_count()}")
    print(f"audio duration            {duration:8.1f} s")
    print(f"cold run (wall)           {cold:8.1f} s   real-time factor {cold / duration:.3f}  (target <= 0.05)")
    print(f"warm rerun (wall)         {warm:8.1f} s   warm / cold      {warm / cold:.3f}  (target <= 0.10)")
    print(f"remake from cached audio  {remake:8.1f} s   remake / cold    {remake / cold:.3f}  (mix, master, encode again)")
    for threads in (1, 2):
        print(f"engine alone, {threads} thread(s)  real-time factor {engine_rtf(threads):.3f}  (first 20 segments)")


if __name__ == "__main__":
    main()
