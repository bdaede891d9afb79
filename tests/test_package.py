"""The package as a user installs it: a wheel built from the checkout, installed into a fresh
virtual environment outside it, makes the example episode with the presets it carries."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.mp3 import MP3

from .conftest import EXAMPLE_PAGE, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; the dependencies are found in the project's venv (added
    to the path by a .pth file, which does not run the project's editable-install hook)."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    wheel = next(wheels.glob("briefing-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    packages = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True)
    (Path(packages.stdout.strip()) / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return venv


def run_installed(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(venv / "bin" / "python"), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path):
    found = run_installed(
        installed, tmp_path, "-c", "import briefing, briefing.voices as v; print(briefing.__file__); print(v.bundled_voices())"
    )
    assert found.returncode == 0, found.stderr
    module, voices = found.stdout.splitlines()
    assert module.startswith(str(installed)) and not module.startswith(str(ROOT))
    assert {p.name for p in Path(voices).iterdir()} >= {"offline.toml", "yunyang.toml", "xiaoxiao.toml", "lexicon.tsv"}


def test_the_installed_package_makes_the_example_episode(installed: Path, tmp_path: Path):
    out = tmp_path / "out"
    made = run_installed(installed, tmp_path, "-m", "briefing", "daily", str(EXAMPLE_PAGE), "--out", str(out), "--date", "2026-11-26")
    assert made.returncode == 0, made.stderr
    mp3 = out / "2026-11-26" / "episode.mp3"
    assert MP3(str(mp3)).info.length > 60 and (out / "feed.xml").exists()
    voices = run_installed(installed, tmp_path, "-m", "briefing", "voices")
    assert voices.returncode == 0 and "offline" in voices.stdout, voices.stderr


def test_the_public_api_is_what_the_readme_shows(installed: Path, tmp_path: Path):
    names = "Config, daily, DailyResult, episode_from_script, BriefingError"
    imported = run_installed(installed, tmp_path, "-c", f"from briefing import {names}; print(Config().synthesis.voice)")
    assert imported.returncode == 0 and imported.stdout.strip() == "offline", imported.stderr
