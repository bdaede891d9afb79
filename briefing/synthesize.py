"""Synthesize: script segments into audio, through a segment cache and an executor of engine jobs.

Each segment is one picklable `SegmentJob` run by `synthesize_one`, so the executor can be a local
process pool (the default), threads for a network engine, or any `concurrent.futures.Executor`
a caller passes in (a cluster's, for example).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import multiprocessing
import os
import threading
import time
import wave
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .engines import Engine, EngineSettings, SpeechAudio, WordBoundary, check_audio, create_engine, engine_class
from .errors import EngineUnavailableError, SynthesisError
from .files import write_atomically
from .script import Segment
from .voices import VoicePreset

ProgressCallback = Callable[[int, int, float], None]  # segments done, total, audio seconds made
T = TypeVar("T")


@dataclass(frozen=True)
class SynthesisReport:
    """What a synthesis run did: how many segments came from the cache, and which preset made each."""

    audio: tuple[SpeechAudio, ...]
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
    checked on reading: one shorter than its WAV header says is made again, never stitched in.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "segments"

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
        return SpeechAudio(samples=samples, sample_rate=rate, words=words)

    def put(self, key: str, audio: SpeechAudio) -> None:
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


def synthesize_segments(
    segments: list[Segment],
    chains: list[tuple[VoicePreset, ...]],
    cache: SegmentCache,
    settings: SynthesisSettings = SynthesisSettings(),
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
    on_audio: Callable[[int, SpeechAudio], None] | None = None,
) -> SynthesisReport:
    """Return one SpeechAudio per segment, in order, making only what the cache lacks. With
    `on_audio`, each segment's audio is handed to it as soon as it is made or read (in no fixed
    order) and the report holds none: a long episode need not be held in memory.

    `chains[i]` is segment i's preset followed by its fallbacks. A segment that a preset cannot make
    moves on to the next one; when the last one fails too, SynthesisError says which and why. Jobs
    of engines that run in processes go to `executor` when one is given (the caller owns it); a
    network engine's jobs, and all jobs without one, run on `local_executor`'s choice.
    """
    if len(chains) != len(segments) or not all(chains):
        raise ValueError("one non-empty preset chain per segment is required")
    results: dict[int, SpeechAudio] = {}
    used: dict[int, str] = {}  # the preset that made each segment done so far
    fallbacks: list[Fallback] = []
    reused = 0
    made_seconds = 0.0
    level = [0] * len(segments)
    todo = list(range(len(segments)))

    def finished(index: int, audio: SpeechAudio, preset: VoicePreset, key: str) -> None:
        nonlocal made_seconds
        if key:
            cache.put(key, audio)
        if on_audio:
            on_audio(index, audio)
        else:
            results[index] = audio
        used[index] = preset.name
        made_seconds += audio.duration
        if progress:
            progress(len(used), len(segments), made_seconds)

    while todo:
        failed: dict[int, str] = {}
        for preset, indices in _group_by_preset(todo, chains, level).items():
            keys = {i: cache.key(preset, segments[i].spoken) for i in indices}
            for i in indices:
                cached = cache.get(keys[i])
                if cached is not None:
                    reused += 1
                    finished(i, cached, preset, key="")
            if progress:
                progress(len(used), len(segments), made_seconds)
            jobs = [(i, segments[i].spoken) for i in indices if i not in used]

            def made(index: int, audio: SpeechAudio, preset: VoicePreset = preset, keys: dict[int, str] = keys) -> None:
                finished(index, audio, preset, keys[index])

            failed.update(_run_preset(preset, jobs, settings, made, executor))
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
        audio=tuple(results[i] for i in range(len(segments))) if not on_audio else (),
        reused=reused,
        synthesized=len(segments) - reused,
        presets=tuple(used[i] for i in range(len(segments))),
        fallbacks=tuple(fallbacks),
    )


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


def local_executor(engine: type[Engine], jobs: int, settings: SynthesisSettings) -> Executor:
    """The executor a preset's jobs run on when none is passed in: threads for a network engine
    (one per open connection), this process for a handful of segments, else a pool of processes."""
    if engine.parallel == "threads":
        return ThreadPoolExecutor(max_workers=max(1, settings.connections))
    if jobs <= 2 or settings.workers == 1:
        return InThisProcess()
    return process_pool(min(settings.workers or os.cpu_count() or 1, jobs))


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of engine processes that exit with this one."""
    # 'spawn': the engines hold native threads that do not survive a fork.
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent, initargs=(os.getpid(),)
    )


def _run_preset(
    preset: VoicePreset,
    jobs: list[tuple[int, str]],
    settings: SynthesisSettings,
    finished: Callable[[int, SpeechAudio], None],
    executor: Executor | None,
) -> dict[int, str]:
    """Synthesize `jobs` with one preset, on `executor` for an engine that runs in processes, else
    on a local executor shut down after; return the reason for each segment it could not make."""
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

    # A network engine keeps its connections on this machine: a pool of processes, or a cluster's
    # workers, would only wait on the network in its place.
    owned = executor is None or engine.parallel == "threads"
    running = local_executor(engine, len(jobs), settings) if owned or executor is None else executor
    with running if owned else nullcontext():
        pending: dict[Future[SpeechAudio], tuple[int, str]] = {}
        try:
            for index, spoken in jobs:
                # One text prepared at a time, each submitted as soon as it is: the workers start at once.
                prepared = engine.prepare([spoken]).get(spoken)
                job = SegmentJob(preset.engine, engine.__module__, settings.engine, spoken, preset, prepared)
                pending[running.submit(synthesize_one, job)] = (index, spoken)
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, spoken = pending.pop(future)
                    settle(index, spoken, future.exception() or future.result())
                if breaker.open:
                    for future, (index, _) in list(pending.items()):
                        if future.cancel():
                            failed[index] = f"not tried: {breaker.limit} segments failed in a row, so the rest skip '{preset.name}'"
                            del pending[future]
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return failed


class InThisProcess(Executor):
    """Runs each job at submit time: no pool start-up cost for a handful of segments."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        return future


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """In a pool worker: exit as soon as the process that started it is gone. A parent killed with
    SIGKILL cannot shut its pool down, and its workers would otherwise wait on a pipe forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@dataclass(frozen=True)
class SegmentJob:
    """Everything a worker needs to make one segment. It pickles, so any executor can run it: a
    local pool, or a cluster's workers that share nothing with this process."""

    engine: str
    engine_module: str  # imported first in a fresh worker: importing it registers the engine
    settings: EngineSettings
    spoken: str
    preset: VoicePreset
    prepared: Callable[[], None] | None = None  # the engine's work done ahead in the parent (see Engine.prepare)


_loaded: dict[tuple[str, EngineSettings], Engine] = {}
_loading = threading.Lock()


def synthesize_one(job: SegmentJob) -> SpeechAudio:
    """Make one segment's audio; the engine is loaded once per process and reused for every job."""
    engine = load_engine(job.engine, job.engine_module, job.settings)
    if job.prepared is not None:
        job.prepared()
    return engine.synthesize(job.spoken, job.preset)


def load_engine(name: str, module: str, settings: EngineSettings) -> Engine:
    """Engine `name` in this process, made on first use (importing `module` registers it) and kept."""
    key = (name, settings)
    with _loading:
        if key not in _loaded:
            importlib.import_module(module)
            _loaded[key] = create_engine(name, settings)
    return _loaded[key]


def _preload(name: str, module: str, settings: EngineSettings) -> None:
    load_engine(name, module, settings)  # returns nothing: the engine stays in the worker


def warm_up(executor: Executor, engine: type[Engine], settings: SynthesisSettings, workers: int) -> None:
    """Have `workers` of `executor`'s workers load `engine` now, while the caller writes the script."""
    for _ in range(workers):
        executor.submit(_preload, engine.name, engine.__module__, settings.engine)
