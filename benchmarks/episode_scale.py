"""How time and memory grow with the episode: `briefing daily` over 1, 5, 14 and 20 copies of the
example page (5 stories each), every run in a fresh process so its peak memory is its own.

The voice is the test-only tone engine at a newsreader's pace (0.2 s a character), so the figures
are the pipeline's own costs (script, mixing, mastering, encoding, publishing), not the engine's.
Target: a 60-minute episode assembles with a peak RSS under 1 GB.

Run with `make bench` or `.venv/bin/python -m benchmarks.episode_scale [PAGES ...]`.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "examples" / "newspaper-page.txt"
TARGET_MB = 1024
# The tone engine makes 0.1 s a character at the preset's own rate: at -50%, a newsreader's 0.2 s.
NEWSREADER_TONE = 'engine = "tone"\nvoice = "440"\nrate = "-50%"\n'


def one_run(pages: int) -> dict[str, float]:
    """In this process: make the episode from `pages` copies of the page; its figures as a dict."""
    from briefing import pipeline
    from briefing.config import Config
    from tests.fakes import tone_engine  # noqa: F401  (registers the engine)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "pages"
        folder.mkdir()
        text = PAGE.read_text(encoding="utf-8")
        for n in range(pages):
            (folder / f"page-{n:02d}.txt").write_text(text.replace("# ", f"# 第{n + 1}版 "), encoding="utf-8")
        (root / "voices").mkdir()
        (root / "voices" / "tone.toml").write_text(NEWSREADER_TONE, encoding="utf-8")
        config = Config.from_dict(
            {"voice": "tone", "voices_dir": str(root / "voices"), "cache_dir": str(root / "cache"), "workers": 1, "max_minutes": 0}
        )
        started = time.perf_counter()
        result = pipeline.daily([folder], config, dt.date(2026, 11, 26), root / "out")
        seconds = time.perf_counter() - started
        assert result.episode is not None
        return {
            "pages": pages,
            "stories": result.episode.stories,
            "minutes": result.episode.duration / 60,
            "seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def main(page_counts: list[int]) -> None:
    rows = []
    for pages in page_counts:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.episode_scale", "--one", str(pages)], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        rows.append(json.loads(done.splitlines()[-1]))
    print("pages  stories  audio      time    time per audio minute   peak memory")
    for row in rows:
        print(
            f"{row['pages']:5.0f}  {row['stories']:7.0f}  {row['minutes']:5.1f} min  {row['seconds']:5.1f} s"
            f"  {row['seconds'] / row['minutes']:6.2f} s/min             {row['peak_mb']:5.0f} MB"
        )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        per_story = (last["peak_mb"] - first["peak_mb"]) / (last["stories"] - first["stories"])
        print(f"memory grows {per_story:.1f} MB per story beyond the first page's {first['peak_mb']:.0f} MB")
    long = [row for row in rows if row["minutes"] >= 55]
    for row in long:
        verdict = "holds" if row["peak_mb"] < TARGET_MB else "MISSED"
        print(f"{row['minutes']:.0f}-minute episode: peak {row['peak_mb']:.0f} MB (target < {TARGET_MB} MB: {verdict})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one_run(int(sys.argv[2]))))
    else:
        main([int(n) for n in sys.argv[1:]] or [1, 5, 14, 20])
