"""Mastering: the loudness meter, true peaks, the limiter, and every loudness target in one place.

Pure signal processing on mono float32 samples (numpy, scipy and pyloudnorm's K-weighting); no
files, no encoder. The episode writer (`mix`) levels each segment with `master`; the Alexa clips
are mastered whole (`alexa`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import AssemblyError

# Loudness targets and margins, and why each has its value.
TARGET_LUFS = -19.0  # mono spoken word (AES TD1004)
MAX_TRUE_PEAK_MP3 = -1.0  # dBTP in the published MP3
MAX_TRUE_PEAK_WAV = -1.5  # dBTP in a whole clip's master before encoding (see alexa.master_and_encode)
# LAME, as ffmpeg runs it, scales every signal by 0.95 (-0.45 dB; measured on speech, tones and
# noise, and read back by two decoders): the episode's master aims this much louder.
ENCODER_GAIN_DB = -0.45
# The master's true peak stays this far under the MP3's limit, for what encoding adds to peaks: on
# the offline voice the MP3 peaks 0.1 dB above the master less LAME's 0.45 dB. (0.5 rather than
# 1 dB: less limiting, and the ASR reads the offline voice a little better.)
ENCODER_HEADROOM_DB = 0.5
# A segment aims at the target plus STEER times how far the episode so far is off it, at most
# MAX_STEER_DB: what is left of a steady offset is 1 / (1 + STEER) of it.
STEER, MAX_STEER_DB = 4.0, 0.5  # half a decibel between segments goes unheard
LOUDNESS_TOLERANCE = 0.5  # LU between the target and what ffmpeg measures in the MP3


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


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
