"""Synthesize: script segments into audio, through a segment cache and an executor of engine jobs.

Each segment is one picklable `SegmentJob` run by `synthesize_one`, so it can run on any
`concurrent.futures.Executor`; `workers.JobPlaces` decides which.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import wave
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .engines import EngineSettings, SpeechAudio, WordBoundary, check_audio, engine_class
from .errors import EngineUnavailableError, SynthesisError
from .files import write_atomically
from .script import Segment
from .voices import VoicePreset
from .workers import JobPlaces, load_engine

ProgressCallback = Callable[[int, int, float], None]  # segments done, total, audio seconds made
AudioCallback = Callable[[int, SpeechAudio], None]  # segment index, its audio


@dataclass(frozen=True)
class SynthesisReport:
    """What a synthesis run did: how many segments came from the cache, and which preset made each."""

    reused: int
    synthesized: int
    presets: tuple[str, ...]  # the preset that made each segment
    fallbacks: tuple[Fallback, ...] = ()

    @property
    def segments_per_preset(self) -> dict[str, int]:
        return dict(Counter(self.presets))


class SegmentCache:
    """Audio per (engine, engine version, engine voice, prosody, spoken text), one WAV file each.

    Entries are written atomically as soon as a segment is made, so a killed run resumes. Each is
    checked on reading: one shorter than its WAV header says is made again, never stitched in. An
    entry's time is when it was last used (reading it touches it), so the least recently used go
    first when the cache is pruned (`retention.prune_segments`); `used` holds this run's keys.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "segments"
        self.used: set[str] = set()

    def key(self, preset: VoicePreset, spoken: str) -> str:
        engine = engine_class(preset.engine, must_be_available=False)
        identity = [engine.name, engine.version, preset.engine_voice, preset.rate, preset.pitch, preset.volume, spoken]
        return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> SpeechAudio | None:
        path = self.path(key)
        try:
            with wave.open(str(path), "rb") as reader:
                expected = reader.getnframes() * reader.getsampwidth() * reader.getnchannels()
                frames = reader.readframes(reader.getnframes())
                rate = reader.getframerate()
        except (OSError, EOFError, wave.Error):
            return None  # missing or damaged: make it again
        if not frames or len(frames) != expected:
            return None  # cut short (a full disk, a copy that stopped): its header says how long it was
        words_path = path.with_suffix(".words.json")
        words: tuple[WordBoundary, ...] = ()
        if words_path.exists():
            words = tuple(WordBoundary(**w) for w in json.loads(words_path.read_text(encoding="utf-8")))
        samples = np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32767.0
        self.used.add(key)
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only cache is still a cache
        return SpeechAudio(samples=samples, sample_rate=rate, words=words)

    def put(self, key: str, audio: SpeechAudio) -> None:
        self.used.add(key)
        path = self.path(key)
        if audio.words:
            write_atomically(path.with_suffix(".words.json"), json.dumps([w.__dict__ for w in audio.words]).encode())
        write_atomically(path, wav_bytes(audio))


def wav_bytes(audio: SpeechAudio) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.sample_rate)
        writer.writeframes((np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes())
    return buffer.getvalue()


@dataclass(frozen=True)
class SynthesisSettings:
    workers: int = 0  # processes for CPU-bound engines (0: one per core)
    connections: int = 4  # requests at once for network engines
    breaker: int = 5  # after this many failed segments in a row, the rest go straight to the fallback
    engine: EngineSettings = EngineSettings()


@dataclass(frozen=True)
class Fallback:
    """A segment its preset could not make, and the preset that made it instead."""

    segment: int
    preset: str
    fallback: str
    reason: str


class _Collector:
    """What a synthesis run has done so far: the preset that made each segment, the fallbacks
    taken, and the progress to report."""

    def __init__(self, total: int, cache: SegmentCache, on_audio: AudioCallback, progress: ProgressCallback | None) -> None:
        self.total, self.cache, self.on_audio, self.progress = total, cache, on_audio, progress
        self.used: dict[int, str] = {}
        self.reused = 0
        self.seconds = 0.0

    def finished(self, index: int, audio: SpeechAudio, preset: VoicePreset, key: str = "") -> None:
        if key:
            self.cache.put(key, audio)
        self.on_audio(index, audio)
        self.used[index] = preset.name
        self.seconds += audio.duration
        self.report_progress()

    def report_progress(self) -> None:
        if self.progress:
            self.progress(len(self.used), self.total, self.seconds)


def synthesize_segments(
    segments: list[Segment],
    chains: list[tuple[VoicePreset, ...]],
    cache: SegmentCache,
    on_audio: AudioCallback,
    settings: SynthesisSettings = SynthesisSettings(),
    progress: ProgressCallback | None = None,
    places: JobPlaces | None = None,
) -> SynthesisReport:
    """Hand each segment's audio to `on_audio` as soon as it is made or read from the cache (in no
    fixed order), making only what the cache lacks; a long episode is never held in memory.

    `chains[i]` is segment i's preset followed by its fallbacks. A segment that a preset cannot make
    moves on to the next one; when the last one fails too, SynthesisError says which and why.
    `places` says where each preset's jobs run (default: this machine, as `JobPlaces` decides).
    """
    if len(chains) != len(segments) or not all(chains):
        raise ValueError("one non-empty preset chain per segment is required")
    places = places or JobPlaces(settings.workers, settings.connections)
    run = _Collector(len(segments), cache, on_audio, progress)
    fallbacks: list[Fallback] = []
    level = [0] * len(segments)
    todo = list(range(len(segments)))
    while todo:
        failed: dict[int, str] = {}
        for preset, indices in _group_by_preset(todo, chains, level).items():
            failed.update(_synthesize_with(preset, indices, segments, run, settings, places))
        todo = []
        for index, reason in sorted(failed.items()):
            chain = chains[index]
            if level[index] + 1 >= len(chain):
                tried = " then ".join(f"'{p.name}'" for p in chain)
                raise SynthesisError(
                    f"Segment {index + 1} ({segments[index].spoken[:16]}…) could not be synthesized with {tried}: {reason}"
                )
            level[index] += 1
            fallbacks.append(Fallback(index, chain[level[index] - 1].name, chain[level[index]].name, reason))
            todo.append(index)
    return SynthesisReport(
        reused=run.reused,
        synthesized=len(segments) - run.reused,
        presets=tuple(run.used[i] for i in range(len(segments))),
        fallbacks=tuple(fallbacks),
    )


def synthesize_all(
    segments: list[Segment],
    chains: list[tuple[VoicePreset, ...]],
    cache: SegmentCache,
    settings: SynthesisSettings = SynthesisSettings(),
    places: JobPlaces | None = None,
) -> tuple[list[SpeechAudio], SynthesisReport]:
    """Every segment's audio, in order, held in memory, and the report: for short texts and tests."""
    audio: dict[int, SpeechAudio] = {}
    report = synthesize_segments(segments, chains, cache, audio.__setitem__, settings, places=places)
    return [audio[i] for i in range(len(segments))], report


def _synthesize_with(
    preset: VoicePreset, indices: list[int], segments: list[Segment], run: _Collector, settings: SynthesisSettings, places: JobPlaces
) -> dict[int, str]:
    """Segments `indices` with one preset, from the cache where it has them; the reason for each it could not make."""
    keys = {i: run.cache.key(preset, segments[i].spoken) for i in indices}
    for i in indices:
        cached = run.cache.get(keys[i])
        if cached is not None:
            run.reused += 1
            run.finished(i, cached, preset)
    run.report_progress()
    jobs = [(i, segments[i].spoken) for i in indices if i not in run.used]

    def made(index: int, audio: SpeechAudio) -> None:
        run.finished(index, audio, preset, keys[index])

    return _run_preset(preset, jobs, settings, made, places)


def _group_by_preset(indices: list[int], chains: list[tuple[VoicePreset, ...]], level: list[int]) -> dict[VoicePreset, list[int]]:
    groups: dict[VoicePreset, list[int]] = {}
    for i in indices:
        groups.setdefault(chains[i][level[i]], []).append(i)
    return groups


class _Breaker:
    """Counts failed segments in a row; once `limit` is reached it stays open for the rest of the run."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_a_row = 0

    def record(self, ok: bool) -> None:
        self.in_a_row = 0 if ok else self.in_a_row + 1

    @property
    def open(self) -> bool:
        return self.limit > 0 and self.in_a_row >= self.limit


def _run_preset(
    preset: VoicePreset,
    jobs: list[tuple[int, str]],
    settings: SynthesisSettings,
    finished: Callable[[int, SpeechAudio], None],
    places: JobPlaces,
) -> dict[int, str]:
    """Synthesize `jobs` with one preset where `places` puts them; return the reason for each
    segment it could not make."""
    if not jobs:
        return {}
    try:
        engine = engine_class(preset.engine)
    except EngineUnavailableError as exc:
        return {index: str(exc) for index, _ in jobs}
    breaker = _Breaker(settings.breaker)
    failed: dict[int, str] = {}

    def settle(index: int, spoken: str, outcome: SpeechAudio | BaseException) -> None:
        if isinstance(outcome, SpeechAudio):
            try:
                finished(index, check_audio(outcome, spoken))
                breaker.record(True)
                return
            except SynthesisError as exc:
                outcome = exc
        if not isinstance(outcome, (SynthesisError, EngineUnavailableError)):
            raise outcome
        failed[index] = str(outcome)
        breaker.record(False)

    lost: list[tuple[int, str]] = []  # jobs whose executor went away under them
    shared = places.executor
    with places.for_jobs(engine, len(jobs)) as running:
        pending: dict[Future[SpeechAudio], tuple[int, str]] = {}
        try:
            for index, spoken in jobs:
                # One text prepared at a time, each submitted as soon as it is: the workers start at once.
                job = SegmentJob(preset.engine, engine.__module__, settings.engine, spoken, preset, engine.prepare([spoken]).get(spoken))
                pending[running.submit(synthesize_one, job)] = (index, spoken)
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, spoken = pending.pop(future)
                    outcome = _outcome(future)
                    if running is shared and not isinstance(outcome, (SpeechAudio, SynthesisError, EngineUnavailableError)):
                        lost.append((index, spoken))  # the cluster, not the engine, failed: made here instead
                    else:
                        settle(index, spoken, outcome)
                if breaker.open:
                    failed.update(_skip_the_rest(pending, f"{breaker.limit} segments failed in a row, so the rest skip '{preset.name}'"))
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    if lost:
        places.lose_executor(f"{len(lost)} segments came back from the cluster unmade")
        failed.update(_run_preset(preset, lost, settings, finished, places))
    return failed


def _skip_the_rest(pending: dict[Future[SpeechAudio], tuple[int, str]], why: str) -> dict[int, str]:
    """Cancel the jobs not started yet; each one's reason."""
    skipped = {}
    for future, (index, _) in list(pending.items()):
        if future.cancel():
            skipped[index] = f"not tried: {why}"
            del pending[future]
    return skipped


def _outcome(future: Future[SpeechAudio]) -> SpeechAudio | BaseException:
    try:
        return future.exception() or future.result()
    except CancelledError as exc:  # cancelled by the executor (a cluster that went away), not by the breaker
        return exc


@dataclass(frozen=True)
class SegmentJob:
    """Everything a worker needs to make one segment. It pickles, so any executor can run it: a
    local pool, or a cluster's workers that share nothing with this process."""

    engine: str
    engine_module: str  # imported first in a fresh worker: importing it registers the engine
    settings: EngineSettings
    spoken: str
    preset: VoicePreset
    prepared: Any = None  # the engine's work done ahead in the parent, handed to its `synthesize` (see Engine.prepare)


def synthesize_one(job: SegmentJob) -> SpeechAudio:
    """Make one segment's audio; the engine is loaded once per process and reused for every job."""
    engine = load_engine(job.engine, job.engine_module, job.settings)
    return engine.synthesize(job.spoken, job.preset, job.prepared)
