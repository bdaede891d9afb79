"""`briefing status`: the one screen an operator reads after a bad morning. The config in use, each
source's last result (and since when it fails), the last run, the disk the output and each cache
use and what is free, and the voices that can run now; unhealthy when the last run failed or a
source failed on FAILING_RUNS runs in a row."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Config
from .retention import CacheUse, files_use, segment_cache_use
from .runlog import Run, read_runs

FAILING_RUNS = 3


@dataclass(frozen=True)
class SourceHealth:
    name: str
    ok: bool
    detail: str = ""
    failed_runs: int = 0  # the runs in a row, up to the last, in which it failed
    failing_since: str = ""  # when the first of them started

    @property
    def failing(self) -> bool:
        return self.failed_runs >= FAILING_RUNS


@dataclass(frozen=True)
class VoiceHealth:
    preset: str
    engine: str
    can_run: bool
    why: str = ""


@dataclass(frozen=True)
class Status:
    config: str
    output: str
    last_run: Run | None
    sources: tuple[SourceHealth, ...]
    caches: tuple[CacheUse, ...]
    output_bytes: int
    free_bytes: int
    voices: tuple[VoiceHealth, ...]
    problems: tuple[str, ...] = field(default=())  # why it is unhealthy

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "healthy": self.healthy,
            "problems": list(self.problems),
            "config": self.config,
            "output": self.output,
            "last_run": asdict(self.last_run) if self.last_run else None,
            "sources": [{**asdict(s), "failing": s.failing} for s in self.sources],
            "caches": [c.to_dict() for c in self.caches],
            "output_bytes": self.output_bytes,
            "free_bytes": self.free_bytes,
            "voices": [asdict(v) for v in self.voices],
        }


def read_status(config: Config, config_name: str, out_root: Path) -> Status:
    runs = [run for run in read_runs(out_root) if run.command in ("daily", "draft", "approve", "batch", "publish")]
    last = runs[-1] if runs else None
    sources = tuple(_source_health(source.name, runs) for source in config.sources)
    problems = []
    if last is not None and last.status != "ok":
        problems.append(f"the last run ({last.command}, {last.started}) failed: {last.error}")
    problems += [
        f"source {s.name} has failed on {s.failed_runs} runs in a row since {s.failing_since}: {s.detail}" for s in sources if s.failing
    ]
    return Status(
        config=config_name,
        output=str(out_root),
        last_run=last,
        sources=sources,
        caches=cache_uses(config),
        output_bytes=files_use("output", out_root).bytes,
        free_bytes=shutil.disk_usage(_existing(out_root)).free,
        voices=_voices(config),
        problems=tuple(problems),
    )


def cache_uses(config: Config) -> tuple[CacheUse, ...]:
    cache = config.paths.cache_path
    return (segment_cache_use(cache / "segments"), files_use("http", cache / "http"), files_use("llm", cache / "llm", "*/*.json"))


def _source_health(name: str, runs: list[Run]) -> SourceHealth:
    outcomes = [(run, outcome) for run in runs for outcome in run.sources if outcome.name == name]
    if not outcomes:
        return SourceHealth(name, ok=True, detail="not read yet")
    last_run, last = outcomes[-1]
    streak = []
    for run, outcome in reversed(outcomes):
        if outcome.ok:
            break
        streak.append(run)
    return SourceHealth(name, last.ok, last.detail, len(streak), streak[-1].started if streak else "")


def _voices(config: Config) -> tuple[VoiceHealth, ...]:
    from .engines import engine_class
    from .errors import BriefingError
    from .voices import list_presets

    voices = []
    try:
        presets = list_presets(config.paths.voices_path)
    except BriefingError as exc:
        return (VoiceHealth("?", "?", False, str(exc)),)
    for preset in presets:
        try:
            engine_class(preset.engine)
            voices.append(VoiceHealth(preset.name, preset.engine, True))
        except BriefingError as exc:
            voices.append(VoiceHealth(preset.name, preset.engine, False, str(exc)))
    return tuple(voices)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def status_lines(status: Status) -> list[str]:
    """The status as a person reads it, most important first."""
    lines = ["healthy" if status.healthy else "NEEDS ATTENTION", *(f"  ! {problem}" for problem in status.problems)]
    lines += [f"config   {status.config}", f"output   {status.output}"]
    run = status.last_run
    if run is None:
        lines.append("last run none logged yet")
    else:
        made = "up to date" if run.up_to_date else f"{run.segments_made} segments made, {run.segments_reused} reused"
        lines.append(f"last run {run.command} {run.date or ''} started {run.started}, ended {run.ended}: {run.status}")
        lines.append(f"         {run.stories} stories, {run.seconds_of_audio / 60:.1f} min; {made}")
        lines += [f"         error: {run.error}"] if run.error else []
        lines += [f"         warning: {warning}" for warning in run.warnings] + [f"         problem: {p}" for p in run.problems]
    for source in status.sources:
        state = "ok" if source.ok else f"FAILED ({source.detail})"
        streak = f"; failing on {source.failed_runs} runs in a row since {source.failing_since}" if source.failed_runs else ""
        lines.append(f"source   {source.name}: {state}{streak}")
    lines.append(f"disk     output {_mb(status.output_bytes)}, {_mb(status.free_bytes)} free")
    lines += [f"         {line}" for line in cache_lines(status.caches)]
    lines += [f"voice    {v.preset} ({v.engine}): {'can run' if v.can_run else 'cannot run: ' + v.why}" for v in status.voices]
    return lines


def cache_lines(caches: tuple[CacheUse, ...]) -> list[str]:
    return [
        f"{c.name} cache {c.entries} entries, {_mb(c.bytes)}"
        + (f", least recently used {c.oldest:%Y-%m-%d}" if c.oldest else "")
        + f" ({c.path})"
        for c in caches
    ]


def _mb(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
