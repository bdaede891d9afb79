"""Measure: decode audio and read loudness and true peak with the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import AssemblyError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary inside the imageio-ffmpeg wheel: no system package needed."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def measure_loudness(path: Path) -> Loudness:
    """ITU-R BS.1770 integrated loudness and true peak from ffmpeg's ebur128 filter."""
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


TRUE_PEAK_OVERSAMPLING = 4  # as ITU-R BS.1770 meters do below 96 kHz
_PEAK_CHUNK = 240_000  # samples oversampled at a time, so memory stays flat for a long episode
_FILTER_REACH = 10  # input samples either side that the interpolation filter reads (scipy's resample_poly uses the same)


@lru_cache(maxsize=1)
def _interpolation_filter() -> np.ndarray:
    """The low-pass FIR that interpolates four points per sample: scipy's resample_poly default."""
    from scipy.signal import firwin

    taps = 2 * _FILTER_REACH * TRUE_PEAK_OVERSAMPLING + 1
    return (firwin(taps, 1 / TRUE_PEAK_OVERSAMPLING, window=("kaiser", 5.0)) * TRUE_PEAK_OVERSAMPLING).astype(np.float32)


@lru_cache(maxsize=1)
def intersample_bound() -> float:
    """How far above the samples around it (within the filter's reach) a peak between samples can
    be: the largest sum of magnitudes of one phase of the interpolation filter (about 2.24)."""
    h = _interpolation_filter()
    return float(max(np.abs(h[phase::TRUE_PEAK_OVERSAMPLING]).sum() for phase in range(TRUE_PEAK_OVERSAMPLING)))


def true_peaks(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    """For each sample of `samples[start:stop]`, its magnitude or the highest peak between it and the
    next, from the signal oversampled four times (as ITU-R BS.1770 meters do)."""
    from scipy.signal import upfirdn

    context = 2 * _FILTER_REACH  # read either side, so the edges are interpolated from real samples
    low, high = max(0, start - context), min(len(samples), stop + context)
    oversampled = upfirdn(_interpolation_filter(), samples[low:high].astype(np.float32), TRUE_PEAK_OVERSAMPLING)
    delay = _FILTER_REACH * TRUE_PEAK_OVERSAMPLING  # oversampled[delay + 4 * i] falls on sample low + i
    between = np.abs(oversampled[delay + (start - low) * TRUE_PEAK_OVERSAMPLING : delay + (stop - low) * TRUE_PEAK_OVERSAMPLING])
    return np.maximum(np.abs(samples[start:stop]), between.reshape(-1, TRUE_PEAK_OVERSAMPLING).max(axis=1))


def true_peak_db(samples: np.ndarray, sample_rate: int) -> float:
    """The true peak in dBTP, a chunk at a time so memory stays flat for a long episode."""
    chunks = range(0, len(samples), _PEAK_CHUNK)
    peak = max((float(true_peaks(samples, start, min(start + _PEAK_CHUNK, len(samples))).max()) for start in chunks), default=0.0)
    return 20 * math.log10(peak) if peak > 0 else -math.inf


_BLOCK_STEP = 0.1  # BS.1770 gating blocks are 400 ms long and start every 100 ms


class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness (LUFS) of mono audio given a piece at a time: the
    K-weighting filters pyloudnorm uses, their state carried from piece to piece, so a long episode
    is measured as it is written, with no copy of itself."""

    def __init__(self, sample_rate: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf")
        high_pass = IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass")
        # The two stages as one fourth-order filter: the same output (to 1e-12), in one pass.
        self._b, self._a = np.convolve(shelf.b, high_pass.b), np.convolve(shelf.a, high_pass.a)
        self._state = np.zeros(len(self._a) - 1)
        self._step = int(_BLOCK_STEP * sample_rate)
        self._partial = np.zeros(0)  # filtered samples short of a whole step
        self._energies: list[np.ndarray] = []  # the mean square of each 100 ms step, K-weighted

    def add(self, samples: np.ndarray) -> LoudnessMeter:
        from scipy.signal import lfilter

        chunk = self._step * 100
        for start in range(0, len(samples), chunk):
            piece, self._state = lfilter(self._b, self._a, samples[start : start + chunk].astype(np.float64), zi=self._state)
            piece = np.concatenate([self._partial, piece])
            usable = len(piece) - len(piece) % self._step
            self._energies.append(np.mean(np.square(piece[:usable]).reshape(-1, self._step), axis=1))
            self._partial = piece[usable:]
        return self

    @property
    def integrated(self) -> float:
        """The gated loudness of everything added so far; -inf for silence or under 400 ms."""
        steps = np.concatenate(self._energies) if self._energies else np.zeros(0)
        if len(steps) < 4:
            return -math.inf
        blocks = np.lib.stride_tricks.sliding_window_view(steps, 4).mean(axis=1)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness >= -70.0]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
        gated = blocks[(loudness >= -70.0) & (loudness > relative)]
        return -0.691 + 10 * math.log10(float(gated.mean())) if gated.size else -math.inf


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """ITU-R BS.1770-4 integrated loudness (LUFS) of mono `samples`; -inf for silence."""
    return LoudnessMeter(sample_rate).add(samples).integrated


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
