"""The online engine: the real edge-tts client against a local server that speaks its protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from briefing.engines import EngineSettings, create_engine
from briefing.errors import SynthesisError
from briefing.mastering import LOUDNESS_TOLERANCE, TARGET_LUFS
from briefing.mp3 import measure_loudness
from briefing.voices import VoicePreset

from .conftest import EPISODE_DATE, EXAMPLE_PAGE, run_cli
from .fakes.edge_service import FAULTS, LocalEdgeService

YUNYANG = VoicePreset(name="yunyang", engine="edge", engine_voice="zh-CN-YunyangNeural", fallback="offline")
# Two short stories keep each episode quick; the service settings make faults cheap to wait out.
CONFIG = """
max_stories = 2
story_seconds = 15
retries = 2
retry_delay = 0.05
timeout = 1
connections = {connections}
breaker = {breaker}
"""


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("BRIEFING_CACHE_DIR", str(tmp_path / "cache"))  # every test talks to the service afresh
    with LocalEdgeService() as running:
        monkeypatch.setenv("BRIEFING_EDGE_ENDPOINT", running.url)
        yield running


def daily(tmp_path: Path, *options: str, connections: int = 4, breaker: int = 5):
    config = tmp_path / "briefing.toml"
    config.write_text(CONFIG.format(connections=connections, breaker=breaker), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("daily", str(EXAMPLE_PAGE), "--out", str(out), "--date", EPISODE_DATE, "--config", str(config), *options)
    manifest_path = out / EPISODE_DATE / "episode.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else None
    return result, manifest


def assert_every_story_is_there(manifest: dict, episode_dir: Path) -> None:
    titles = [story["title"] for story in manifest["stories"]]
    assert len(titles) == 2
    assert [c["title"] for c in manifest["chapters"]] == ["开场", *titles, "结束"]
    chapters = ID3(episode_dir / "episode.mp3").getall("CHAP")
    assert len(chapters) == 4
    transcript = (episode_dir / "transcript.vtt").read_text(encoding="utf-8")
    for title in titles:
        assert title[:6] in transcript
    assert len(manifest["segment_voices"]) == manifest["segments"]


@pytest.mark.slow
def test_daily_with_the_edge_engine_uses_the_service_for_every_segment(service, tmp_path):
    result, manifest = daily(tmp_path, "--engine", "edge", connections=2)
    assert result.returncode == 0, result.stderr
    episode_dir = tmp_path / "out" / EPISODE_DATE
    assert_every_story_is_there(manifest, episode_dir)
    assert manifest["voices"] == {"yunyang": manifest["segments"]} and manifest["fallbacks"] == []
    assert {r.voice for r in service.requests} == {"zh-CN-YunyangNeural"}
    assert len(service.requests) == manifest["segments"] == service.connections
    assert 1 <= service.most_open <= 2  # the connections setting caps requests at once
    assert "yunyang" in result.stdout and "fallback voice" not in result.stderr  # (max_stories warns what it left out)
    # Word boundaries cut long segments into clause-timed transcript lines that stay inside the audio.
    cues = (episode_dir / "transcript.srt").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(cues) > manifest["segments"]
    assert manifest["duration"] > 20
    # An online voice arrives as MP3 and is encoded again: the episode still meets its loudness and
    # true-peak targets as ffmpeg measures them, and reports what ffmpeg measures.
    measured = measure_loudness(episode_dir / "episode.mp3")
    assert abs(measured.integrated_lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE and measured.true_peak_dbtp <= -1.0
    assert abs(manifest["loudness"]["integrated_lufs"] - measured.integrated_lufs) <= 0.2


@pytest.mark.slow
def test_the_default_connection_limit_is_four(service, tmp_path):
    result, manifest = daily(tmp_path, "--voice", "yunyang")
    assert result.returncode == 0, result.stderr
    assert service.most_open <= 4 and manifest["segments"] > 4


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.slow
def test_each_fault_is_retried_and_nothing_is_lost(service, tmp_path, fault):
    service.faults = [fault, fault]  # two in a row: edge-tts retries a 403 once by itself
    result, manifest = daily(tmp_path, "--voice", "yunyang", connections=1)
    assert result.returncode == 0, result.stderr
    assert_every_story_is_there(manifest, tmp_path / "out" / EPISODE_DATE)
    assert manifest["voices"] == {"yunyang": manifest["segments"]}  # retried until the service answered
    assert service.connections == manifest["segments"] + 2


@pytest.mark.slow
def test_a_segment_the_service_keeps_refusing_falls_back_to_the_offline_voice(service, tmp_path):
    service.fail_texts = {"欢迎收听": "no-audio"}  # the intro never gets audio
    result, manifest = daily(tmp_path, "--voice", "yunyang")
    assert result.returncode == 0, result.stderr
    assert_every_story_is_there(manifest, tmp_path / "out" / EPISODE_DATE)
    assert manifest["segment_voices"][0] == "offline" and set(manifest["segment_voices"][1:]) == {"yunyang"}
    assert manifest["fallbacks"] == [
        {"segment": 0, "voice": "yunyang", "fallback": "offline", "reason": manifest["fallbacks"][0]["reason"]}
    ]
    assert "NoAudioReceived" in manifest["fallbacks"][0]["reason"]
    assert "Warning: 1 segments used a fallback voice: 1 (yunyang -> offline)" in result.stderr
    assert sum(1 for r in service.requests if "欢迎收听" in r.text) == 3  # the first try and two retries

    # The next run tries the preferred voice again for that segment only; the rest come from the cache.
    service.fail_texts = {}
    result, manifest = daily(tmp_path, "--voice", "yunyang")
    assert result.returncode == 0, result.stderr
    assert manifest["voices"] == {"yunyang": manifest["segments"]} and manifest["fallbacks"] == []
    assert "1 segments synthesized" in result.stdout


@pytest.mark.slow
def test_strict_turns_the_fallback_into_a_clear_error_and_keeps_the_old_episode(service, tmp_path):
    result, manifest = daily(tmp_path, "--voice", "yunyang")
    assert result.returncode == 0, result.stderr
    before = (tmp_path / "out" / EPISODE_DATE / "episode.mp3").read_bytes()
    service.fail_texts = {"欢迎收听": "stall"}
    config = tmp_path / "briefing.toml"
    config.write_text(config.read_text(encoding="utf-8") + 'intro = "欢迎收听新的一期。"\n', encoding="utf-8")
    result = run_cli(
        "daily",
        str(EXAMPLE_PAGE),
        "--out",
        str(tmp_path / "out"),
        "--date",
        EPISODE_DATE,
        "--config",
        str(config),
        "--voice",
        "yunyang",
        "--strict",
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: Segment 1 (欢迎收听新的一期")
    assert "'yunyang'" in result.stderr and "timed out" in result.stderr
    assert (tmp_path / "out" / EPISODE_DATE / "episode.mp3").read_bytes() == before


@pytest.mark.slow
def test_the_circuit_breaker_sends_the_rest_to_the_fallback(service, tmp_path):
    service.always = "429"
    result, manifest = daily(tmp_path, "--voice", "yunyang", connections=1, breaker=3)
    assert result.returncode == 0, result.stderr
    assert_every_story_is_there(manifest, tmp_path / "out" / EPISODE_DATE)
    assert manifest["voices"] == {"offline": manifest["segments"]}
    # Three segments fail (three attempts each) and open the breaker; the one already in flight
    # on the single connection finishes; the rest never reach the service.
    tried = service.connections // 3
    assert service.connections % 3 == 0 and 3 <= tried <= 3 + 1
    skipped = [f for f in manifest["fallbacks"] if f["reason"].startswith("not tried")]
    assert len(skipped) == manifest["segments"] - tried > 5


@pytest.mark.slow
def test_two_voice_layout_puts_the_host_on_the_frame_and_the_anchor_on_the_stories(service, tmp_path):
    result, manifest = daily(tmp_path, "--voice", "yunyang", "--host-voice", "xiaoxiao")
    assert result.returncode == 0, result.stderr
    script = json.loads((tmp_path / "out" / EPISODE_DATE / "script.json").read_text(encoding="utf-8"))
    expected = ["yunyang" if segment["story"] is not None else "xiaoxiao" for segment in script["segments"]]
    assert manifest["segment_voices"] == expected and len(set(expected)) == 2
    by_text = {r.text: r.voice for r in service.requests}
    assert by_text[script["segments"][0]["spoken"]] == "zh-CN-XiaoxiaoNeural"
    first_story_segment = next(segment for segment in script["segments"] if segment["story"] is not None)
    assert by_text[first_story_segment["spoken"]] == "zh-CN-YunyangNeural"


def test_nothing_speakable_is_never_sent(service):
    engine = create_engine("edge", EngineSettings(retries=0))
    with pytest.raises(SynthesisError, match="Nothing speakable"):
        engine.synthesize("，。……", YUNYANG)
    assert service.connections == 0


def test_throttling_waits_as_long_as_the_service_asks(service, monkeypatch: pytest.MonkeyPatch):
    waits: list[float] = []
    monkeypatch.setattr("briefing.engines.edge.time.sleep", waits.append)
    service.faults, service.retry_after = ["429", "429"], 2
    audio = create_engine("edge", EngineSettings(retries=2, retry_delay=0.05)).synthesize("今天天气晴朗。", YUNYANG)
    assert audio.duration > 1 and service.connections == 3
    assert waits == [2.0, 2.0]  # Retry-After: 2 outweighs the 0.05 s backoff


def test_word_boundaries_and_audio_come_back_aligned(service):
    audio = create_engine("edge").synthesize("今天天气晴朗，适合出行。", YUNYANG)
    assert audio.sample_rate == 24000
    assert [w.text for w in audio.words] == ["今天", "天气", "晴朗", "适合", "出行"]
    assert audio.words[-1].offset + audio.words[-1].duration <= audio.duration + 0.05
    assert 1.8 < audio.duration < 2.4  # ten syllables of 0.2 s, silence trimmed


def test_voices_online_lists_the_services_chinese_voices(service):
    result = run_cli("voices", "--online", env={"BRIEFING_EDGE_ENDPOINT": service.url})
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["zh-CN-XiaoxiaoNeural", "zh-CN-YunyangNeural", "zh-TW-HsiaoChenNeural"]


def test_voices_online_without_a_network_says_so():
    result = run_cli("voices", "--online", env={"BRIEFING_EDGE_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Cannot list the online voices") and "online?" in result.stderr
