"""What the online engine path costs on this machine, without the real service.

Runs `briefing daily --engine edge` on the example page against the tests' local edge-tts server
(tests/fakes/edge_service.py), cold and warm, and prints pipeline time / audio duration. The local server
makes its MP3 with ffmpeg on the same cores, so the figure is an upper bound on briefing's own
overhead (client, MP3 decoding, validation, assembly); the real service's speed is not measured here.
Run: .venv/bin/python -m benchmarks.edge_overhead
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.edge_service import LocalEdgeService

ROOT = Path(__file__).resolve().parent.parent


def run(out: Path, cache: Path, endpoint: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "daily",
            str(ROOT / "examples" / "newspaper-page.txt"),
            "--out",
            str(out),
            "--date",
            "2026-11-26",
            "--engine",
            "edge",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "BRIEFING_CACHE_DIR": str(cache), "BRIEFING_EDGE_ENDPOINT": endpoint},
    )
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalEdgeService() as service:
        out, cache = Path(tmp) / "out", Path(tmp) / "cache"
        cold = run(out, cache, service.url)
        requests = service.connections
        (out / "2026-11-26" / "episode.json").unlink()  # force a remake that finds every segment cached
        warm = run(out, cache, service.url)
        manifest = json.loads((out / "2026-11-26" / "episode.json").read_text(encoding="utf-8"))
    duration = manifest["duration"]
    print(f"audio duration            {duration:7.1f} s   ({manifest['segments']} segments, {requests} requests, 4 at a time)")
    print(f"cold run (wall)           {cold:7.1f} s   real-time factor {cold / duration:.3f}  (local server included)")
    print(f"remake from cache (wall)  {warm:7.1f} s   remake / cold    {warm / cold:.3f}  (no request sent)")


if __name__ == "__main__":
    main()
