"""What approving a reviewed draft costs, with the real offline voice on the example page, each
figure a ratio measured in this one run:

- a cold `briefing daily --draft` (empty segment cache), the reference;
- one body segment edited on the desk, then heard (the desk makes that one segment): its time / the cold draft;
- approving the draft (`briefing publish`): its time / the cold draft (target <= 0.25), and the
  segments it made and reused (target: 0 made, since the edited one was made when it was heard);
- the same approval without hearing the edit first: 1 segment made.

Run with `make bench` or `.venv/bin/python -m benchmarks.review_cost`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "examples" / "newspaper-page.txt"
DATE = dt.date(2026, 11, 26)
EDIT = "这是编辑在审稿台上改写的一句话，说得更清楚。"


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        from briefing import pipeline
        from briefing.config import Config
        from briefing.desk import Desk
        from briefing.review import change_draft, open_draft
        from briefing.script import Role

        results = {}
        for heard in (True, False):
            os.environ["BRIEFING_CACHE_DIR"] = str(Path(work) / f"cache-{heard}")  # each run starts cold
            config = Config()
            out = Path(work) / f"out-{heard}"
            started = time.perf_counter()
            pipeline.daily([PAGE], config, DATE, out, draft=True)
            cold = time.perf_counter() - started
            folder = out / DATE.isoformat()
            draft = open_draft(folder, config)
            segment = next(n for n, s in enumerate(draft.script.segments, start=1) if s.role == Role.BODY)
            change_draft(folder, config, 1, "edit", segment=segment, text=EDIT + str(heard))
            started = time.perf_counter()
            if heard:
                Desk(out, config, "benchmark-token-0123456", False)._make_segment(open_draft(folder, config), segment)
            listened = time.perf_counter() - started
            started = time.perf_counter()
            published = pipeline.publish_draft(DATE, config, out)
            approve = time.perf_counter() - started
            assert published.episode is not None
            results[heard] = (cold, listened, approve, published.episode.synthesis)
        cold, listened, approve, synthesis = results[True]
        print(f"cold draft of the example page: {cold:.1f} s (the reference)")
        print(f"hearing one edited segment: {listened / cold:.3f} of the cold draft")
        print(
            f"approving after that edit: {approve / cold:.3f} of the cold draft (target <= 0.25), "
            f"{synthesis.synthesized} segments made, {synthesis.reused} reused"
        )
        cold, _, approve, synthesis = results[False]
        print(
            f"approving an edit nobody heard: {approve / cold:.3f} of its cold draft, "
            f"{synthesis.synthesized} segment made, {synthesis.reused} reused"
        )


if __name__ == "__main__":
    main()
