"""The MP3: the encoder, the cheap check of what it wrote, ID3 tags with chapters, and decoding and
measuring a file, all with the ffmpeg that imageio-ffmpeg ships (no system package needed)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .episode import Chapter
from .errors import AssemblyError, OutputError
from .files import describe_write_error
from .mastering import Loudness

MP3_RATE = 44100
MP3_BITRATE = "96k"
# LAME's quality setting (0 best and slowest, 9 fastest): 7 encodes speech 2.4 times faster than the
# default with the same intelligibility (ASR CER measured with benchmarks/intelligibility.py).
LAME_QUALITY = 7
MP3_LENGTH_TOLERANCE = 0.1  # seconds between the MP3's length and what was encoded


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary inside the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


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


def measure_loudness(path: Path) -> Loudness:
    """ITU-R BS.1770 integrated loudness and true peak of an audio file, as ffmpeg's ebur128 filter reads them."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",  # tags in the stream's metadata may be cut mid-character
    )
    summary = result.stderr.rsplit("Summary:", 1)[-1]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if result.returncode != 0 or not integrated or not peak:
        raise AssemblyError(f"{path}: ffmpeg could not measure loudness: {result.stderr[-300:]}")
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def decode(source: Path | bytes, sample_rate: int = 24000) -> np.ndarray:
    """Decode an audio file, or encoded audio bytes, to mono float32 samples at `sample_rate`."""
    data = source if isinstance(source, bytes) else None
    result = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            "pipe:0" if data is not None else str(source),
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            "-f",
            "s16le",
            "-",
        ],
        input=data,
        capture_output=True,
    )
    if result.returncode != 0 or (data is not None and not result.stdout):
        what = "the audio received" if data is not None else str(source)
        raise AssemblyError(f"{what}: ffmpeg cannot decode it: {result.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32) / 32768.0
