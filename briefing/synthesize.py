"""Synthesize: script segments into audio, through a segment cache and a pool of engine processes."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import wave
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .engines import Engine, SpeechAudio, WordBoundary, create_engine, engine_class
from .errors import SynthesisError
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
    voices: tuple[str, ...]  # preset name per segment


class SegmentCache:
    """Audio per (engine, engine version, voice, prosody, spoken text), one WAV file each.

    Entries are written atomically as soon as a segment is made, so a killed run resumes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "segments"

    def key(self, engine: type[Engine], voice: VoicePreset, spoken: str) -> str:
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


def synthesize_segments(
    segments: list[Segment],
    voice: VoicePreset,
    cache: SegmentCache,
    workers: int = 0,
    progress: ProgressCallback | None = None,
) -> SynthesisReport:
    """Return one SpeechAudio per segment, in order, making only what the cache lacks."""
    engine = engine_class(voice.engine)
    keys = [cache.key(engine, voice, segment.spoken) for segment in segments]
    results: dict[int, SpeechAudio] = {}
    for index, key in enumerate(keys):
        cached = cache.get(key)
        if cached is not None:
            results[index] = cached
    reused = len(results)
    todo = [i for i in range(len(segments)) if i not in results]
    made_seconds = sum(audio.duration for audio in results.values())
    if progress:
        progress(len(results), len(segments), made_seconds)

    def finished(index: int, audio: SpeechAudio) -> None:
        nonlocal made_seconds
        cache.put(keys[index], audio)
        results[index] = audio
        made_seconds += audio.duration
        if progress:
            progress(len(results), len(segments), made_seconds)

    workers = min(workers or os.cpu_count() or 1, max(1, len(todo)))
    if workers <= 1 or len(todo) <= 2:
        _synthesize_here(voice, [(i, segments[i].spoken) for i in todo], finished)
    else:
        _synthesize_in_pool(voice, [(i, segments[i].spoken) for i in todo], workers, finished)
    return SynthesisReport(
        audio=tuple(results[i] for i in range(len(segments))),
        reused=reused,
        synthesized=len(todo),
        voices=tuple(voice.name for _ in segments),
    )


def _synthesize_here(voice: VoicePreset, jobs: list[tuple[int, str]], finished: Callable[[int, SpeechAudio], None]) -> None:
    if not jobs:
        return
    engine = create_engine(voice.engine)
    for index, spoken in jobs:
        finished(index, _checked(engine.synthesize(spoken, voice), spoken))


_worker_engine: Engine | None = None


def _start_worker(engine_name: str) -> None:
    global _worker_engine
    _worker_engine = create_engine(engine_name)


def _work(index: int, spoken: str, voice: VoicePreset) -> tuple[int, SpeechAudio]:
    assert _worker_engine is not None
    return index, _checked(_worker_engine.synthesize(spoken, voice), spoken)


def _synthesize_in_pool(
    voice: VoicePreset, jobs: list[tuple[int, str]], workers: int, finished: Callable[[int, SpeechAudio], None]
) -> None:
    # 'spawn': the engines hold native threads that do not survive a fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(voice.engine,)) as pool:
        pending: set[Future[tuple[int, SpeechAudio]]] = {pool.submit(_work, index, spoken, voice) for index, spoken in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, audio = future.result()
                    finished(index, audio)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _checked(audio: SpeechAudio, spoken: str) -> SpeechAudio:
    """Reject audio that is silent or far too short for its text."""
    characters = sum(1 for ch in spoken if "\u4e00" <= ch <= "\u9fff") or len(spoken)
    if audio.samples.size == 0 or float(np.max(np.abs(audio.samples))) < 0.01:
        raise SynthesisError(f"The engine returned silence for {spoken[:20]!r}")
    if audio.duration < characters * 0.06:
        raise SynthesisError(f"The engine returned {audio.duration:.2f}s of audio for {characters} characters ({spoken[:20]!r})")
    return audio


