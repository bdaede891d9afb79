"""briefing as a library: the use cases the commands call, the episode manifest, and the one error
boundary every command shares. Episodes here are read by the test-only tone engine, in seconds."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing import pipeline
from briefing.cli import app
from briefing.config import Config
from briefing.episode import EPISODE_FILE, MANIFEST_VERSION, Manifest, finished_manifest, published_episodes, read_manifest
from briefing.errors import InputError

from .conftest import EXAMPLE_PAGE, TEST_PAGES, tone_programme

DATE = "2026-11-26"


@pytest.fixture
def tone_config(tmp_path: Path) -> Config:
    config, _ = tone_programme(tmp_path)
    (tmp_path / "voices" / "reader.toml").write_text('engine = "offline"\n', encoding="utf-8")
    return config


def test_daily_from_a_library_call_makes_the_episode_then_finds_it_up_to_date(tone_config: Config):
    import datetime as dt

    page = TEST_PAGES[0]
    first = pipeline.daily([page], tone_config, dt.date.fromisoformat(DATE))
    assert first.episode is not None and first.reused is None and first.problems == ()
    assert first.mp3 == tone_config.paths.output_path / DATE / "episode.mp3" and first.mp3.stat().st_size > 10_000
    assert first.feed.name == "feed.xml" and (first.feed.parent / "index.html").exists()
    assert first.episode.synthesis.segments_per_preset == {"tone": len(first.episode.synthesis.presets)}
    again = pipeline.daily([page], tone_config, dt.date.fromisoformat(DATE))
    assert again.episode is None and again.reused is not None and again.reused.segments == len(first.episode.synthesis.presets)


def test_the_manifest_round_trips_and_a_damaged_one_is_not_an_episode(tone_config: Config, tmp_path: Path):
    import datetime as dt

    made = pipeline.daily([EXAMPLE_PAGE], tone_config, dt.date.fromisoformat(DATE)).episode
    assert made is not None
    folder = made.directory
    manifest = finished_manifest(folder)
    assert manifest is not None and manifest.version == MANIFEST_VERSION and manifest.number == 1
    assert Manifest.from_dict(manifest.to_dict()) == manifest
    assert [c.title for c in manifest.story_chapters] == [story.title for story in manifest.stories]
    assert [e.folder for e in published_episodes(folder.parent)] == [DATE]

    data = json.loads((folder / EPISODE_FILE).read_text(encoding="utf-8"))
    del data["chapters"]
    (folder / EPISODE_FILE).write_text(json.dumps(data), encoding="utf-8")
    assert read_manifest(folder) is None and published_episodes(folder.parent) == []
    data["chapters"], data["version"] = [], MANIFEST_VERSION + 1  # written by a newer briefing
    (folder / EPISODE_FILE).write_text(json.dumps(data), encoding="utf-8")
    assert read_manifest(folder) is None


def test_no_article_in_any_input_is_one_input_error_listing_each(tmp_path: Path):
    empty, binary = tmp_path / "empty.txt", tmp_path / "binary.txt"
    empty.write_bytes(b"")
    binary.write_bytes(b"\x00\x01\x02\xff" * 100)
    with pytest.raises(InputError) as error:
        pipeline.daily([empty, binary], Config())
    lines = str(error.value).splitlines()
    assert len(lines) == 2 and lines[0] == f"{empty}: the file is empty" and lines[1].startswith(f"{binary}: this is a binary file")


def test_every_command_shares_one_error_boundary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    runner = CliRunner()

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "daily", interrupted)
    result = runner.invoke(app, ["daily", str(EXAMPLE_PAGE), "--out", str(tmp_path)])
    assert result.exit_code == 130 and "interrupted; finished segments are cached" in result.output

    monkeypatch.setattr(pipeline, "write_review_script", lambda *a, **k: (_ for _ in ()).throw(InputError("a.txt: bad\nb.txt: worse")))
    result = runner.invoke(app, ["script", str(EXAMPLE_PAGE)])
    assert result.exit_code == 1 and result.output.splitlines() == ["Error: a.txt: bad", "Error: b.txt: worse"]


def test_voice_choices_from_the_command_line(tone_config: Config):
    chosen = pipeline.with_voice_choices(tone_config, engine="offline")  # the engine's preset reads everything
    assert (chosen.synthesis.voice, chosen.synthesis.host_voice, chosen.synthesis.strict) == ("reader", "reader", False)
    strict = pipeline.with_voice_choices(tone_config, host_voice="tone", strict=True)
    assert strict.synthesis.voice == "tone" and strict.synthesis.host_voice == "tone" and strict.synthesis.strict


def test_publishing_again_with_nothing_changed_leaves_the_files_as_they_are(tone_config: Config):
    """A podcast app polling the feed sees the same bytes until something it shows changes."""
    import dataclasses
    import datetime as dt

    from briefing.publish import publish

    out = tone_config.paths.output_path
    pipeline.daily([TEST_PAGES[0]], tone_config, dt.date.fromisoformat(DATE))
    published = {name: (out / name).stat().st_mtime_ns for name in ("feed.xml", "index.html")}
    feed = (out / "feed.xml").read_bytes()
    assert pipeline.daily([TEST_PAGES[0]], tone_config, dt.date.fromisoformat(DATE)).reused is not None
    publish(out, tone_config)
    assert {name: (out / name).stat().st_mtime_ns for name in published} == published and (out / "feed.xml").read_bytes() == feed
    renamed = dataclasses.replace(tone_config, feed=dataclasses.replace(tone_config.feed, author="另一家报社"))
    publish(out, renamed)
    assert "另一家报社".encode() in (out / "feed.xml").read_bytes()
    (out / "index.html").unlink()
    publish(out, renamed)
    assert (out / "index.html").exists()
    publish(out, renamed, base_url="https://news.example.org/briefing")
    assert b"https://news.example.org/briefing/feed.xml" in (out / "feed.xml").read_bytes()


def test_a_rerun_with_nothing_changed_loads_none_of_the_heavy_modules(tone_config: Config, tmp_path: Path):
    """Start-up is kept short by importing the audio, network and LLM stacks only where they are
    used: a rerun that finds the episode up to date needs none of them."""
    import datetime as dt
    import subprocess
    import sys

    pipeline.daily([TEST_PAGES[0]], tone_config, dt.date.fromisoformat(DATE))
    config_file = tmp_path / "briefing.toml"
    config_file.write_text(
        "\n".join(f'{key} = "{value}"' for key, value in tone_config.to_dict()["paths"].items() if value)
        + '\nvoice = "tone"\nworkers = 1\n',
        encoding="utf-8",
    )
    heavy = ["numpy", "scipy", "pydub", "rich", "pydantic", "openai", "httpx", "lxml", "feedgen", "segno", "PIL", "jieba", "trafilatura"]
    check = (
        "import sys\nfrom briefing.cli import main\n"
        f"sys.argv = ['briefing', 'daily', {str(TEST_PAGES[0])!r}, '--date', {DATE!r}, '--config', {str(config_file)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print('loaded:', sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert "up to date" in result.stdout, result.stdout + result.stderr
    assert "loaded: []" in result.stdout
