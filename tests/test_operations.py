"""A year of unattended mornings: bounded disks, the run log and `briefing status`, and no broken
database, shared folder or bad config that can stop a run. Episodes are read by the tone engine."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing import pipeline, runlog
from briefing.cli import app
from briefing.dedup import TOLD_FILE, TOLD_SIDECAR
from briefing.episode import published_episodes
from briefing.errors import UsageError

from .conftest import ROOT, tone_programme

STORIES = [
    "全市今年新建{n}所公办学校，新增学位三千六百个，明年还将开工建设五所学校。",
    "地铁{n}号线一期工程今天开通初期运营，线路全长二十二公里，共设车站十六座。",
    "城北湿地公园改造后重新开放，新增步道{n}公里，市民可以免费入园游览。",
    "本周全市蔬菜价格稳中有降，{n}种主要蔬菜平均价格比上周下降百分之三。",
]


def day_folder(root: Path, day: dt.date, stories: list[int]) -> Path:
    """A folder holding the day's page: one story per number, each told differently every day."""
    folder = root / "pages"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    text = "".join(
        f"# 第{day.toordinal() % 97}期新闻{n}\n{STORIES[n % len(STORIES)].format(n=day.toordinal() % 89 + n)}\n\n" for n in stories
    )
    (folder / "page.txt").write_text(text, encoding="utf-8")
    return folder


def status(config_file: Path) -> tuple[int, dict]:
    shown = CliRunner().invoke(app, ["status", "--json", "--config", str(config_file)])
    return shown.exit_code, json.loads(shown.stdout)


@pytest.mark.slow
def test_a_year_of_mornings_stays_within_every_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runlog, "MAX_RUNS", 20)
    monkeypatch.setattr(runlog, "_TRIM_AT", 25)
    config, config_file = tone_programme(tmp_path, keep_days=14, cache_max_mb=1, dedup_days=7)
    start = dt.date(2026, 1, 1)
    for week in range(52):  # a morning a week for a year, each with new stories
        day = start + dt.timedelta(days=7 * week)
        result = pipeline.daily([day_folder(tmp_path, day, [0, 1, 2])], config, day)
        assert result.episode is not None
        cache = sum(p.stat().st_size for p in (tmp_path / "cache" / "segments").rglob("*") if p.is_file())
        assert cache <= 1_000_000, f"the segment cache holds {cache} bytes on {day}"
        episodes = published_episodes(config.paths.output_path)
        assert [e.date for e in episodes][0] == day.isoformat() and len(episodes) <= 3  # 14 days: this week and the two before
    log = (config.paths.output_path / runlog.RUN_LOG).read_text(encoding="utf-8").splitlines()
    assert 20 <= len(log) <= 25 and json.loads(log[-1])["date"] == day.isoformat() == "2026-12-24"
    feed = (config.paths.output_path / "feed.xml").read_text(encoding="utf-8")
    assert "2026-12-24" in feed and "2026-01-01" not in feed  # removed episodes leave the feed too
    code, shown = status(config_file)
    assert code == 0 and shown["healthy"] and shown["last_run"]["status"] == "ok" and shown["last_run"]["stories"] == 3
    assert {c["name"] for c in shown["caches"]} == {"segments", "http", "llm"} and shown["free_bytes"] > 0
    assert any(v["preset"] == "tone" and v["can_run"] for v in shown["voices"])


@pytest.mark.slow
def test_the_segment_cache_is_pruned_least_recently_used_first_and_never_what_the_run_used(tmp_path: Path):
    config, config_file = tone_programme(tmp_path, cache_max_mb=1)
    first = pipeline.daily([day_folder(tmp_path, dt.date(2026, 3, 1), [0, 1])], config, dt.date(2026, 3, 1))
    assert first.episode is not None
    segments = tmp_path / "cache" / "segments"
    kept_before = {p.name for p in segments.rglob("*.wav")}
    for wav in segments.rglob("*.wav"):
        os.utime(wav, (1, 1))  # long unused
    huge = segments / "zz" / ("z" * 64 + ".wav")
    huge.parent.mkdir()
    huge.write_bytes(b"\0" * 950_000)
    os.utime(huge, (2, 2))  # used more recently than the episode's segments
    pruned = CliRunner().invoke(app, ["cache", "--prune", "--config", str(config_file)])
    left = {p.name for p in segments.rglob("*.wav")} - {huge.name}
    assert pruned.exit_code == 0 and pruned.output.startswith(f"removed {len(kept_before) - len(left)} segments")
    assert huge.exists() and len(left) < len(kept_before) // 2  # the least recently used went first, until the cache fit
    assert sum(p.stat().st_size for p in segments.rglob("*") if p.is_file()) <= 1_000_000
    # The next run makes them again, then prunes: the old entry goes, nothing this run used does.
    started = time.time() - 1
    again = pipeline.daily([day_folder(tmp_path, dt.date(2026, 3, 1), [0, 1])], config, dt.date(2026, 3, 2))
    assert again.episode is not None and again.episode.synthesis.synthesized > 0 and not huge.exists()
    now = list(segments.rglob("*.wav"))
    assert len(now) >= again.episode.synthesis.synthesized and all(p.stat().st_mtime >= started for p in now)
    assert sum(p.stat().st_size for p in segments.rglob("*") if p.is_file()) <= 1_000_000


@pytest.mark.slow
def test_a_failed_run_and_a_source_failing_three_runs_in_a_row_make_status_exit_1(tmp_path: Path):
    folder = tmp_path / "news"
    tables = f'[[sources]]\nname = "本地"\npath = "{folder}"\n\n[[sources]]\nname = "断了"\npath = "{tmp_path / "gone"}"\n'
    config, config_file = tone_programme(tmp_path, tables=tables)
    for n, day in enumerate([dt.date(2026, 4, d) for d in (1, 2, 3)]):
        shutil.copytree(day_folder(tmp_path, day, [n]), folder, dirs_exist_ok=True)
        (folder / "page.txt").rename(folder / f"page-{n}.txt")
        result = pipeline.daily([], config, day)
        assert result.episode is not None and any("断了" in p or "gone" in p for p in result.problems)
    code, shown = status(config_file)
    failing = [s for s in shown["sources"] if s["failing"]]
    assert code == 1 and [s["name"] for s in failing] == ["断了"] and failing[0]["failed_runs"] == 3
    assert failing[0]["failing_since"].startswith(dt.date.today().isoformat()) and shown["last_run"]["status"] == "ok"
    with pytest.raises(Exception, match="no new story"):
        pipeline.daily([], config, dt.date(2026, 4, 4))  # nothing new: the run fails, and says so
    code, shown = status(config_file)
    assert code == 1 and shown["last_run"]["status"] == "failed" and "no new story" in shown["last_run"]["error"]
    text = CliRunner().invoke(app, ["status", "--config", str(config_file)])
    assert text.exit_code == 1 and text.output.startswith("NEEDS ATTENTION") and "source   断了: FAILED" in text.output


def test_two_programmes_in_one_output_folder_are_refused_before_anything_is_made(tmp_path: Path):
    _, first = tone_programme(tmp_path / "east", output_dir=str(tmp_path / "shared"))
    _, second = tone_programme(tmp_path / "west", output_dir=str(tmp_path / "shared"))
    with pytest.raises(UsageError, match=f"{first} and {second} both write to"):
        pipeline.batch([first, second])
    assert not (tmp_path / "shared").exists()


def test_a_broken_or_missing_config_in_a_batch_stops_only_its_own_programme(tmp_path: Path):
    folder = day_folder(tmp_path / "east", dt.date(2026, 5, 1), [0])
    _, good = tone_programme(tmp_path / "east", tables=f'[[sources]]\npath = "{folder}"\n')
    broken = tmp_path / "broken.toml"
    broken.write_text("voice = [unclosed\n", encoding="utf-8")
    made = pipeline.batch([broken, tmp_path / "missing.toml", good], dt.date(2026, 5, 1))
    (_, none, why_broken), (_, _, why_missing), (_, result, error) = made.programmes
    assert none is None and "not valid TOML" in why_broken and "cannot read" in why_missing
    assert result is not None and result.episode is not None and error == ""
    logged = json.loads((tmp_path / "east" / "output" / runlog.RUN_LOG).read_text(encoding="utf-8").splitlines()[-1])
    assert logged["command"] == "batch" and logged["status"] == "ok"


def told_setup(tmp_path: Path) -> tuple[object, Path, Path]:
    folder = tmp_path / "news"
    config, config_file = tone_programme(tmp_path, tables=f'[[sources]]\npath = "{folder}"\n')
    shutil.copytree(day_folder(tmp_path, dt.date(2026, 6, 1), [0, 1]), folder)
    first = pipeline.daily([], config, dt.date(2026, 6, 1))
    assert first.episode is not None and (first.mp3.parent / TOLD_SIDECAR).exists()
    return config, config_file, config.paths.output_path / TOLD_FILE  # type: ignore[attr-defined]


def damage_cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:700])


def damage_random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def damage_wrong_table(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE told (day TEXT, what TEXT)")


def damage_short_signature(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE told SET signature = x'0102'")


@pytest.mark.parametrize("damage", [damage_cut_short, damage_random_bytes, damage_wrong_table, damage_short_signature])
def test_a_damaged_history_is_set_aside_and_rebuilt_from_the_episode_folders(tmp_path: Path, damage):
    config, config_file, told = told_setup(tmp_path)
    for extra in ("-wal", "-shm"):
        Path(f"{told}{extra}").unlink(missing_ok=True)
    damage(told)
    # The next day offers yesterday's stories again: the rebuilt history still knows them.
    result = CliRunner().invoke(app, ["daily", "--config", str(config_file), "--date", "2026-06-02"])
    assert result.exit_code == 1 and "no new story in the sources for 2026-06-02 (2 told)" in result.output, result.output
    assert "Traceback" not in result.output and [p.name for p in told.parent.glob("told.sqlite.damaged-*")]
    assert "was damaged" in result.output


@pytest.mark.slow  # waits out the lock
def test_a_history_that_cannot_be_written_is_recorded_by_the_next_run(tmp_path: Path):
    config, config_file, told = told_setup(tmp_path)
    shutil.copytree(day_folder(tmp_path, dt.date(2026, 6, 2), [2, 3]), tmp_path / "news", dirs_exist_ok=True)
    holder = sqlite3.connect(told, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds it, for longer than a run waits
    try:
        result = pipeline.daily([], config, dt.date(2026, 6, 2))  # type: ignore[arg-type]
    finally:
        holder.rollback()
        holder.close()
    assert result.episode is not None and (told.parent / "feed.xml").read_text(encoding="utf-8").count("<item>") == 2
    assert any("could not be recorded" in w and "the next run records it" in w for w in result.warnings)
    assert pipeline.daily([], config, dt.date(2026, 6, 2)).reused is not None  # type: ignore[arg-type]  (up to date, and recorded)
    shown = CliRunner().invoke(app, ["sources", "--json", "--date", "2026-06-03", "--config", str(config_file)])
    assert {row["status"] for row in json.loads(shown.stdout)} == {"told"}  # recorded from the episode folder after all


@pytest.mark.slow
def test_briefing_sources_only_reads_the_history(tmp_path: Path):
    config, config_file, told = told_setup(tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in told.parent.glob("told.sqlite*")}
    told.chmod(0o444)
    try:
        shown = CliRunner().invoke(app, ["sources", "--json", "--date", "2026-06-02", "--config", str(config_file)])
    finally:
        told.chmod(0o644)
    assert shown.exit_code == 0 and {row["status"] for row in json.loads(shown.stdout)} == {"told"}
    assert {p.name: p.stat().st_mtime_ns for p in told.parent.glob("told.sqlite*")} == before


def test_the_deployment_units_are_valid(tmp_path: Path):
    units = sorted((ROOT / "deploy").glob("briefing-*"))
    assert [u.name for u in units] == ["briefing-daily.service", "briefing-daily.timer", "briefing-serve.service"]
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        assert "[Unit]" in text and ("ExecStart=/srv/briefing/.venv/bin/briefing" in text or "OnCalendar=" in text)
    verifier = shutil.which("systemd-analyze")
    if verifier is None:
        pytest.skip("systemd-analyze is not on this machine; the units' sections were checked above")
    checked = subprocess.run([verifier, "verify", *map(str, units)], capture_output=True, text=True)
    # The one complaint expected here: the program the units run is installed on the server, not on this machine.
    problems = [line for line in checked.stderr.splitlines() if line.strip() and "is not executable: No such file" not in line]
    assert not problems, checked.stderr
