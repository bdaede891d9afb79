"""Synthesize: script segments into audio, through a segment cache and a pool of engine processes."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import wave
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engines import Engine, EngineSettings, SpeechAudio, WordBoundary, check_audio, create_engine, engine_class
from .errors import EngineUnavailableError, SynthesisError
from .files import write_atomically
from .script import Segment
from .voices import VoicePreset

ProgressCallback = Callable[[int, int, float], None]  # segments done, total, audio seconds made


@dataclass(frozen=True)
class SynthesisReport:
    """What a synthesis run did: how many segments came from the cache, and which engine made each."""

    audio: tuple[SpeechAudio, ...]
    reused: int
    synthesized: int
    voices: tuple[str, ...]  # the preset that made each segment
    fallbacks: tuple[Fallback, ...] = ()

    @property
    def segments_per_voice(self) -> dict[str, int]:
        return dict(Counter(self.voices))


class SegmentCache:
    """Audio per (engine, engine version, voice, prosody, spoken text), one WAV file each.

    Entries are written atomically as soon as a segment is made, so a killed run resumes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "segments"

    def key(self, voice: VoicePreset, spoken: str) -> str:
        engine = engine_class(voice.engine, must_be_available=False)
        identity = [engine.name, engine.version, voice.voice, voice.rate, voice.pitch, voice.volume, spoken]
        return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> SpeechAudio | None:
        path = self.path(key)
        try:
            with wave.open(str(path), "rb") as reader:
                frames = reader.readframes(reader.getnframes())
                rate = reader.getframerate()
        except (OSError, EOFError, wave.Error):
            return None  # missing or damaged: make it again
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
    voice: str
    fallback: str
    reason: str


def synthesize_segments(
    segments: list[Segment],
    voices: list[tuple[VoicePreset, ...]],
    cache: SegmentCache,
    settings: SynthesisSettings = SynthesisSettings(),
    progress: ProgressCallback | None = None,
) -> SynthesisReport:
    """Return one SpeechAudio per segment, in order, making only what the cache lacks.

    `voices[i]` is segment i's preset followed by its fallbacks. A segment that a preset cannot make
    moves on to the next one; when the last one fails too, SynthesisError says which and why.
    """
    if len(voices) != len(segments) or not all(voices):
        raise ValueError("one non-empty voice chain per segment is required")
    results: dict[int, SpeechAudio] = {}
    used: dict[int, str] = {}
    fallbacks: list[Fallback] = []
    reused = 0
    made_seconds = 0.0
    level = [0] * len(segments)
    todo = list(range(len(segments)))
    while todo:
        failed: dict[int, str] = {}
        for preset, indices in _group_by_preset(todo, voices, level).items():
            keys = {i: cache.key(preset, segments[i].spoken) for i in indices}
            for i in indices:
                cached = cache.get(keys[i])
                if cached is not None:
                    results[i], used[i] = cached, preset.name
                    reused += 1
                    made_seconds += cached.duration
            if progress:
                progress(len(results), len(segments), made_seconds)

            def finished(index: int, audio: SpeechAudio, preset: VoicePreset = preset) -> None:
                nonlocal made_seconds
                cache.put(keys[index], audio)
                results[index], used[index] = audio, preset.name
                made_seconds += audio.duration
                if progress:
                    progress(len(results), len(segments), made_seconds)

            jobs = [(i, segments[i].spoken) for i in indices if i not in results]
            failed.update(_run_preset(preset, jobs, settings, finished))
        todo = []
        for index, reason in sorted(failed.items()):
            chain = voices[index]
            if level[index] + 1 >= len(chain):
                tried = " then ".join(f"'{p.name}'" for p in chain)
                raise SynthesisError(f"Segment {index + 1} ({segments[index].spoken[:16]}…) could not be synthesized with {tried}: {reason}")
            level[index] += 1
            fallbacks.append(Fallback(index, chain[level[index] - 1].name, chain[level[index]].name, reason))
            todo.append(index)
    return SynthesisReport(
        audio=tuple(results[i] for i in range(len(segments))),
        reused=reused,
        synthesized=len(segments) - reused,
        voices=tuple(used[i] for i in range(len(segments))),
        fallbacks=tuple(fallbacks),
    )


def _group_by_preset(indices: list[int], voices: list[tuple[VoicePreset, ...]], level: list[int]) -> dict[VoicePreset, list[int]]:
    groups: dict[VoicePreset, list[int]] = {}
    for i in indices:
        groups.setdefault(voices[i][level[i]], []).append(i)
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


def _run_preset(preset: VoicePreset, jobs: list[tuple[int, str]], settings: SynthesisSettings,
                finished: Callable[[int, SpeechAudio], None]) -> dict[int, str]:
    """Synthesize `jobs` with one preset; return the reason for each segment it could not make."""
    if not jobs:
        return {}
    try:
        engine = engine_class(preset.engine)
        call: Callable[[str, VoicePreset], SpeechAudio] = _work
        executor: Executor
        if engine.parallel == "threads":
            call = create_engine(preset.engine, settings.engine).synthesize
            executor = ThreadPoolExecutor(max_workers=max(1, settings.connections))
        elif len(jobs) <= 2 or settings.workers == 1:
            call = create_engine(preset.engine, settings.engine).synthesize
            executor = _InThisProcess()
        else:
            # 'spawn': the engines hold native threads that do not survive a fork.
            prepared = engine.prepare([spoken for _, spoken in jobs])
            executor = ProcessPoolExecutor(max_workers=min(settings.workers or os.cpu_count() or 1, len(jobs)),
                                           mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_start_worker, initargs=(preset.engine, settings.engine, prepared))
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

    with executor:
        pending: dict[Future[SpeechAudio], tuple[int, str]] = {executor.submit(call, spoken, preset): (index, spoken) for index, spoken in jobs}
        try:
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


class _InThisProcess(Executor):
    """Runs each job at submit time: no pool start-up cost for a handful of segments."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        return future


_worker_engine: Engine | None = None


def _start_worker(engine_name: str, engine_settings: EngineSettings, prepared: Callable[[], None] | None) -> None:
    global _worker_engine
    if prepared is not None:
        prepared()
    _worker_engine = create_engine(engine_name, engine_settings)


def _work(spoken: str, voice: VoicePreset) -> SpeechAudio:
    assert _worker_engine is not None
    return _worker_engine.synthesize(spoken, voice)
