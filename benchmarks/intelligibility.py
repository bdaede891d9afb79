"""Intelligibility of an episode: cut it at its transcript cues and score each clip with the ASR tool.

Usage: .venv/bin/python -m benchmarks.intelligibility output/2026-11-26 [--before OTHER_EPISODE_DIR]
       [--asr-python /tmp/asr-venv/bin/python]
With --before, the same page's episode made before a change is scored too, and both figures printed.
The ASR tool lives in ../shared/tools/asr (see its README to install it). The reference for each
clip is the segment's spoken form, which is what the voice was asked to say.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from briefing.episode import read_vtt
from briefing.mp3 import decode

ROOT = Path(__file__).resolve().parent.parent
CER_TOOL = ROOT.parent / "shared" / "tools" / "asr" / "cer.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("episode_dir", type=Path)
    parser.add_argument("--asr-python", default="/tmp/asr-venv/bin/python")
    parser.add_argument("--cer-tool", type=Path, default=CER_TOOL, help=f"the ASR tool's cer.py (default: {CER_TOOL})")
    parser.add_argument("--min-chars", type=int, default=8, help="skip shorter segments (the ASR needs context)")
    parser.add_argument("--before", type=Path, help="an episode folder made before the change, scored the same way")
    args = parser.parse_args()
    if not args.cer_tool.exists() or not Path(args.asr_python).exists():
        parser.error(f"need the ASR tool at {args.cer_tool} and its Python at {args.asr_python}; see shared/tools/asr/README.md")
    after = _score(args.episode_dir, args)
    print(after[-4000:])
    if args.before:
        summary = [_summary(_score(args.before, args)), _summary(after)]
        print(f"before ({args.before}): {summary[0]}\nafter  ({args.episode_dir}): {summary[1]}")


def _summary(output: str) -> str:
    return next((line for line in output.splitlines() if line.startswith("MEAN_CER")), output.strip()[-300:])


def _score(episode_dir: Path, args: argparse.Namespace) -> str:
    """The ASR tool's report for each clip of `episode_dir` against its spoken text."""
    script = json.loads((episode_dir / "script.json").read_text(encoding="utf-8"))
    cues = read_vtt(episode_dir / "transcript.vtt")
    samples = decode(episode_dir / "episode.mp3", 16000)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.tsv"
        rows = []
        for n, ((start, end), segment) in enumerate(zip(_segment_spans(cues, script["segments"]), script["segments"])):
            if len(segment["spoken"]) < args.min_chars:
                continue
            clip = samples[int(max(0, start - 0.1) * 16000) : int((end + 0.1) * 16000)]
            path = Path(tmp) / f"clip{n:03d}.wav"
            with wave.open(str(path), "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(16000)
                writer.writeframes((np.clip(clip, -1, 1) * 32767).astype(np.int16).tobytes())
            rows.append(f"{path}\t{segment['spoken']}")
        manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = subprocess.run([args.asr_python, str(args.cer_tool), "--batch", str(manifest)], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else result.stderr[-2000:]


def _segment_spans(cues: list[tuple[float, float, str]], segments: list[dict[str, str]]) -> list[tuple[float, float]]:
    """A segment may be shown as several transcript lines: join them back by their text."""
    spans = []
    remaining = iter(cues)
    for segment in segments:
        start, end, text = next(remaining)
        while text != segment["text"]:
            _, end, more = next(remaining)
            text += more
        spans.append((start, end))
    return spans


if __name__ == "__main__":
    main()
