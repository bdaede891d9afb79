"""What the command line shows while and after it works: the synthesis progress bar and the
one-paragraph report of an episode. Kept apart from `cli` so the commands stay one call each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from .build import Episode


def episode_report(made: Episode) -> tuple[str, str]:
    """The report of a made episode, and a warning about the segments a fallback voice read (or '')."""
    synthesis = made.synthesis
    report = (
        f"{made.mp3}\n"
        f"  {made.stories} stories, {made.duration / 60:.1f} min, {made.loudness.integrated_lufs:.1f} LUFS, "
        f"true peak {made.loudness.true_peak_dbtp:.1f} dBTP; "
        f"{synthesis.synthesized} segments synthesized, {synthesis.reused} reused from the cache\n"
        f"  voices: {', '.join(f'{name} {count}' for name, count in synthesis.segments_per_preset.items())} segments"
    )
    if not synthesis.fallbacks:
        return report, ""
    reasons = "; ".join(dict.fromkeys(f.reason for f in synthesis.fallbacks))
    moved = ", ".join(f"{f.segment + 1} ({f.preset} -> {f.fallback})" for f in synthesis.fallbacks)
    return report, f"{len(synthesis.fallbacks)} segments used a fallback voice: {moved}. Why: {reasons[:500]}"


@contextmanager
def progress_bar() -> Iterator[Callable[[int, int, float], None]]:
    """A progress callback for synthesis. The bar (and rich) starts with the first report, so a run
    with nothing to make does not load it."""
    with ExitStack() as stack:
        shown: list[Any] = []  # the bar and its task, once started

        def update(done: int, all_segments: int, audio_seconds: float) -> None:
            if not shown:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                console = Console(stderr=True)
                columns = (
                    TextColumn("synthesizing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("segments"),
                    TextColumn("{task.fields[audio]:.0f}s audio"),
                    TimeRemainingColumn(),
                )
                bar = stack.enter_context(Progress(*columns, console=console, transient=True, disable=not console.is_terminal))
                shown.extend([bar, bar.add_task("synthesize", total=None, audio=0.0)])
            bar, task = shown
            bar.update(task, completed=done, total=all_segments, audio=audio_seconds)

        yield update
