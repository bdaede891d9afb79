"""Batch: several programmes' daily episodes in one run, sharing one segment cache and one executor."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .build import read_voices, synthesis_places
from .config import Config
from .errors import BriefingError, ConfigError, UsageError
from .runlog import logged_run
from .voices import VoiceChains

if TYPE_CHECKING:
    from .pipeline import DailyResult
    from .synthesize import ProgressCallback


@dataclass(frozen=True)
class BatchResult:
    """What `batch` made: each programme's result (or why it failed), in the order given."""

    programmes: tuple[tuple[Path, DailyResult | None, str], ...]  # config, result, error

    @property
    def synthesized(self) -> int:
        return sum(r.episode.synthesis.synthesized for _, r, _ in self.programmes if r and r.episode)

    @property
    def reused(self) -> int:
        return sum(r.episode.synthesis.reused for _, r, _ in self.programmes if r and r.episode)


def batch(
    config_files: list[Path], date: dt.date | None = None, cluster: str = "", progress: ProgressCallback | None = None
) -> BatchResult:
    """Make several programmes' daily episodes in one run, each from its own config (sources, voice,
    output folder), sharing one segment cache (the first config's) and one executor: the cluster at
    `cluster` (or the first config's), else a pool of engine processes on this machine. A sentence
    two programmes share (an intro, a story) is synthesized once. A config that cannot be read, or a
    programme that fails, does not stop the others; two that share an output folder stop the batch
    before anything is made."""
    loaded: dict[Path, Config | str] = {}
    for path in config_files:
        try:
            loaded[path] = Config.load(path)
        except BriefingError as exc:
            loaded[path] = str(exc)
    configs = {path: c for path, c in loaded.items() if isinstance(c, Config)}
    _refuse_shared_output(configs)
    made: dict[Path, tuple[Path, DailyResult | None, str]] = {path: (path, None, e) for path, e in loaded.items() if isinstance(e, str)}
    if configs:
        cache_dir = str(next(iter(configs.values())).paths.cache_path)
        configs = {path: replace(c, paths=replace(c.paths, cache_dir=cache_dir)) for path, c in configs.items()}
        first = next(iter(configs.values()))
        first = first.with_synthesis(cluster=cluster) if cluster else first
        try:
            voices: VoiceChains | None = read_voices(first)
        except ConfigError:
            voices = None  # that programme fails on its own; the others share a pool all the same
        with synthesis_places(first, voices) as places:
            for path, config in configs.items():
                made[path] = _batch_programme(path, config, date, progress, places.executor)
    return BatchResult(tuple(made[path] for path in config_files))


def _refuse_shared_output(configs: dict[Path, Config]) -> None:
    owners: dict[Path, Path] = {}
    for path, config in configs.items():
        output = config.paths.output_path.resolve()
        if output in owners:
            raise UsageError(
                f"{owners[output]} and {path} both write to {output}: each programme needs its own output_dir "
                "(the second would replace the first's episode, feed and history)"
            )
        owners[output] = path


def _batch_programme(
    path: Path, config: Config, date: dt.date | None, progress: ProgressCallback | None, executor: Executor | None
) -> tuple[Path, DailyResult | None, str]:
    from .pipeline import _daily, today

    out_root = config.paths.output_path
    try:
        with logged_run(out_root, "batch") as run:
            return path, _daily([], config, date or today(config), out_root, "", progress, executor, run), ""
    except BriefingError as exc:
        return path, None, str(exc)
