"""The example page's episode, built for real with the offline engine and read back."""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from briefing.build import make_episode
from briefing.config import Config
from briefing.engines.offline import OfflineEngine
from briefing.errors import OutputError, SynthesisError
from briefing.files import LOCK_FILE
from briefing.mastering import LOUDNESS_TOLERANCE, TARGET_LUFS
from briefing.mix import PAUSE_SECONDS
from briefing.mp3 import decode, measure_loudness
from briefing.publish import PUBLISHED_FILE
from briefing.script import read_script

from .conftest import EPISODE_DATE, EXAMPLE_PAGE, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode_dir(episode_root: Path) -> Path:
    return episode_root / EPISODE_DATE


@pytest.fixture(scope="module")
def script(episode_dir: Path):
    return read_script(episode_dir / "script.json")


def test_episode_folder_is_complete(episode_dir: Path):
    names = {p.name for p in episode_dir.iterdir()}
    assert names == {"episode.mp3", "episode.json", "script.json", "script.md", "chapters.json", "transcript.srt", "transcript.vtt"}
    assert (episode_dir.parent / "cover.png").exists()
    assert not [p for p in episode_dir.parent.iterdir() if p.name.startswith(".") and p.name not in (LOCK_FILE, PUBLISHED_FILE)]


def test_mp3_format_and_duration_match_the_script(episode_dir: Path, script):
    mp3 = MP3(episode_dir / "episode.mp3")
    assert (mp3.info.sample_rate, mp3.info.channels, mp3.info.bitrate) == (44100, 1, 96000)
    assert mp3.info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    decoded_seconds = len(decode(episode_dir / "episode.mp3", 8000)) / 8000
    assert abs(decoded_seconds - mp3.info.length) < 0.2
    characters = sum(len(re.sub(r"[，。！？、；：]", "", s.spoken)) for s in script.segments)
    pauses = sum(PAUSE_SECONDS[s.pause] for s in script.segments) + 1.0 * len(script.stories) + 5
    assert characters / 6.0 + pauses < mp3.info.length < characters / 3.5 + pauses


def test_loudness_and_true_peak(episode_dir: Path):
    loudness = measure_loudness(episode_dir / "episode.mp3")
    assert abs(loudness.integrated_lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE
    assert loudness.true_peak_dbtp <= -1.0
    manifest = json.loads((episode_dir / "episode.json").read_text(encoding="utf-8"))
    assert manifest["audio"]["bytes"] == (episode_dir / "episode.mp3").stat().st_size
    # What the episode reports is what ffmpeg measures in the MP3.
    assert abs(manifest["loudness"]["integrated_lufs"] - loudness.integrated_lufs) <= 0.2
    assert abs(manifest["loudness"]["true_peak_dbtp"] - loudness.true_peak_dbtp) <= 0.5


def test_id3_tags_and_chapters_match_the_stories(episode_dir: Path, script):
    tags = ID3(episode_dir / "episode.mp3")
    assert tags.version[:2] == (2, 4)
    assert str(tags["TALB"]) == script.programme and str(tags["TRCK"]) == "1" and str(tags["TLAN"]) == "chi"
    assert str(tags["TDRC"]) == EPISODE_DATE and tags.getall("APIC")[0].data[:2] == b"\xff\xd8"
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    titles = [str(c.sub_frames["TIT2"]) for c in chapters]
    assert titles == ["开场", *[s.title for s in script.stories], "结束"]
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chapters]
    starts = [c.start_time for c in chapters]
    assert starts == sorted(starts) and starts[0] == 0
    assert all(a.end_time == b.start_time for a, b in zip(chapters, chapters[1:]))
    assert abs(chapters[-1].end_time / 1000 - MP3(episode_dir / "episode.mp3").info.length) < 0.5
    json_chapters = json.loads((episode_dir / "chapters.json").read_text(encoding="utf-8"))["chapters"]
    assert [c["title"] for c in json_chapters] == titles


def _vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    blocks = path.read_text(encoding="utf-8").split("\n\n")
    cues = []
    for block in blocks:
        lines = [line for line in block.splitlines() if line]
        for i, line in enumerate(lines):
            if " --> " in line:
                start, end = line.split(" --> ")
                cues.append((seconds(start), seconds(end), "\n".join(lines[i + 1 :])))
    return cues


@pytest.mark.parametrize("name", ["transcript.vtt", "transcript.srt"])
def test_transcripts_use_written_text_at_real_times(episode_dir: Path, script, name: str):
    cues = _vtt_cues(episode_dir / name)
    length = MP3(episode_dir / "episode.mp3").info.length
    # Every written word in order; the engine's clause timings cut long segments into shorter lines.
    assert "".join(text for _, _, text in cues) == "".join(s.text for s in script.segments)
    assert len(script.segments) < len(cues)
    assert all(len(text) <= 24 or not re.search("[，。；：！？]", text[:-1]) for _, _, text in cues)  # long lines are one clause
    assert all(start < end <= length for start, end, _ in cues)
    assert all(a[1] <= b[0] for a, b in zip(cues, cues[1:]))


def test_warm_rerun_reuses_every_segment(episode_root: Path, isolated_cache: Path):
    from .conftest import run_cli

    result = run_cli("daily", str(EXAMPLE_PAGE), "--out", str(episode_root), "--date", EPISODE_DATE)
    assert result.returncode == 0, result.stderr
    assert re.search(r"0 segments synthesized, \d+ reused", result.stdout)


def test_killed_run_resumes_from_the_cache(tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    env = {**os.environ, "BRIEFING_CACHE_DIR": str(cache)}
    command = [sys.executable, str(ROOT / "cli.py"), "daily", str(EXAMPLE_PAGE), "--out", str(out), "--date", "2026-11-27"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(cache.glob("segments/*/*.wav"))) < 6 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    made_before_kill = len(list(cache.glob("segments/*/*.wav")))
    assert made_before_kill >= 6
    assert not (out / "2026-11-27" / "episode.json").exists()  # nothing that looks finished
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    reused = int(re.search(r"(\d+) reused", result.stdout).group(1))
    assert reused >= made_before_kill - 2  # a file being written at the kill may be lost, never corrupt
    assert (out / "2026-11-27" / "episode.json").exists()


def test_tts_failure_mid_episode_keeps_finished_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script):
    config = Config.from_dict({"workers": 1, "cache_dir": str(tmp_path / "cache")})
    real = OfflineEngine.synthesize
    calls = {"n": 0}

    def failing(self, spoken_text, voice, prepared=None):
        calls["n"] += 1
        if calls["n"] == 5:
            raise SynthesisError("the engine crashed on segment 5")
        return real(self, spoken_text, voice, prepared)

    monkeypatch.setattr(OfflineEngine, "synthesize", failing)
    with pytest.raises(SynthesisError, match="Segment 5 .* with 'offline': the engine crashed on segment 5"):
        make_episode(script, config, tmp_path / "out")
    # The other segments were still made and cached; no half-made episode appears.
    assert len(list((tmp_path / "cache").glob("segments/*/*.wav"))) == len(script.segments) - 1
    assert not (tmp_path / "out" / EPISODE_DATE).exists()
    monkeypatch.setattr(OfflineEngine, "synthesize", real)
    episode = make_episode(script, config, tmp_path / "out")
    assert episode.synthesis.reused == len(script.segments) - 1 and episode.synthesis.synthesized == 1 and episode.mp3.exists()


def test_full_disk_keeps_the_previous_episode(episode_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script):
    out = tmp_path / "out"
    shutil.copytree(episode_root, out)
    before = (out / EPISODE_DATE / "episode.mp3").read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("briefing.files.os.fsync", disk_full)
    with pytest.raises(OutputError, match="the disk is full"):
        make_episode(script, Config(), out)
    assert (out / EPISODE_DATE / "episode.mp3").read_bytes() == before
    assert (out / EPISODE_DATE / "episode.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name not in (LOCK_FILE, PUBLISHED_FILE)]


def test_true_peak_limiting_holds_the_peaks_between_samples():
    import numpy as np
    from scipy.signal import resample_poly

    from briefing.mastering import limit

    rate = 44100
    # A sine at a quarter of the sample rate, sampled 45 degrees off its crests: every sample is at
    # 0.707 of the real peak, so a sample-peak limiter sees less than a true-peak meter does.
    tone = np.sin(2 * np.pi * (rate / 4) * np.arange(rate) / rate + np.pi / 4)
    ceiling = 0.5

    def true_peak(samples: np.ndarray) -> float:
        return float(np.max(np.abs(resample_poly(samples, 4, 1)[400:-400])))

    by_samples = limit(tone, ceiling, rate)
    assert np.max(np.abs(by_samples)) <= ceiling + 1e-9 and true_peak(by_samples) > ceiling * 1.3
    by_true_peaks = limit(tone, ceiling, rate, true_peak=True)
    assert true_peak(by_true_peaks) <= ceiling * 1.01
