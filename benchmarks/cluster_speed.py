"""Synthesis on this machine's process pool against a Dask cluster, with the real offline voice.

- `briefing daily` over 1, 5 and 20 copies of the example page (a fresh segment cache each run),
  once on the local pool and once on a `distributed.LocalCluster` of as many single-thread worker
  processes as there are cores, started here: audio seconds made per wall second, and the cost per
  audio minute in core-seconds (wall time x cores, the figure that scales to a rented cluster).
- `briefing batch` of three programmes that share stories (each of the example page's five stories
  appears in two or three of them): segments synthesized against segments reused from the cache.

Run with `make bench` or `.venv/bin/python -m benchmarks.cluster_speed [PAGES ...]` (default 1 5 20;
20 pages is about 75 minutes of audio, several minutes of synthesis).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "examples" / "newspaper-page.txt"
DAY = dt.date(2026, 11, 26)


def daily_seconds(pages: int, cluster: str, root: Path) -> tuple[float, float]:
    """(wall seconds, audio seconds) of a cold daily over `pages` copies of the page."""
    from briefing import pipeline
    from briefing.config import Config

    folder = root / "pages"
    folder.mkdir(parents=True)
    text = PAGE.read_text(encoding="utf-8")
    for n in range(pages):
        (folder / f"page-{n:02d}.txt").write_text(text.replace("# ", f"# 第{n + 1}版 "), encoding="utf-8")
    config = Config.from_dict({"cache_dir": str(root / "cache"), "max_minutes": 0, "cluster": cluster})
    started = time.perf_counter()
    result = pipeline.daily([folder], config, DAY, root / "out")
    assert result.episode is not None and result.episode.synthesis.reused <= 2  # the outro may repeat
    return time.perf_counter() - started, result.episode.duration


def programmes(root: Path) -> list[Path]:
    """Three programmes' configs, each reading its own page of stories picked from the example page."""
    from briefing.ingest import read_articles

    stories = read_articles(PAGE)
    picks = {"东区": [0, 1, 2], "西区": [0, 3, 4], "南区": [1, 2, 3, 4]}
    configs = []
    for name, chosen in picks.items():
        folder = root / name
        (folder / "pages").mkdir(parents=True)
        page = "".join(f"# {stories[i].title}\n{stories[i].body}\n" for i in chosen)
        (folder / "pages" / "page.txt").write_text(page, encoding="utf-8")
        lines = [f'programme = "{name}新闻"', f'output_dir = "{folder / "output"}"', f'cache_dir = "{root / "cache"}"']
        (folder / "briefing.toml").write_text("\n".join(lines) + f'\n[[sources]]\npath = "{folder / "pages"}"\n', encoding="utf-8")
        configs.append(folder / "briefing.toml")
    return configs


def main(page_counts: list[int]) -> None:
    from distributed import LocalCluster

    from briefing import pipeline

    cores = os.cpu_count() or 1
    print(f"cores {cores}; the cluster is a LocalCluster of {cores} single-thread worker processes on this machine")
    print("pages  where     audio      wall     audio s per wall s   core-seconds per audio minute")
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for pages in page_counts:
            for where, address in (("local", ""), ("cluster", cluster.scheduler_address)):
                with tempfile.TemporaryDirectory() as tmp:
                    wall, audio = daily_seconds(pages, address, Path(tmp))
                print(
                    f"{pages:5d}  {where:<8}  {audio / 60:5.1f} min  {wall:6.1f} s  {audio / wall:8.1f}"
                    f"             {wall * cores / (audio / 60):8.1f}"
                )
        with tempfile.TemporaryDirectory() as tmp:
            result = pipeline.batch(programmes(Path(tmp)), DAY, cluster.scheduler_address)
    print("batch of three programmes sharing stories, on the cluster:")
    for path, made, error in result.programmes:
        if made is None or made.episode is None:
            print(f"  {path.parent.name}: {error or 'up to date'}")
            continue
        synthesis = made.episode.synthesis
        print(f"  {path.parent.name}: {synthesis.synthesized} segments synthesized, {synthesis.reused} reused")
    print(f"  in all: {result.synthesized} synthesized, {result.reused} reused from the shared cache")


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [1, 5, 20])
