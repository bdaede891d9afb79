"""Hostile input, kills, locks and full disks: each case failed before, and what the tool does now.
Episodes here are read by the test-only tone engine, so the suite stays fast."""

import datetime as dt
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from briefing import pipeline
from briefing.cli import app
from briefing.config import Config
from briefing.episode import EPISODE_FILE, read_manifest
from briefing.errors import InputError, OutputError, ScriptError
from briefing.files import FILE_MODE, FOLDER_MODE, LOCK_FILE, output_lock
from briefing.ingest import parse_page, read_articles
from briefing.normalize import to_spoken
from briefing.publish import publish
from briefing.script import read_script
from briefing.summarize import SummaryTarget, summarize
from briefing.synthesize import SegmentCache, SynthesisSettings, synthesize_all

from .conftest import EXAMPLE_PAGE, ROOT, run_cli, tone_programme
from .test_synthesize import TONE, segments

DATE = dt.date(2026, 11, 26)
PAGE = "# 市区新建三所学校\n全市今年新建三所学校，新增学位三千个。\n\n# 地铁五号线开通\n地铁五号线今天开通运营，全长二十公里。\n"


def tone_setup(root: Path, voice: str = "440") -> tuple[Config, Path]:
    return tone_programme(root, voice)


def page(tmp_path: Path, text: str = PAGE, name: str = "page.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. control characters ------------------------------------------------------------------------


def test_control_characters_never_reach_the_feed_and_an_old_damaged_episode_is_repaired(tmp_path: Path):
    config, _ = tone_setup(tmp_path)
    hostile = page(tmp_path, "# 市区\x0b新建\x1b[31m三所学校\x07\n全市今年新建三所学校\x1f，新增学位三千个。\u200b\n")
    result = pipeline.daily([hostile], config, DATE)
    assert result.episode is not None
    root = config.paths.output_path
    feed = etree.parse(str(root / "feed.xml"))  # well-formed XML: lxml refuses control characters
    manifest = read_manifest(root / DATE.isoformat())
    assert manifest is not None and manifest.stories[0].title == "市区新建[31m三所学校"
    assert "\x0b" not in (root / "index.html").read_text(encoding="utf-8")

    # An episode written by an older briefing, with a control character in its title, is repaired on read.
    data = json.loads((root / DATE.isoformat() / EPISODE_FILE).read_text(encoding="utf-8"))
    data["title"] += "\x0b\x1b"
    (root / DATE.isoformat() / EPISODE_FILE).write_text(json.dumps(data), encoding="utf-8")
    publish(root, config)
    titles = etree.parse(str(root / "feed.xml")).xpath("//item/title/text()")
    assert titles == [data["title"].rstrip("\x0b\x1b")] and feed.xpath("//item")


# --- 2. file modes ---------------------------------------------------------------------------------


def test_written_files_get_the_umask_modes_and_another_user_can_read_them(tmp_path: Path):
    base = Path(tempfile.mkdtemp(prefix="briefing-modes-", dir="/tmp"))
    try:
        base.chmod(0o755)
        config, _ = tone_setup(base)
        pipeline.daily([page(tmp_path)], config, DATE)
        root = config.paths.output_path
        written = [p for p in root.rglob("*") if not p.name.startswith(".")]
        assert written and all((p.stat().st_mode & 0o777) == (FOLDER_MODE if p.is_dir() else FILE_MODE) for p in written)
        if os.geteuid() != 0 or FILE_MODE & 0o004 == 0:
            return  # reading as another user needs root to switch users, and a umask that lets others read
        reader = "import sys; [open(p, 'rb').read(1) for p in sys.argv[1:]]"
        files = [str(root / "feed.xml"), str(root / "index.html"), str(root / DATE.isoformat() / "episode.mp3")]
        as_nobody = subprocess.run(
            ["/usr/bin/python3", "-c", reader, *files], preexec_fn=lambda: os.setuid(65534), capture_output=True, text=True
        )
        assert as_nobody.returncode == 0, as_nobody.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- 3. the segment cache --------------------------------------------------------------------------


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


# --- 4. kills: orphan workers and stale staging ----------------------------------------------------

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


def test_the_next_run_removes_what_killed_runs_left(tmp_path: Path):
    config, _ = tone_setup(tmp_path)
    root = config.paths.output_path
    left = [root / ".2026-11-25-424242-abc123", root / ".2026-11-24-old-424242"]
    for folder in left:
        (folder / "big").mkdir(parents=True)
        (folder / "big" / "episode.mp3").write_bytes(b"\0" * 1000)
    (root / ".feed.xml.x1y2.part").write_bytes(b"<rss")
    (root / ".keep-me").mkdir()  # not briefing's: left alone
    pipeline.daily([page(tmp_path)], config, DATE)
    assert not any(folder.exists() for folder in left) and not (root / ".feed.xml.x1y2.part").exists()
    assert (root / ".keep-me").exists()


# --- 5. one run per output folder ------------------------------------------------------------------


def test_a_second_run_on_the_same_output_is_told_who_holds_it(tmp_path: Path):
    config, config_file = tone_setup(tmp_path)
    root = config.paths.output_path
    with output_lock(root):
        with pytest.raises(OutputError, match=f"another briefing run \\(pid {os.getpid()}\\) is writing"):
            pipeline.daily([page(tmp_path)], config, DATE)
        result = CliRunner().invoke(app, ["daily", str(page(tmp_path)), "--config", str(config_file), "--date", "2026-11-26"])
        assert result.exit_code == 1 and "another briefing run" in result.output
    assert pipeline.daily([page(tmp_path)], config, DATE).episode is not None
    (root / LOCK_FILE).write_text("999999")  # left by a run that was killed: free to take
    assert pipeline.daily([page(tmp_path)], config, DATE).reused is not None


# --- 6. a full disk --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["MP3 encode", "ID3 tags"])
def test_a_full_disk_while_writing_the_episode_is_one_line_and_keeps_the_old_episode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
):
    config, config_file = tone_setup(tmp_path)
    first = pipeline.daily([page(tmp_path)], config, DATE)
    before = first.mp3.read_bytes()

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "MP3 encode":
        from briefing import mp3

        # An encoder on a full disk: it reads the audio, then cannot write the file.
        encoder = tmp_path / "ffmpeg-on-a-full-disk"
        encoder.write_text('#!/bin/sh\ncat > /dev/null\necho "Error writing trailer of episode.mp3: No space left on device" >&2\nexit 1\n')
        encoder.chmod(0o755)
        monkeypatch.setattr(mp3, "ffmpeg_exe", lambda: str(encoder))
    else:
        from mutagen.id3 import ID3

        monkeypatch.setattr(ID3, "save", full)
    changed = page(tmp_path, PAGE.replace("三千", "四千"))
    result = CliRunner().invoke(app, ["daily", str(changed), "--config", str(config_file), "--date", "2026-11-26"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and "the disk is full" in result.output.lower()
    assert first.mp3.read_bytes() == before
    assert not [p for p in config.paths.output_path.glob(".2026*")]


# --- 7. normalization in linear time ----------------------------------------------------------------


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        to_spoken(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(
    "unit",
    ["a", "7", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw==", "中文abc123", "x@y.", "www.", "，1"],
    ids=["letters", "digits", "base64", "mixed", "at-signs", "dots", "commas"],
)
@pytest.mark.slow
def test_normalization_time_grows_linearly_with_the_input(unit: str):
    to_spoken("预热123")
    small, large = unit * (1000 // len(unit)), unit * (10000 // len(unit))
    ratio = _seconds("报道" + large + "。") / max(_seconds("报道" + small + "。"), 1e-4)
    assert ratio < 25, f"10x the input took {ratio:.1f}x the time"


def test_a_long_code_is_said_as_a_string_of_characters_not_spelled():
    assert to_spoken("附件编号QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw==已上传") == "附件编号一串字符已上传"
    assert to_spoken("身份证号码110101199003074514") == "身份证号码幺幺零幺零幺幺九九零零三零七四五幺四"


# --- 8. stories of any length -----------------------------------------------------------------------


def test_a_story_without_punctuation_is_cut_to_its_length():
    target = SummaryTarget(45, 4.6)
    for body in ("这是一段没有任何标点的很长的文字" * 200, "全市新增就业岗位一万个，" * 300 + "。"):
        summary = summarize(parse_page(f"# 标题\n{body}\n")[0], target)
        assert 0 < len(summary.text) <= target.chars * 1.25 and summary.text.endswith("。")


def test_too_many_stories_are_capped_with_a_warning_naming_what_was_left_out(tmp_path: Path):
    many = "".join(f"# 第{n}条新闻标题\n本市今天召开第{n}次会议，研究部署近期各项重点工作，确保取得实效。\n\n" for n in range(1, 201))
    articles = pipeline.ingest_pages([page(tmp_path, many)]).articles
    assert len(articles) == 200
    capped = pipeline.plan_script(articles, Config.from_dict({"max_minutes": 5}), DATE)
    assert 0 < len(capped.script.stories) < 40
    assert len(capped.warnings) == 1 and "max_minutes = 5" in capped.warnings[0] and "《第200条新闻标题》" not in capped.warnings[0]
    assert f"left out {200 - len(capped.script.stories)} stories" in capped.warnings[0]
    limited = pipeline.plan_script(articles, Config.from_dict({"max_stories": 3}), DATE)
    assert len(limited.script.stories) == 3 and "left out 197 stories over max_stories = 3: 《第4条新闻标题》" in limited.warnings[0]


# --- 9, 10, 11: what is not Chinese, invisible characters, links out of a folder ----------------------


def test_a_page_with_no_chinese_is_refused_and_a_mostly_english_story_left_out(tmp_path: Path):
    english = page(tmp_path, "# City opens three schools\nThe city opened three new schools today.\n", "english.txt")
    with pytest.raises(InputError, match="no Chinese text"):
        read_articles(english)
    mixed = page(tmp_path, PAGE + "# Weather\nSunny today with a high of twenty degrees and light winds from the north.\n")
    planned = pipeline.plan_script(pipeline.ingest_pages([mixed]).articles, Config(), DATE)
    assert [s.title for s in planned.script.stories] == ["市区新建三所学校", "地铁五号线开通"]
    assert planned.warnings == ("left out 1 stories that are mostly not Chinese: 《Weather》",)


def test_valid_utf8_full_of_invisible_characters_is_read(tmp_path: Path):
    noisy = tmp_path / "noisy.txt"
    noisy.write_text("\u200b\u200d".join(PAGE) + "\x01" * 20, encoding="utf-8")
    assert [a.title for a in read_articles(noisy)] == ["市区新建三所学校", "地铁五号线开通"]
    blank = tmp_path / "blank.txt"
    blank.write_text("\u200b\u200c\x01\x02" * 50, encoding="utf-8")
    with pytest.raises(InputError, match="only control or invisible characters"):
        read_articles(blank)


def test_a_link_out_of_an_input_folder_is_not_followed(tmp_path: Path):
    folder = tmp_path / "pages"
    folder.mkdir()
    page(folder, PAGE, "a.txt")
    secret = page(tmp_path, "# 机密\n这份文件不应该被读出来。\n", "secret.txt")
    (folder / "b.txt").symlink_to(secret)
    (folder / "c.txt").symlink_to(folder / "a.txt")  # a link inside the folder is fine
    ingested = pipeline.ingest_pages([folder])
    assert "机密" not in [a.title for a in ingested.articles] and len(ingested.articles) == 4
    assert ingested.problems == (f"{folder / 'b.txt'}: not read, it is a link to a file outside {folder}",)


# --- 12, 13: what is printed, and standard input -----------------------------------------------------


@pytest.mark.slow
def test_nothing_printed_can_drive_the_terminal(tmp_path: Path):
    hostile = page(tmp_path, "# \x1b]0;owned\x07标题\x1b[2J\n正文内容在这里。\n", "x\x1b[31m.txt")
    result = run_cli("ingest", str(hostile))
    assert result.returncode == 0 and "\x1b" not in result.stdout and "标题" in result.stdout
    missing = run_cli("ingest", str(tmp_path / "no\x1b[2Jpe.txt"))
    assert missing.returncode == 1 and "\x1b" not in missing.stderr and "\\x1b[2J" in missing.stderr


@pytest.mark.slow
@pytest.mark.parametrize("data", [b"\xff\xfe\xfa\xfb bad \xc3\x28", "增长5%".encode("gbk") + b"\n\x80\xff"])
def test_normalize_reads_any_standard_input_without_a_traceback(data: bytes):
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "normalize"], input=data, capture_output=True, cwd=ROOT)
    assert b"Traceback" not in result.stderr
    assert result.returncode == 0 or (result.returncode == 1 and result.stderr.count(b"\n") == 1 and result.stderr.startswith(b"Error: "))


@pytest.mark.slow
def test_gbk_standard_input_and_odd_symbols():
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "normalize"], input="增长5%\n".encode("gbk"), capture_output=True, cwd=ROOT
    )
    assert result.returncode == 0 and result.stdout.decode() == "增长百分之五\n"
    assert to_spoken("10^9") == "十的九次方" and to_spoken("a≠b") == "诶不等于比" and to_spoken("2³") == "二的三次方"
    assert to_spoken("温度≥30℃") == "温度大于等于三十摄氏度" and to_spoken("\ud800中文\udfff") == "中文"


# --- 14. a script is checked before any work ----------------------------------------------------------


@pytest.mark.slow
def test_a_script_that_cannot_make_an_episode_is_refused_before_synthesis(tmp_path: Path):
    made = pipeline.write_review_script([EXAMPLE_PAGE], Config(), DATE, tmp_path).path
    data = json.loads(made.read_text(encoding="utf-8"))
    broken = dict(data, segments=[*data["segments"][:-1], {**data["segments"][-1], "story": 99}])
    made.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ScriptError, match="segment 40 belongs to story 99"):
        read_script(made)
    made.write_text(json.dumps(dict(data, segments=[]), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ScriptError, match="no story segment"):
        read_script(made)
    result = run_cli("episode", str(made), "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and not (tmp_path / "out").exists()


# --- 17. the server's log ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_server_logs_real_statuses_and_one_line_per_malformed_request(tmp_path: Path):
    import socket

    root = tmp_path / "output"
    root.mkdir()
    (root / "note.json").write_text('{"a": 1}', encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--out", str(root), "--port", "0", "--log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(":")[2].split("/")[0])

        def ask(raw: bytes) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(raw)
                return connection.recv(100)

        assert ask(b"GET /note.json HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 206")
        assert ask(b"GET /note.json HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 416")
        for _ in range(5):
            assert ask(b"GET /\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.0 400")
        time.sleep(0.5)
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    lines = log.splitlines()
    assert any("/note.json 206 bytes=0-1" in line for line in lines)
    assert any("/note.json 416 bytes=-0" in line for line in lines)
    assert "Traceback" not in log and "\x1b" not in log
    assert len([line for line in lines if "Error handling request" in line]) == 5
