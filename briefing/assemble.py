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
from .measure import Loudness, ffmpeg_exe, integrated_loudness, measure_loudness, true_peak_db, true_peaks
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
LOUDNESS_TOLERANCE = 0.5  # LU between the target and what ffmpeg measures in the MP3
PAUSE_SECONDS = {Pause.CLAUSE: 0.28, Pause.SENTENCE: 0.5, Pause.PARAGRAPH: 0.7, Pause.STORY: 0.6}
CUE_CHARS = 24  # a transcript line joins clauses up to this many characters
INTRO_SPEECH_START = 1.6  # the intro sting plays alone this long, then fades under the voice
AudioSegment.converter = ffmpeg_exe()


@dataclass(frozen=True)
class Mix:
    """The episode before encoding: mastered samples and the timing of everything in it."""

    samples: np.ndarray
    sample_rate: int
    cues: tuple[Cue, ...]
    chapters: tuple[Chapter, ...]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def mix_episode(script: Script, audio: list[SpeechAudio]) -> Mix:
    """Join the segments with pauses that follow the script, a chime between stories, sting and fades.

    The pieces are gathered and joined once: adding to one growing track copies it each time, which
    made a long episode's mix take time quadratic in its length."""
    if len(audio) != len(script.segments):
        raise AssemblyError(f"Got audio for {len(audio)} of {len(script.segments)} segments")
    pieces: list[np.ndarray] = [_silence(INTRO_SPEECH_START)]
    cues: list[Cue] = []
    position = INTRO_SPEECH_START
    chime = _pcm(_to_segment(chime_tone()))
    for index, (segment, speech) in enumerate(zip(script.segments, audio)):
        spoken = _pcm(_to_segment(speech))
        pieces.append(spoken)
        cues += [
            Cue(round(position + start, 3), round(position + end, 3), text, segment.story, segment.role.value)
            for start, end, text in timed_lines(segment.text, segment.spoken, speech)
        ]
        position += len(spoken) / EPISODE_RATE
        is_last = index == len(script.segments) - 1
        if segment.pause == Pause.STORY and not is_last:
            gap = [_silence(PAUSE_SECONDS[Pause.STORY]), chime, _silence(0.35)]
        else:
            gap = [_silence(0.0 if is_last else PAUSE_SECONDS[segment.pause])]
        pieces += gap
        position += sum(len(piece) for piece in gap) / EPISODE_RATE
    pieces += [_silence(0.6), chime, _silence(1.2)]
    track = np.concatenate(pieces, dtype=np.float32)
    del pieces
    sting = _pcm(_to_segment(intro_sting())).astype(np.float32)
    overlap = min(len(sting), len(track))
    track[:overlap] = np.clip(track[:overlap] + sting[:overlap], -32768, 32767)
    samples = _faded(track, fade_in=0.03, fade_out=1.5)
    samples /= 32768.0
    return Mix(
        samples=samples, sample_rate=EPISODE_RATE, cues=tuple(cues), chapters=tuple(_chapters(script, cues, len(samples) / EPISODE_RATE))
    )


def _pcm(segment: AudioSegment) -> np.ndarray:
    return np.array(segment.get_array_of_samples(), dtype=np.int16)


def _faded(track: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    """Linear fades in and out, from silence (-120 dB) to full level."""
    floor = 10 ** (-120 / 20)
    head, tail = int(fade_in * EPISODE_RATE), int(fade_out * EPISODE_RATE)
    track[:head] *= np.linspace(floor, 1.0, head, endpoint=False, dtype=np.float32)
    track[len(track) - tail :] *= np.linspace(1.0, floor, tail, endpoint=False, dtype=np.float32)
    return track


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
    return np.zeros(int(round(seconds * EPISODE_RATE)), dtype=np.int16)


def _to_segment(audio: SpeechAudio | np.ndarray) -> AudioSegment:
    samples, rate = (audio.samples, audio.sample_rate) if isinstance(audio, SpeechAudio) else (audio, EPISODE_RATE)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
    return segment if rate == EPISODE_RATE else segment.set_frame_rate(EPISODE_RATE)


def _bell(frequency: float, seconds: float, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * EPISODE_RATE)) / EPISODE_RATE
    partials = (
        np.sin(2 * np.pi * frequency * t)
        + 0.35 * np.sin(2 * np.pi * 2.01 * frequency * t)
        + 0.12 * np.sin(2 * np.pi * 3.98 * frequency * t)
    )
    attack = np.minimum(1.0, t / 0.008)
    return (partials * attack * np.exp(-t / decay)).astype(np.float32)


def chime_tone() -> np.ndarray:
    """Two soft bell notes (a rising fifth): the mark between stories."""
    first, second = _bell(659.25, 0.9, 0.22), _bell(987.77, 0.9, 0.3)
    offset = int(0.16 * EPISODE_RATE)
    out = np.zeros(offset + len(second), dtype=np.float32)
    out[: len(first)] += first
    out[offset:] += second
    return 0.18 * out / np.max(np.abs(out))


def intro_sting() -> np.ndarray:
    """A rising four-note arpeggio that rings on under the first words of the intro."""
    notes = [523.25, 659.25, 783.99, 1046.5]
    step = int(0.2 * EPISODE_RATE)
    out = np.zeros(step * len(notes) + int(2.6 * EPISODE_RATE), dtype=np.float32)
    for n, frequency in enumerate(notes):
        tone = _bell(frequency, 2.6, 0.5 + 0.15 * n)
        out[n * step : n * step + len(tone)] += tone
    return 0.22 * out / np.max(np.abs(out))


def master(
    samples: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS, ceiling_db: float = -2.0, true_peak: bool = False
) -> tuple[np.ndarray, float]:
    """Normalize integrated loudness to `target_lufs`, holding peaks under `ceiling_db`: sample
    peaks, or with `true_peak` the peaks between samples too (slower). Returns the samples and
    their integrated loudness."""
    out = samples.astype(np.float32)
    loudness = integrated_loudness(out, sample_rate)
    if not math.isfinite(loudness):
        raise AssemblyError("The episode is silent: every segment came back without sound")
    for _ in range(4):  # limiting lowers loudness a little; converge in a few rounds
        out *= np.float32(10 ** ((target_lufs - loudness) / 20))
        out = limit(out, 10 ** (ceiling_db / 20), sample_rate, true_peak=true_peak, in_place=True)
        loudness = integrated_loudness(out, sample_rate)
        if abs(loudness - target_lufs) < 0.2:
            break
    return out, loudness


def limit(
    samples: np.ndarray,
    ceiling: float,
    sample_rate: int,
    block_seconds: float = 0.005,
    reach: int = 6,
    true_peak: bool = False,
    in_place: bool = False,
) -> np.ndarray:
    """A look-ahead peak limiter: per-block gain, widened by a min filter and then smoothed.

    The smoothing window is no wider than the min filter, so no sample ends up above `ceiling`.
    With `true_peak`, peaks are found on the signal oversampled four times, as a true-peak meter
    finds them, so the peaks between samples stay under `ceiling` too. With `in_place`, float32
    `samples` are scaled where they are (a long episode needs no second copy).
    """
    block = max(1, int(block_seconds * sample_rate))
    chunk = block * 20_000  # the signal is read and scaled a chunk at a time, so memory stays flat
    peaks = np.concatenate(
        [_block_peaks(samples, start, min(start + chunk, len(samples)), block, true_peak) for start in range(0, len(samples), chunk)]
    )
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if needed.min() >= 1.0:
        return samples
    edge = np.pad(needed, reach, mode="edge")
    widened = np.lib.stride_tricks.sliding_window_view(edge, 2 * reach + 1).min(axis=1)
    smooth = np.convolve(np.pad(widened, reach, mode="edge"), np.ones(2 * reach + 1) / (2 * reach + 1), mode="valid")
    centres = (np.arange(len(smooth)) + 0.5) * block
    out = samples if in_place and samples.dtype == np.float32 else samples.astype(np.float32)
    for start in range(0, len(out), chunk):
        out[start : start + chunk] *= np.interp(np.arange(start, min(start + chunk, len(out))), centres, smooth).astype(np.float32)
    return out


def _block_peaks(samples: np.ndarray, start: int, stop: int, block: int, true_peak: bool) -> np.ndarray:
    """The highest sample in each block of `samples[start:stop]` (with `true_peak`, between samples too)."""
    detected = true_peaks(samples, start, stop) if true_peak else np.abs(samples[start:stop])
    return np.pad(detected, (0, (-len(detected)) % block)).reshape(-1, block).max(axis=1)


@dataclass(frozen=True)
class Master:
    """Loudness of the mastered WAV before encoding and of the MP3 after."""

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
    """Master to `target_lufs` and encode mono 44.1 kHz CBR MP3 with its true peak at or under `max_true_peak`.

    The limiter works on sample peaks; when a meter finds the true peak too high (in the WAV, which
    must stay 0.5 dB under the MP3's limit to leave room for the encoder, or in the MP3), the
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
    ceiling_db = max_true_peak - 1.0
    max_true_peak_wav = max_true_peak - (MAX_TRUE_PEAK_MP3 - MAX_TRUE_PEAK_WAV)
    aim, corrected, true_peak = target_lufs, False, False
    for _ in range(6):
        mastered, loudness = master(samples, sample_rate, aim, ceiling_db=ceiling_db, true_peak=true_peak)
        # The master is measured here (its true peak oversampled four times, as ffmpeg's meter does);
        # only the MP3, the file listeners get, is measured by ffmpeg.
        before = Loudness(round(float(loudness), 1), round(true_peak_db(mastered, sample_rate), 1))
        if before.true_peak_dbtp > max_true_peak_wav:
            # Lowering a sample-peak ceiling does not always lower the true peak of heavily
            # limited audio; from here the limiter watches the true peak itself.
            ceiling_db -= before.true_peak_dbtp - max_true_peak_wav + 0.1
            true_peak = True
            continue
        _run_ffmpeg(
            [
                "-f",
                "s16le",
                "-ar",
                str(sample_rate),
                "-ac",
                "1",
                "-i",
                "pipe:0",
                "-ac",
                "1",
                "-ar",
                str(MP3_RATE),
                "-c:a",
                "libmp3lame",
                "-b:a",
                bitrate,
                "-compression_level",
                str(LAME_QUALITY),
                "-id3v2_version",
                "0",
                str(destination),
            ],
            mastered,
        )
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


def _run_ffmpeg(arguments: list[str], samples: np.ndarray | None = None) -> None:
    """Run ffmpeg; with `samples`, fed to it as 16-bit PCM a chunk at a time (no copy of the whole episode)."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *arguments]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE if samples is not None else subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors
        )
        if samples is not None and process.stdin is not None:
            try:
                for start in range(0, len(samples), 1 << 20):
                    process.stdin.write((np.clip(samples[start : start + (1 << 20)], -1.0, 1.0) * 32767.0).astype(np.int16).tobytes())
            except BrokenPipeError:
                pass  # ffmpeg stopped early; its error says why
            finally:
                process.stdin.close()
        returncode = process.wait()
        errors.seek(0)
        stderr = errors.read()
    if returncode != 0:
        message = stderr.decode(errors="replace").strip()[-400:]
        if "No space left" in message:
            raise AssemblyError(
                f"The disk is full while encoding {arguments[-1]}; free some space and run again (the segment cache is kept)"
            )
        raise AssemblyError(f"ffmpeg failed on {arguments[-1]}: {message}")


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
