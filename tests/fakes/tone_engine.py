"""A test-only engine: a short sine tone per Han character, made in microseconds.

It registers itself as `tone` when imported. A preset's engine voice picks its behaviour:
a frequency in Hz ("440"), "broken" (every segment fails after 20 ms, like a slow failing service),
"silent" (returns silence, which the synthesize stage must reject) or "slow" (half a second a
segment, time enough to kill a run). A text containing 坏 always fails.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from briefing.engines import EngineSettings, Parallel, SpeechAudio, WordBoundary, register
from briefing.errors import SynthesisError
from briefing.text import count_han, split_clauses, strip_marks
from briefing.voices import VoicePreset

SECONDS_PER_CHARACTER = 0.1


@register
class ToneEngine:
    name = "tone"
    version = "1"
    sample_rate = 8000
    install_hint = "nothing to install"
    default_voice = "440"
    parallel: Parallel = "processes"

    def __init__(self, settings: EngineSettings = EngineSettings()) -> None:
        self.settings = settings

    @classmethod
    def is_available(cls) -> bool:
        return True

    @classmethod
    def prepare(cls, spoken_texts: list[str]) -> dict[str, Any]:
        return {}

    def synthesize(self, spoken_text: str, preset: VoicePreset, prepared: Any = None) -> SpeechAudio:
        if preset.engine_voice in ("broken", "slow"):
            time.sleep(0.02 if preset.engine_voice == "broken" else 0.5)
        if preset.engine_voice == "broken" or "坏" in spoken_text:
            raise SynthesisError(f"the tone engine refuses {spoken_text[:10]!r}")
        pieces, words, position = [], [], 0.0
        for clause in split_clauses(spoken_text):
            seconds = count_han(clause) * SECONDS_PER_CHARACTER / preset.rate_factor
            t = np.arange(int(seconds * self.sample_rate)) / self.sample_rate
            loudness = 0.0 if preset.engine_voice == "silent" else 0.3
            hertz = float(preset.engine_voice) if preset.engine_voice.isdigit() else 440.0
            pieces.append((loudness * np.sin(2 * np.pi * hertz * t)).astype(np.float32))
            words.append(WordBoundary(round(position, 3), round(seconds, 3), strip_marks(clause)))
            position += seconds
        return SpeechAudio(np.concatenate(pieces or [np.zeros(0, np.float32)]), self.sample_rate, tuple(words))
