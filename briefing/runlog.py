"""The run log: one JSON line per `daily` (or draft), approval, `batch` and `publish` in OUT/runs.jsonl, kept to the
newest MAX_RUNS lines, so `briefing status` can say what happened on a bad morning."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import write_atomically

if TYPE_CHECKING:
    from .build import Episode

RUN_LOG = "runs.jsonl"
MAX_RUNS = 400  # more than a year of mornings
_TRIM_AT = MAX_RUNS + 50  # the file is rewritten only now and then


@dataclass
class SourceOutcome:
    name: str
    ok: bool
    detail: str = ""  # why it failed


@dataclass
class Run:
    """What one run did, filled in as it goes."""

    command: str
    started: str = ""
    ended: str = ""
    status: str = "running"  # ok, or failed
    error: str = ""
    date: str = ""  # the episode's date
    stories: int = 0
    seconds_of_audio: float = 0.0
    segments_made: int = 0
    segments_reused: int = 0
    up_to_date: bool = False
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[SourceOutcome] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # seconds each stage took

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = round(self.stages.get(name, 0.0) + time.perf_counter() - started, 3)

    def made(self, episode: Episode) -> None:
        """Record the episode this run made: its stories, length and segments made and reused."""
        self.stories, self.seconds_of_audio = episode.stories, round(episode.duration, 1)
        self.segments_made, self.segments_reused = episode.synthesis.synthesized, episode.synthesis.reused

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["sources"] = [SourceOutcome(**s) for s in data.get("sources", []) if isinstance(s, dict)]
        return cls(**known)


@contextmanager
def logged_run(out_root: Path, command: str) -> Iterator[Run]:
    """A Run to fill in; on leaving, its line is appended to OUT/runs.jsonl, failed when an
    exception left the block (the exception goes on). A log that cannot be written costs the run nothing."""
    run = Run(command, started=_now())
    try:
        yield run
        run.status = "ok"
    except BaseException as exc:
        run.status, run.error = "failed", str(exc) or type(exc).__name__
        raise
    finally:
        run.ended = _now()
        try:
            append_run(out_root, run)
        except OSError:
            pass  # the run's own result and its error line are what matter


def append_run(out_root: Path, run: Run) -> None:
    path = out_root / RUN_LOG
    out_root.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(asdict(run), ensure_ascii=False) + "\n")
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) > _TRIM_AT:
        write_atomically(path, b"".join(lines[-MAX_RUNS:]))


def read_runs(out_root: Path) -> list[Run]:
    """The logged runs, oldest first; a damaged line is skipped."""
    try:
        lines = (out_root / RUN_LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            data = json.loads(line)
            if isinstance(data, dict):
                runs.append(Run.from_dict(data))
        except (ValueError, TypeError, RecursionError):
            continue
    return runs


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
