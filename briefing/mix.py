"""Mixing: the episode written while its segments arrive (levels, pauses, the chime between stories
and the sting under the intro), with the transcript's timings and the chapters."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    # pydub warns at import when no ffmpeg is on PATH; it gets imageio-ffmpeg's below.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from .engines import SpeechAudio
from .episode import Chapter, Cue
from .errors import AssemblyError
from .mastering import (
    ENCODER_GAIN_DB,
    ENCODER_HEADROOM_DB,
    MAX_STEER_DB,
    MAX_TRUE_PEAK_MP3,
    STEER,
    TARGET_LUFS,
    Loudness,
    LoudnessMeter,
    limit,
    master,
    true_peaks,
)
from .mp3 import MP3_BITRATE, Mp3Encoder, check_mp3, ffmpeg_exe
from .script import Pause, Role, Script
from .text import split_clauses

EPISODE_RATE = 24000  # the voices' rate; ffmpeg resamples to 44.1 kHz when encoding
CHIME_PEAK, STING_PEAK = 0.21, 0.26  # the music's level as heard, under the voice's -19 LUFS
PAUSE_SECONDS = {Pause.CLAUSE: 0.28, Pause.SENTENCE: 0.5, Pause.PARAGRAPH: 0.7, Pause.STORY: 0.6}
CUE_CHARS = 24  # a transcript line joins clauses up to this many characters
INTRO_SPEECH_START = 1.6  # the intro sting plays alone this long, then fades under the voice
AudioSegment.converter = ffmpeg_exe()


@dataclass(frozen=True)
class Mixdown:
    """What went into the MP3: the timing of everything heard in it, and its loudness (measured in
    the master as it was encoded, less the encoder's fixed 0.45 dB)."""

    duration: float
    cues: tuple[Cue, ...]
    chapters: tuple[Chapter, ...]
    loudness: Loudness


class EpisodeWriter:
    """Mixes, masters and encodes the episode while its segments are still being synthesized.

    Segments may be added in any order; each is written as soon as every earlier one has been. A
    speech segment is brought to the target loudness on its own and true-peak limited, so nothing
    waits for the whole episode to be known: the MP3 grows as the voices speak, only the last
    segment is left to write when synthesis ends, and memory holds just the segments that came
    early. Levelling each segment also keeps voices of different loudness (a fallback voice, an
    online one) even.

    Use it as a context manager: leaving it on an error stops the encoder, and the caller removes
    the unfinished file.
    """

    def __init__(
        self, script: Script, destination: Path, target_lufs: float = TARGET_LUFS, max_true_peak: float = MAX_TRUE_PEAK_MP3
    ) -> None:
        self.script = script
        self.destination = destination
        self.master_lufs = target_lufs - ENCODER_GAIN_DB
        # Encoding can raise the true peak a little, so the master stays this far under the MP3's limit.
        self.ceiling_db = max_true_peak - ENCODER_HEADROOM_DB
        self._waiting: dict[int, SpeechAudio] = {}
        self._next = 0
        self._written = 0  # samples
        self._cues: list[Cue] = []
        self._overlay = intro_sting()  # rings on under the first words
        self._chime = chime_tone()
        self._chime_peak = float(true_peaks(self._chime, 0, len(self._chime)).max())
        self._last_gain_db: float | None = None
        self._meter = LoudnessMeter(EPISODE_RATE)
        self._true_peak = 0.0
        self._encoder = Mp3Encoder(destination, EPISODE_RATE, MP3_BITRATE)

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._encoder.stop()

    def add(self, index: int, audio: SpeechAudio) -> None:
        """Take segment `index`'s audio; write it, and any that waited for it, once all before it are written."""
        self._waiting[index] = audio
        while self._next in self._waiting:
            self._write_segment(self._next, self._waiting.pop(self._next))
            self._next += 1

    def finish(self) -> Mixdown:
        """Write the closing chime, finish the MP3 and check it; every segment must have been added."""
        if self._next != len(self.script.segments):
            raise AssemblyError(f"Got audio for {self._next} of {len(self.script.segments)} segments")
        tail = np.concatenate([_silence(0.6), self._chime, _silence(1.2)])
        tail[-int(1.5 * EPISODE_RATE) :] *= _fade(1.5)[::-1]
        self._write(tail, self._chime_peak)
        self._encoder.finish()
        duration = self._written / EPISODE_RATE
        check_mp3(self.destination, duration)
        peak = 20 * math.log10(self._true_peak) if self._true_peak > 0 else -math.inf
        return Mixdown(
            duration=duration,
            cues=tuple(self._cues),
            chapters=tuple(_chapters(self.script, self._cues, duration)),
            loudness=Loudness(round(self._meter.integrated + ENCODER_GAIN_DB, 1), round(peak + ENCODER_GAIN_DB, 1)),
        )

    def _write_segment(self, index: int, audio: SpeechAudio) -> None:
        segment = self.script.segments[index]
        # Each segment aims at the target, steered by how far the episode so far is off it: gating
        # over the whole episode (and the music) reads a little differently from segment by segment.
        so_far = self._meter.integrated
        steer = min(max(STEER * (self.master_lufs - so_far), -MAX_STEER_DB), MAX_STEER_DB) if math.isfinite(so_far) else 0.0
        mastered = master(
            _at_episode_rate(audio),
            EPISODE_RATE,
            self.master_lufs + steer,
            self.ceiling_db,
            true_peak=True,
            gain_db_if_unmeasurable=self._last_gain_db or 0.0,
        )
        self._last_gain_db = mastered.gain_db
        lead = _silence(INTRO_SPEECH_START) if index == 0 else _silence(0.0)
        start = (self._written + len(lead)) / EPISODE_RATE
        self._cues += [
            Cue(round(start + begin, 3), round(start + end, 3), text, segment.story, segment.role.value)
            for begin, end, text in timed_lines(segment.text, segment.spoken, audio)
        ]
        if index == len(self.script.segments) - 1:
            gap: list[np.ndarray] = []
        elif segment.pause == Pause.STORY:
            gap = [_silence(PAUSE_SECONDS[Pause.STORY]), self._chime, _silence(0.35)]
        else:
            gap = [_silence(PAUSE_SECONDS[segment.pause])]
        self._write(np.concatenate([lead, mastered.samples, *gap]), max(mastered.peak, self._chime_peak if gap else 0.0))

    def _write(self, piece: np.ndarray, peak: float) -> None:
        """Encode `piece`, whose highest true peak is `peak`, adding what is left of the intro sting."""
        if len(self._overlay):
            overlap = min(len(self._overlay), len(piece))
            piece[:overlap] += self._overlay[:overlap]
            self._overlay = self._overlay[overlap:]
            piece = limit(piece, 10 ** (self.ceiling_db / 20), EPISODE_RATE, true_peak=True, in_place=True)
            peak = float(true_peaks(piece, 0, len(piece)).max(initial=0.0))
        if self._written == 0:
            piece[: int(0.03 * EPISODE_RATE)] *= _fade(0.03)
        self._meter.add(piece)
        self._true_peak = max(self._true_peak, peak)
        self._encoder.write(piece)
        self._written += len(piece)


def _fade(seconds: float) -> np.ndarray:
    """A linear fade in from silence (-120 dB) to full level; reversed, a fade out."""
    return np.linspace(10 ** (-120 / 20), 1.0, int(seconds * EPISODE_RATE), endpoint=False, dtype=np.float32)


def timed_lines(text: str, spoken: str, speech: SpeechAudio, max_chars: int = CUE_CHARS) -> list[tuple[float, float, str]]:
    """Transcript lines for one segment: its written text, cut at clauses when the engine's word
    timings say when each clause is heard; otherwise one line for the whole segment."""
    whole = [(0.0, speech.duration, text)]
    written, said = split_clauses(text), split_clauses(spoken)
    if not speech.words or len(written) != len(said):
        return whole
    starts = list(itertools.accumulate(len(c) for c in said))
    heard: list[list[float]] = [[] for _ in said]  # the start and end times of the words in each clause
    cursor = 0
    for word in speech.words:
        found = spoken.find(word.text, cursor) if word.text else -1
        if found < 0:
            continue
        cursor = found + len(word.text)
        clause = bisect.bisect_right(starts, found)
        heard[clause] += [word.offset, min(speech.duration, word.offset + word.duration)]
    if not all(heard):
        return whole
    lines: list[tuple[float, float, str]] = []
    for times, line in zip(heard, written):
        if lines and len(lines[-1][2]) + len(line) <= max_chars:
            lines[-1] = (lines[-1][0], max(times), lines[-1][2] + line)
        else:
            lines.append((min(times), max(times), line))
    return lines


def _chapters(script: Script, cues: list[Cue], total: float) -> list[Chapter]:
    titles = {story.index: story.title for story in script.stories}
    starts: list[tuple[float, str, int | None]] = [(0.0, "开场", None)]
    for cue in cues:
        if cue.story is not None and cue.story != starts[-1][2]:
            starts.append((cue.start, titles[cue.story], cue.story))
        elif cue.role == Role.OUTRO.value and starts[-1][1] != "结束":
            starts.append((cue.start, "结束", None))
    ends = [start for start, _, _ in starts[1:]] + [total]
    return [Chapter(round(start, 3), round(end, 3), title, story) for (start, title, story), end in zip(starts, ends)]


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * EPISODE_RATE)), dtype=np.float32)


def _at_episode_rate(audio: SpeechAudio) -> np.ndarray:
    """A segment's samples at the episode's rate (pydub resamples a voice with another rate)."""
    pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    if audio.sample_rate != EPISODE_RATE:
        segment = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=audio.sample_rate, channels=1)
        pcm = np.array(segment.set_frame_rate(EPISODE_RATE).get_array_of_samples(), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


def _bell(frequency: float, seconds: float, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * EPISODE_RATE)) / EPISODE_RATE
    partials = (
        np.sin(2 * np.pi * frequency * t)
        + 0.35 * np.sin(2 * np.pi * 2.01 * frequency * t)
        + 0.12 * np.sin(2 * np.pi * 3.98 * frequency * t)
    )
    attack = np.minimum(1.0, t / 0.008)
    return (partials * attack * np.exp(-t / decay)).astype(np.float32)


def chime_tone(peak: float = CHIME_PEAK) -> np.ndarray:
    """Two soft bell notes (a rising fifth), peaking at `peak`: the mark between stories."""
    first, second = _bell(659.25, 0.9, 0.22), _bell(987.77, 0.9, 0.3)
    offset = int(0.16 * EPISODE_RATE)
    out = np.zeros(offset + len(second), dtype=np.float32)
    out[: len(first)] += first
    out[offset:] += second
    return (peak * out / np.max(np.abs(out))).astype(np.float32)


def intro_sting(peak: float = STING_PEAK) -> np.ndarray:
    """A rising four-note arpeggio, peaking at `peak`, that rings on under the first words of the intro."""
    notes = [523.25, 659.25, 783.99, 1046.5]
    step = int(0.2 * EPISODE_RATE)
    out = np.zeros(step * len(notes) + int(2.6 * EPISODE_RATE), dtype=np.float32)
    for n, frequency in enumerate(notes):
        tone = _bell(frequency, 2.6, 0.5 + 0.15 * n)
        out[n * step : n * step + len(tone)] += tone
    return (peak * out / np.max(np.abs(out))).astype(np.float32)
