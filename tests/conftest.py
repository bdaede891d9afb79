"""Shared fixtures: the bundled page, an isolated cache, and one real episode built per session."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from briefing.config import Config

from .fakes import tone_engine  # noqa: F401  (registers the test engine `tone` in every test process)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PAGE = ROOT / "examples" / "newspaper-page.txt"
TEST_PAGES = sorted((ROOT / "tests" / "pages").glob("*.txt")) + sorted((ROOT / "tests" / "pages").glob("*.md"))
EPISODE_DATE = "2026-11-26"
EPISODE_DAY = dt.date(2026, 11, 26)
TWO_STORIES = "# 市区新建三所学校\n全市今年新建三所学校，新增学位三千个。\n\n# 地铁五号线开通\n地铁五号线今天开通运营，全长二十公里。\n"


def write_page(folder: Path, text: str = TWO_STORIES, name: str = "page.txt") -> Path:
    """A page file in `folder` (two short stories unless told otherwise)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def tone_programme(root: Path, voice: str = "440", tables: str = "", **settings: object) -> tuple[Config, Path]:
    """A programme in `root` voiced by the test tone engine: voices/tone.toml with the engine voice
    `voice`, and briefing.toml with the flat `settings` over the defaults below, then `tables` (TOML
    such as [[sources]]). Returns the config and its file."""
    voices = root / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    (voices / "tone.toml").write_text(f'engine = "tone"\nvoice = "{voice}"\n', encoding="utf-8")
    values = {
        "voice": "tone",
        "voices_dir": str(voices),
        "output_dir": str(root / "output"),
        "cache_dir": str(root / "cache"),
        "workers": 1,
        **settings,
    }
    config_file = root / "briefing.toml"
    flat = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())
    config_file.write_text(flat + tables, encoding="utf-8")
    return Config.load(config_file), config_file


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.getbasetemp() / "segment-cache"
    monkeypatch.setenv("BRIEFING_CACHE_DIR", str(cache))
    return cache


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


@contextmanager
def briefing_serve(out: Path, *options: str) -> Iterator[int]:
    """`briefing serve` on a free port, in its own process as a user runs it; yields the port."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--out", str(out), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Serving"), first + process.stderr.read()
        yield int(first.split(":")[2].split("/")[0])
    finally:
        process.terminate()
        process.wait(10)


def require(available: bool, what: str) -> None:
    """Skip loudly when run by hand without the test tools; fail when `make test` should have installed them."""
    if not available:
        if os.environ.get("BRIEFING_TEST_TOOLS_REQUIRED") == "1":  # set by `make test`
            pytest.fail(f"{what} is missing although `make test` installs it")
        pytest.skip(f"{what} is not installed: run the suite with `make test`")


@pytest.fixture(scope="session")
def episode_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example page's episode, built once with the real offline engine."""
    out = tmp_path_factory.mktemp("episode-out")
    cache = tmp_path_factory.getbasetemp() / "segment-cache"
    result = run_cli("daily", str(EXAMPLE_PAGE), "--out", str(out), "--date", EPISODE_DATE, env={"BRIEFING_CACHE_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    return out
