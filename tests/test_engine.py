from pathlib import Path

import numpy as np
import pytest

from briefing.engines import SpeechAudio, create_engine, engine_names
from briefing.errors import ConfigError, EngineUnavailableError, SynthesisError
from briefing.voices import VoicePreset


@pytest.fixture(scope="module")
def offline():
    return create_engine("offline")


VOICE = VoicePreset(name="offline", engine="offline", engine_voice="baker")


def test_offline_engine_makes_plausible_24khz_speech(offline):
    text = "区委书记主持召开会议，研究部署当前各项重点工作。"
    audio = offline.synthesize(text, VOICE)
    assert isinstance(audio, SpeechAudio) and audio.sample_rate == 24000 == offline.sample_rate
    characters = len(text) - 2
    assert characters / 7.0 < audio.duration < characters / 2.5  # newsreaders: 3 to 6 characters a second
    rms = float(np.sqrt(np.mean(audio.samples**2)))
    assert rms > 0.02 and np.max(np.abs(audio.samples)) <= 1.0


def test_rate_preset_changes_the_duration(offline):
    text = "今天天气晴朗，适合出行。"
    normal = offline.synthesize(text, VOICE).duration
    faster = offline.synthesize(text, VoicePreset(name="fast", engine="offline", rate="+30%")).duration
    assert faster < normal * 0.9


def test_nothing_speakable_is_refused(offline):
    with pytest.raises(SynthesisError, match="Nothing speakable"):
        offline.synthesize("，。", VOICE)


def test_registry_knows_the_offline_engine_and_refuses_unknown_ones():
    assert "offline" in engine_names()
    with pytest.raises(EngineUnavailableError, match="Unknown engine 'edgy'"):
        create_engine("edgy")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("rate", "+200%", "invalid rate '\\+200%'"), ("pitch", "5", "invalid pitch"), ("volume", "loud", "invalid volume")],
)
def test_preset_values_are_validated(field, value, message):
    with pytest.raises(ConfigError, match=message):
        VoicePreset(name="x", engine="offline", **{field: value})


def test_the_patched_acoustic_model_is_kept_and_a_damaged_copy_is_patched_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each engine worker would otherwise spend a sixth of a second patching the same model."""
    import tempfile

    from briefing.engines import offline

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    offline._acoustic_model.cache_clear()
    patched = offline._acoustic_model(offline.asset_dir())
    [kept] = tmp_path.glob("briefing-fastspeech2-*.tflite")
    assert kept.read_bytes() == patched and patched[4:8] == b"TFL3"
    kept.write_bytes(b"not a model")
    offline._acoustic_model.cache_clear()
    assert offline._acoustic_model(offline.asset_dir()) == patched and kept.read_bytes() == patched
    offline._acoustic_model.cache_clear()
