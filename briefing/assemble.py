"""Assemble: segment audio into a mastered, tagged MP3 with chapters and transcripts."""

from __future__ import annotations

import bisect
import itertools
import math
import subprocess
import tempfile
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
from .errors import AssemblyError, OutputError
from .files import describe_write_error
from .measure import Loudness, LoudnessMeter, ffmpeg_exe, integrated_loudness, intersample_bound, measure_loudness, true_peak_db, true_peaks
from .script import Pause, Role, Script
from .text import split_clauses

EPISODE_RATE = 24000  # the voices' rate; ffmpeg resamples to 44.1 kHz when encoding
MP3_RATE = 44100
MP3_BITRATE = "96k"
# LAME's quality setting (0 best and slowest, 9 fastest): 7 encodes speech 2.4 times faster than the
# default with the same intelligibility (ASR CER measured with benchmarks/intelligibility.py).
LAME_QUALITY = 7
TARGET_LUFS = -19.0  # mono spoken word (AES TD1004)
MAX_TRUE_PEAK_WAV = -1.5
MAX_TRUE_PEAK_MP3 = -1.0
# LAME, as ffmpeg runs it, scales every signal by 0.95 (-0.45 dB; measured on speech, tones and
# noise, and read back by two decoders): the episode's master aims this much louder.
ENCODER_GAIN_DB = -0.45
# A segment aims at the target plus STEER times how far the episode so far is off it, at most
# MAX_STEER_DB: what is left of a steady offset is 1 / (1 + STEER) of it.
STEER, MAX_STEER_DB = 4.0, 0.5  # half a decibel between segments goes unheard
# The master's true peak stays this far under the MP3's limit, for what encoding adds to peaks: on
# the offline voice the MP3 peaks 0.1 dB above the master less LAME's 0.45 dB. (0.5 rather than
# 1 dB: less limiting, and the ASR reads the offline voice a little better.)
ENCODER_HEADROOM_DB = 0.5
MP3_LENGTH_TOLERANCE = 0.1  # seconds between the MP3's length and what was encoded
CHIME_PEAK, STING_PEAK = 0.21, 0.26  # the music's level as heard, under the voice's -19 LUFS
LOUDNESS_TOLERANCE = 0.5  # LU between the target and what ffmpeg measures in the MP3
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


def check_mp3(path: Path, duration: float) -> None:
    """A cheap check of the finished file, without decoding it: an MPEG audio stream, mono 44.1 kHz,
    as long as what was encoded, and as many bytes as its constant bitrate makes that long."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        info = MP3(str(path)).info
    except (MutagenError, OSError) as exc:
        raise AssemblyError(f"{path}: the encoded MP3 cannot be read back: {exc}") from None
    assert info is not None  # mutagen raises when it finds no MPEG frame
    size, expected_bytes = path.stat().st_size, info.bitrate / 8 * duration
    if (
        (info.sample_rate, info.channels) != (MP3_RATE, 1)
        or abs(info.length - duration) > MP3_LENGTH_TOLERANCE
        or abs(size - expected_bytes) > 0.01 * expected_bytes + 2000
    ):
        raise AssemblyError(
            f"{path}: the encoded MP3 holds {size} bytes, {info.length:.2f} s of {info.channels}-channel "
            f"{info.sample_rate} Hz audio, not the {duration:.2f} s mono {MP3_RATE} Hz that was encoded"
        )


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


@dataclass(frozen=True)
class Mastered:
    samples: np.ndarray
    loudness: float  # LUFS, integrated
    gain_db: float  # the gain applied before limiting
    peak: float  # the highest (true, when asked for) peak, as a level (1.0 is full scale)


def master(
    samples: np.ndarray,
    sample_rate: int,
    target_lufs: float = TARGET_LUFS,
    ceiling_db: float = -2.0,
    true_peak: bool = False,
    gain_db_if_unmeasurable: float | None = None,
) -> Mastered:
    """Bring integrated loudness to `target_lufs`, holding peaks under `ceiling_db`: sample peaks,
    or with `true_peak` the peaks between samples too (slower). Audio too short or quiet to measure
    gets `gain_db_if_unmeasurable` when one is given; otherwise it is an error."""
    source = samples.astype(np.float32)
    loudness = integrated_loudness(source, sample_rate)
    if math.isfinite(loudness):
        gain_db = target_lufs - loudness
    elif gain_db_if_unmeasurable is not None:
        gain_db = gain_db_if_unmeasurable
    else:
        raise AssemblyError("The episode is silent: every segment came back without sound")
    ceiling = 10 ** (ceiling_db / 20)
    peaks = BlockPeaks(source, _limiter_block(sample_rate), true_peak)
    for _ in range(4):  # limiting lowers loudness a little; converge in a few rounds
        gain = 10 ** (gain_db / 20)
        out = source * np.float32(gain)
        envelope = limiter_gain(peaks.at_gain(gain, ceiling) * gain, ceiling)
        if envelope is None:  # nothing limited: the loudness moved with the gain
            return Mastered(out, loudness + gain_db, gain_db, peaks.highest(gain))
        _apply_gain(out, envelope, peaks.block)
        measured = integrated_loudness(out, sample_rate)
        if not math.isfinite(measured) or abs(measured - target_lufs) < 0.2:
            break
        gain_db += target_lufs - measured
    return Mastered(out, measured, gain_db, peaks.highest(gain, envelope))


def limit(
    samples: np.ndarray, ceiling: float, sample_rate: int, block_seconds: float = 0.005, true_peak: bool = False, in_place: bool = False
) -> np.ndarray:
    """A look-ahead peak limiter holding every sample at or under `ceiling` (with `true_peak`, the
    peaks between samples too, found on the signal oversampled four times as a true-peak meter
    finds them). With `in_place`, float32 `samples` are scaled where they are."""
    block = _limiter_block(sample_rate, block_seconds)
    out = samples if in_place and samples.dtype == np.float32 else samples.astype(np.float32)
    envelope = limiter_gain(BlockPeaks(samples, block, true_peak).at_gain(1.0, ceiling), ceiling)
    if envelope is not None:
        _apply_gain(out, envelope, block)
    return out


def _limiter_block(sample_rate: int, block_seconds: float = 0.005) -> int:
    return max(1, int(block_seconds * sample_rate))


class BlockPeaks:
    """The peak of each short block of a signal, for the limiter. With `true_peak`, the peaks
    between samples count too; they are read on the signal oversampled four times, which is slow,
    so only in blocks that a gain could take over the ceiling: elsewhere even the highest peak
    the interpolation allows (`intersample_bound` times the samples around) stays under it."""

    def __init__(self, samples: np.ndarray, block: int, true_peak: bool) -> None:
        self.samples, self.block, self.true_peak = samples, block, true_peak
        self.values = _block_max(np.abs(samples), block)
        # A block's neighbours are within the interpolation filter's reach of its edges.
        around = np.maximum(self.values, np.maximum(np.r_[self.values[1:], 0.0], np.r_[0.0, self.values[:-1]]))
        self._bound = around * intersample_bound()
        self._exact = np.zeros(len(self.values), dtype=bool)

    def at_gain(self, gain: float, ceiling: float) -> np.ndarray:
        """Each block's peak, exact wherever `gain` could take the block over `ceiling`."""
        if self.true_peak:
            needed = (self._bound * gain > ceiling) & ~self._exact
            edges = np.flatnonzero(np.diff(np.r_[0, needed.astype(np.int8), 0]))
            for first, last in zip(edges[::2], edges[1::2]):
                start, stop = first * self.block, min(last * self.block, len(self.samples))
                self.values[first:last] = _block_max(true_peaks(self.samples, start, stop), self.block)
            self._exact |= needed
        return self.values

    def highest(self, gain: float, envelope: np.ndarray | None = None) -> float:
        """The highest peak after `gain` and the limiter's `envelope` (read at block centres)."""
        scaled = self.values * gain * (envelope if envelope is not None else 1.0)
        return float(scaled.max(initial=0.0))


def _block_max(values: np.ndarray, block: int) -> np.ndarray:
    """The largest of each `block` values (the last block may be short)."""
    return np.pad(values, (0, (-len(values)) % block)).reshape(-1, block).max(axis=1, initial=0.0)


def limiter_gain(peaks: np.ndarray, ceiling: float, reach: int = 6) -> np.ndarray | None:
    """The gain per block that keeps `peaks` under `ceiling`, widened by a min filter over `reach`
    blocks either side and then smoothed, or None when no block goes over. The smoothing window is
    no wider than the min filter, so no block ends up above the ceiling."""
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if not len(needed) or needed.min() >= 1.0:
        return None
    edge = np.pad(needed, reach, mode="edge")
    widened = np.lib.stride_tricks.sliding_window_view(edge, 2 * reach + 1).min(axis=1)
    return np.convolve(np.pad(widened, reach, mode="edge"), np.ones(2 * reach + 1) / (2 * reach + 1), mode="valid")


_CHUNK_BLOCKS = 20_000  # the signal is scaled this many blocks at a time, so memory stays flat


def _apply_gain(samples: np.ndarray, envelope: np.ndarray, block: int) -> None:
    """Scale float32 `samples` in place by a per-block gain, interpolated between block centres."""
    centres = (np.arange(len(envelope)) + 0.5) * block
    chunk = block * _CHUNK_BLOCKS
    for start in range(0, len(samples), chunk):
        positions = np.arange(start, min(start + chunk, len(samples)))
        samples[start : start + chunk] *= np.interp(positions, centres, envelope).astype(np.float32)


@dataclass(frozen=True)
class Master:
    """Loudness of the master before encoding and of the MP3 after."""

    before: Loudness
    after: Loudness


def master_and_encode(
    samples: np.ndarray,
    sample_rate: int,
    destination: Path,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK_MP3,
    bitrate: str = MP3_BITRATE,
) -> Master:
    """Master a whole clip to `target_lufs` and encode mono 44.1 kHz CBR MP3 with its true peak at or
    under `max_true_peak`, as ffmpeg measures it in the MP3. (The episode itself is written as it is
    synthesized, by `EpisodeWriter`.)

    The limiter works on sample peaks; when a meter finds the true peak too high (in the master,
    which must stay 0.5 dB under the MP3's limit to leave room for the encoder, or in the MP3), the
    ceiling drops by the excess and the audio is mastered again with the limiter watching true
    peaks (oversampled: slower, so only when needed).
    """
    try:
        return _master_and_encode(samples, sample_rate, destination, target_lufs, max_true_peak, bitrate)
    except OSError as exc:  # the MP3 could not be written: a full disk, most often
        raise OutputError(describe_write_error(destination, exc)) from None


def _master_and_encode(
    samples: np.ndarray, sample_rate: int, destination: Path, target_lufs: float, max_true_peak: float, bitrate: str
) -> Master:
    ceiling_db = max_true_peak - ENCODER_HEADROOM_DB
    max_true_peak_master = max_true_peak - (MAX_TRUE_PEAK_MP3 - MAX_TRUE_PEAK_WAV)
    aim, corrected, true_peak = target_lufs, False, False
    for _ in range(6):
        mastered = master(samples, sample_rate, aim, ceiling_db=ceiling_db, true_peak=true_peak)
        before = Loudness(round(float(mastered.loudness), 1), round(true_peak_db(mastered.samples, sample_rate), 1))
        if before.true_peak_dbtp > max_true_peak_master:
            # Lowering a sample-peak ceiling does not always lower the true peak of heavily
            # limited audio; from here the limiter watches the true peak itself.
            ceiling_db -= before.true_peak_dbtp - max_true_peak_master + 0.1
            true_peak = True
            continue
        with Mp3Encoder(destination, sample_rate, bitrate) as encoder:
            encoder.write(mastered.samples)
            encoder.finish()
        after = measure_loudness(destination)
        if after.true_peak_dbtp > max_true_peak:
            ceiling_db -= after.true_peak_dbtp - max_true_peak + 0.1
            true_peak = True
            continue
        if abs(after.integrated_lufs - target_lufs) <= LOUDNESS_TOLERANCE or corrected:
            return Master(before, after)
        # Heavy limiting and the encoder move the measured loudness; aim off by the miss, once.
        aim, corrected = aim + target_lufs - after.integrated_lufs, True
    raise AssemblyError(f"{destination}: could not bring the true peak under {max_true_peak} dBTP")


class Mp3Encoder:
    """ffmpeg turning float samples, written to it a piece at a time as 16-bit PCM, into a mono
    44.1 kHz CBR MP3. Use it as a context manager: leaving it unfinished stops ffmpeg."""

    def __init__(self, destination: Path, sample_rate: int, bitrate: str = MP3_BITRATE) -> None:
        self.destination = destination
        # fmt: off
        arguments = [
            "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
            "-ac", "1", "-ar", str(MP3_RATE), "-c:a", "libmp3lame", "-b:a", bitrate,
            "-compression_level", str(LAME_QUALITY), "-id3v2_version", "0", str(destination),
        ]
        # fmt: on
        self._errors = tempfile.TemporaryFile()
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
        )

    def __enter__(self) -> Mp3Encoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def write(self, samples: np.ndarray) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise AssemblyError(f"{self.destination}: the encoder is already finished")
        try:
            for start in range(0, len(samples), 1 << 20):
                process.stdin.write((np.clip(samples[start : start + (1 << 20)], -1.0, 1.0) * 32767.0).astype(np.int16).tobytes())
        except BrokenPipeError:
            self.finish()  # ffmpeg stopped early: its error says why
            raise AssemblyError(f"ffmpeg stopped while encoding {self.destination}") from None

    def finish(self) -> None:
        """Wait for the last frames; an ffmpeg failure becomes one AssemblyError that says why."""
        if self._process is None:
            return
        process, self._process = self._process, None
        try:
            if process.stdin is not None:
                process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg is gone; its exit status and error say why
        returncode = process.wait()
        self._errors.seek(0)
        message = self._errors.read().decode(errors="replace").strip()[-400:]
        self._errors.close()
        if returncode == 0:
            return
        if "No space left" in message:
            raise AssemblyError(
                f"The disk is full while encoding {self.destination}; free some space and run again (the segment cache is kept)"
            )
        raise AssemblyError(f"ffmpeg failed on {self.destination}: {message}")

    def stop(self) -> None:
        """Stop ffmpeg if it has not finished (after an error elsewhere)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
            self._errors.close()


def write_tags(
    mp3: Path,
    *,
    title: str,
    programme: str,
    author: str,
    date: str,
    number: int,
    cover_jpeg: bytes,
    chapters: tuple[Chapter, ...],
    description: str,
) -> None:
    """ID3v2.4: title, artist, album, date, episode number, language, cover, and CHAP frames under a CTOC."""
    from mutagen import MutagenError
    from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TRCK, CTOCFlags

    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text=author))
    tags.add(TALB(encoding=3, text=programme))
    tags.add(TCON(encoding=3, text="Podcast"))
    tags.add(TDRC(encoding=3, text=date))
    tags.add(TRCK(encoding=3, text=str(number)))
    tags.add(TLAN(encoding=3, text="chi"))
    tags.add(COMM(encoding=3, lang="chi", desc="", text=description))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=cover_jpeg))
    ids = [f"chp{n}" for n in range(len(chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text="目录")],
        )
    )
    for element_id, chapter in zip(ids, chapters):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=int(chapter.start * 1000),
                end_time=int(chapter.end * 1000),
                sub_frames=[TIT2(encoding=3, text=chapter.title)],
            )
        )
    try:
        tags.save(str(mp3), v2_version=4)
    except MutagenError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, OSError) else OSError(str(exc))
        raise OutputError(describe_write_error(mp3, cause)) from None
