"""The synthesize stage with the test-only tone engine: cache, fallback, breaker and executors, in process."""

import pickle
import signal
import subprocess
import sys
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from briefing.errors import SynthesisError
from briefing.script import Role, Segment
from briefing.synthesize import SegmentCache, SegmentJob, SynthesisSettings, synthesize_all, synthesize_one
from briefing.voices import VoicePreset
from briefing.workers import JobPlaces

from .conftest import ROOT
from .fakes import tone_engine

TONE = VoicePreset(name="tone", engine="tone", engine_voice="440")
LOW = VoicePreset(name="low", engine="tone", engine_voice="220")
BROKEN = VoicePreset(name="broken", engine="tone", engine_voice="broken", fallback="tone")
SILENT = VoicePreset(name="silent", engine="tone", engine_voice="silent", fallback="tone")
IN_PROCESS = SynthesisSettings(workers=1)


def segments(*texts: str) -> list[Segment]:
    return [Segment(None, Role.BODY, text, text) for text in texts]


TEXTS = ("今天天气晴朗。", "全市新增就业岗位一万个，", "比去年同期增长百分之五。", "明天有小雨。")


def test_the_first_run_synthesizes_and_the_second_reuses_the_same_audio(tmp_path: Path):
    cache = SegmentCache(tmp_path)
    first_audio, first = synthesize_all(segments(*TEXTS), [(TONE,)] * 4, cache, IN_PROCESS)
    second_audio, second = synthesize_all(segments(*TEXTS), [(TONE,)] * 4, cache, IN_PROCESS)
    assert (first.synthesized, first.reused) == (4, 0) and (second.synthesized, second.reused) == (0, 4)
    for made, cached in zip(first_audio, second_audio):
        assert made.sample_rate == cached.sample_rate == tone_engine.ToneEngine.sample_rate
        assert len(made.samples) == len(cached.samples) and np.max(np.abs(made.samples - cached.samples)) < 1e-4
        assert [w.text for w in made.words] == [w.text for w in cached.words]
    assert second.segments_per_preset == {"tone": 4}


def test_the_cache_key_follows_the_engine_voice_and_prosody(tmp_path: Path):
    cache = SegmentCache(tmp_path)
    keys = {cache.key(preset, "你好") for preset in (TONE, LOW, VoicePreset(name="fast", engine="tone", engine_voice="440", rate="+20%"))}
    assert len(keys) == 3 and cache.key(TONE, "你好") == cache.key(VoicePreset(name="renamed", engine="tone", engine_voice="440"), "你好")


def test_a_failing_preset_falls_back_segment_by_segment(tmp_path: Path):
    texts = ("第一句。", "第二句。", "第三句。")
    report_audio, report = synthesize_all(segments(*texts), [(TONE,), (BROKEN, LOW), (TONE,)], SegmentCache(tmp_path), IN_PROCESS)
    assert report.presets == ("tone", "low", "tone") and len(report.fallbacks) == 1
    assert report.fallbacks[0].segment == 1 and report.fallbacks[0].preset == "broken" and report.fallbacks[0].fallback == "low"
    with pytest.raises(SynthesisError, match=r"Segment 2 .*'tone' then 'low'"):
        synthesize_all(segments("好的。", "坏了。"), [(TONE, LOW)] * 2, SegmentCache(tmp_path / "other"), IN_PROCESS)


def test_silence_from_an_engine_is_rejected_and_falls_back(tmp_path: Path):
    report_audio, report = synthesize_all(segments(*TEXTS[:2]), [(SILENT, TONE)] * 2, SegmentCache(tmp_path), IN_PROCESS)
    assert report.presets == ("tone", "tone") and all("silence" in f.reason for f in report.fallbacks)


def test_the_breaker_skips_the_rest_of_a_preset_after_failures_in_a_row(tmp_path: Path):
    texts = [f"第{n}句。" for n in range(12)]
    # One thread, so the jobs wait in a queue the breaker can cancel.
    with ThreadPoolExecutor(max_workers=1) as one_thread:
        report_audio, report = synthesize_all(
            segments(*texts),
            [(BROKEN, TONE)] * 12,
            SegmentCache(tmp_path),
            SynthesisSettings(breaker=2),
            places=JobPlaces(executor=one_thread),
        )
    assert report.presets == ("tone",) * 12
    skipped = [f for f in report.fallbacks if f.reason.startswith("not tried")]
    assert len(skipped) >= 12 - 3 and "2 segments failed in a row" in skipped[0].reason


def test_jobs_run_on_the_executor_the_caller_passes_and_it_stays_open(tmp_path: Path):
    class Counting(ThreadPoolExecutor):
        submitted = 0

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            Counting.submitted += 1
            return super().submit(fn, *args, **kwargs)

    with Counting(max_workers=2) as executor:
        report_audio, report = synthesize_all(
            segments(*TEXTS), [(TONE,)] * 4, SegmentCache(tmp_path), SynthesisSettings(), places=JobPlaces(executor=executor)
        )
        assert executor.submit(sum, [1, 2]).result() == 3  # not shut down by the stage
    assert Counting.submitted == 5 and report.synthesized == 4


def test_a_segment_job_pickles_and_carries_everything_a_fresh_worker_needs():
    job = SegmentJob("tone", tone_engine.__name__, tone_engine.EngineSettings(), "今天，晴。", TONE)
    audio = synthesize_one(pickle.loads(pickle.dumps(job)))
    assert abs(audio.duration - 3 * tone_engine.SECONDS_PER_CHARACTER) < 0.01 and [w.text for w in audio.words] == ["今天", "晴"]


def test_a_process_pool_makes_the_same_audio_as_this_process(tmp_path: Path):
    texts = [f"第{n}条新闻，今天发布。" for n in range(6)]
    here_audio, here = synthesize_all(segments(*texts), [(TONE,)] * 6, SegmentCache(tmp_path / "here"), IN_PROCESS)
    pool_audio, pool = synthesize_all(segments(*texts), [(TONE,)] * 6, SegmentCache(tmp_path / "pool"), SynthesisSettings(workers=2))
    assert [len(a.samples) for a in pool_audio] == [len(a.samples) for a in here_audio]
    assert all(np.allclose(a.samples, b.samples, atol=1e-4) for a, b in zip(pool_audio, here_audio))


def test_a_truncated_cache_entry_is_made_again_not_stitched_in(tmp_path: Path):
    cache = SegmentCache(tmp_path)
    texts = ("今天天气晴朗，适合出行。", "明天有小雨。")
    first_audio, first = synthesize_all(segments(*texts), [(TONE,)] * 2, cache, SynthesisSettings(workers=1))
    entry = cache.path(cache.key(TONE, texts[0]))
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # a copy or a disk that stopped half way
    again_audio, again = synthesize_all(segments(*texts), [(TONE,)] * 2, cache, SynthesisSettings(workers=1))
    assert (again.synthesized, again.reused) == (1, 1)
    assert [a.duration for a in again_audio] == [a.duration for a in first_audio]
    with wave.open(str(entry), "rb") as repaired:
        assert repaired.getnframes() == len(first_audio[0].samples)


KILLED_RUN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from tests.fakes import tone_engine
from briefing.script import Role, Segment
from briefing.synthesize import SegmentCache, SynthesisSettings, synthesize_all
from briefing.voices import VoicePreset
slow = VoicePreset(name="slow", engine="tone", engine_voice="slow")
texts = [f"第{n}条新闻。" for n in range(40)]
print("started", flush=True)
synthesize_all([Segment(None, Role.BODY, t, t) for t in texts], [(slow,)] * 40, SegmentCache(Path(sys.argv[2])), SynthesisSettings(workers=2))
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_pool_workers_exit_when_their_run_is_killed(tmp_path: Path):
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(ROOT), str(tmp_path / "cache")], stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout is not None and run.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [pid for pid in _children(run.pid) if "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool did not start"
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), "workers outlived the run that started them"
    finally:
        if run.poll() is None:
            run.kill()
