"""The episode writer: mixing, mastering and encoding while segments arrive, checked by ffmpeg."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import numpy as np
import pytest

from briefing.config import Config
from briefing.engines import SpeechAudio, WordBoundary
from briefing.errors import AssemblyError
from briefing.mastering import LOUDNESS_TOLERANCE, TARGET_LUFS, integrated_loudness, master
from briefing.mix import EPISODE_RATE, EpisodeWriter
from briefing.mp3 import check_mp3, decode, measure_loudness
from briefing.pipeline import ingest_pages
from briefing.plan import make_script
from briefing.script import build_script
from briefing.summarize import Summary

PAGES = Path(__file__).parent / "pages"


@pytest.fixture(scope="module")
def script():
    return make_script(ingest_pages([PAGES / "wire-copy.txt"]).articles, Config(), dt.date(2026, 11, 26))


def voice(text: str, level: float, rate: int = 16000, seed: int = 0) -> SpeechAudio:
    """Speech-like audio: a buzz with a syllable envelope, 0.2 s a character, at `level` (peak)."""
    seconds = max(0.5, 0.2 * len(text))
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    buzz = sum(np.sin(2 * np.pi * f * t) / n for n, f in enumerate((140, 280, 420, 1100, 2500), start=1))
    syllables = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.5
    samples = buzz * syllables + 0.02 * rng.normal(size=len(t))
    samples = (level * samples / np.max(np.abs(samples))).astype(np.float32)
    return SpeechAudio(samples, rate, (WordBoundary(0.0, seconds, text),))


def write(script, audio: list[SpeechAudio], path: Path, order: list[int] | None = None):
    with EpisodeWriter(script, path) as writer:
        for index in order or range(len(audio)):
            writer.add(index, audio[index])
        return writer.finish()


def test_segments_arriving_in_any_order_make_the_same_episode(script, tmp_path: Path):
    audio = [voice(s.spoken, 0.5, seed=n) for n, s in enumerate(script.segments)]
    in_order = write(script, audio, tmp_path / "a.mp3")
    shuffled = list(range(len(audio)))
    random.Random(3).shuffle(shuffled)
    any_order = write(script, audio, tmp_path / "b.mp3", shuffled)
    assert any_order == in_order
    assert np.allclose(decode(tmp_path / "a.mp3"), decode(tmp_path / "b.mp3"), atol=1e-3)
    assert [c.title for c in in_order.chapters][:2] == ["开场", script.stories[0].title]
    assert in_order.chapters[-1].end == pytest.approx(in_order.duration, abs=1e-3)


def test_the_mp3_meets_the_loudness_target_and_the_reported_figures_are_what_ffmpeg_measures(script, tmp_path: Path):
    audio = [voice(s.spoken, 0.3, seed=n) for n, s in enumerate(script.segments)]
    made = write(script, audio, tmp_path / "episode.mp3")
    measured = measure_loudness(tmp_path / "episode.mp3")
    assert abs(measured.integrated_lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE / 2
    assert measured.true_peak_dbtp <= -1.0
    assert abs(made.loudness.integrated_lufs - measured.integrated_lufs) <= 0.2
    assert abs(made.loudness.true_peak_dbtp - measured.true_peak_dbtp) <= 0.5
    check_mp3(tmp_path / "episode.mp3", made.duration)


def test_voices_at_different_levels_come_out_even(script, tmp_path: Path):
    """A quiet voice, a loud one (clipping-close) and one at another rate, alternating: each
    segment is heard at the same loudness in the episode."""
    levels = [0.05, 0.95, 0.3]
    audio = [voice(s.spoken, levels[n % 3], rate=(24000 if n % 3 == 2 else 16000), seed=n) for n, s in enumerate(script.segments)]
    made = write(script, audio, tmp_path / "episode.mp3")
    episode = decode(tmp_path / "episode.mp3", EPISODE_RATE)
    loudness = []
    for cue in made.cues:
        piece = episode[int(cue.start * EPISODE_RATE) : int(cue.end * EPISODE_RATE)]
        if cue.start > 3.5 and len(piece) > EPISODE_RATE:  # past the intro music
            loudness.append(integrated_loudness(piece, EPISODE_RATE))
    assert len(loudness) >= 6 and max(loudness) - min(loudness) < 1.5


def test_an_episode_missing_a_segment_is_not_finished(script, tmp_path: Path):
    audio = [voice(s.spoken, 0.5) for s in script.segments]
    with EpisodeWriter(script, tmp_path / "episode.mp3") as writer:
        for index in range(1, len(audio)):
            writer.add(index, audio[index])
        with pytest.raises(AssemblyError, match=f"Got audio for 0 of {len(audio)} segments"):
            writer.finish()


def test_leaving_the_writer_on_an_error_stops_the_encoder(script, tmp_path: Path):
    with pytest.raises(RuntimeError, match="synthesis broke"):
        with EpisodeWriter(script, tmp_path / "episode.mp3") as writer:
            writer.add(0, voice(script.segments[0].spoken, 0.5))
            process = writer._encoder._process
            raise RuntimeError("synthesis broke")
    assert process is not None and process.poll() is not None


def test_a_cut_short_mp3_fails_the_check(script, tmp_path: Path):
    made = write(script, [voice(s.spoken, 0.5) for s in script.segments], tmp_path / "episode.mp3")
    data = (tmp_path / "episode.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    with pytest.raises(AssemblyError, match="not the"):
        check_mp3(tmp_path / "cut.mp3", made.duration)
    (tmp_path / "noise.mp3").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4000)))
    with pytest.raises(AssemblyError):
        check_mp3(tmp_path / "noise.mp3", made.duration)


def test_a_segment_too_short_to_measure_takes_the_gain_before_it():
    short = voice("好", 0.1).samples[:3000]  # under the 400 ms a loudness reading needs
    assert not math.isfinite(integrated_loudness(short, 16000))
    mastered = master(short, 16000, TARGET_LUFS, true_peak=True, gain_db_if_unmeasurable=6.0)
    assert mastered.gain_db == 6.0 and np.allclose(mastered.samples, short * 10 ** (6 / 20), atol=1e-6)
    with pytest.raises(AssemblyError, match="silent"):
        master(short, 16000, TARGET_LUFS)


def test_one_segment_episode(tmp_path: Path):
    script = build_script([Summary("短讯", ("今天全市天气晴朗。",))], dt.date(2026, 11, 26), Config())
    made = write(script, [voice(s.spoken, 0.4) for s in script.segments], tmp_path / "episode.mp3")
    assert made.duration == pytest.approx(mp3_length(tmp_path / "episode.mp3"), abs=0.1)


def mp3_length(path: Path) -> float:
    from mutagen.mp3 import MP3

    return MP3(str(path)).info.length
