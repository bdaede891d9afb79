import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.normalize import to_spoken

from .conftest import EXAMPLE_PAGE, ROOT, run_cli, write_page

runner = CliRunner()


def test_ingest_json_shows_what_the_parser_understood():
    result = runner.invoke(app, ["ingest", str(EXAMPLE_PAGE), "--json"])
    assert result.exit_code == 0, result.output
    articles = json.loads(result.stdout)
    assert len(articles) == 5
    assert {"kicker", "headline", "subtitle", "paragraphs", "byline"} <= set(articles[0])
    assert articles[3]["headline"] == "化危为机 出口订单逆增长"


def test_normalize_argument_and_stdin():
    assert runner.invoke(app, ["normalize", "增长22.6%"]).stdout == "增长百分之二十二点六\n"
    result = runner.invoke(app, ["normalize"], input="3-5天\n2015年08月08号\n")
    assert result.stdout.splitlines() == ["三到五天", "二零一五年八月八号"]


def test_script_writes_json_and_markdown(tmp_path: Path):
    result = runner.invoke(app, ["script", str(EXAMPLE_PAGE), "--out", str(tmp_path), "--date", "2026-11-26"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "script.json")
    assert (tmp_path / "script.md").exists()


def test_gbk_page_is_read(tmp_path: Path):
    page = tmp_path / "gbk-page.txt"
    page.write_bytes(EXAMPLE_PAGE.read_text(encoding="utf-8").encode("gbk"))
    result = runner.invoke(app, ["ingest", str(page)])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary\xff" * 50, "this is a binary file"),
        ("官方微信\n\n3\n".encode(), "no recognisable article"),
    ],
)
def test_bad_input_is_one_error_line_exit_1_and_nothing_written(tmp_path: Path, content: bytes, message: str):
    page = tmp_path / "page.txt"
    page.write_bytes(content)
    out = tmp_path / "out"
    result = run_cli("script", str(page), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {page}: {message}")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("Error: ")
    assert not out.exists()


def test_missing_file_and_bad_date(tmp_path: Path):
    result = runner.invoke(app, ["script", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1 and "cannot be read" in result.output
    result = runner.invoke(app, ["script", str(EXAMPLE_PAGE), "--date", "26/11/2026"])
    assert result.exit_code == 2 and "invalid date '26/11/2026'" in result.output


@pytest.mark.slow
def test_good_files_are_processed_when_one_is_bad(tmp_path: Path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    result = run_cli("script", str(EXAMPLE_PAGE), str(bad), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {bad}: the file is empty"
    assert len(json.loads((out / "script.json").read_text(encoding="utf-8"))["stories"]) == 5


def test_bad_config_is_named(tmp_path: Path):
    config = tmp_path / "briefing.toml"
    config.write_text('programme = "x"\nstory_secs = 3\n', encoding="utf-8")
    result = runner.invoke(app, ["script", str(EXAMPLE_PAGE), "--config", str(config)])
    assert result.exit_code == 1 and "unknown setting 'story_secs'" in result.output


def test_unknown_voice_and_engine_are_clear_errors(tmp_path: Path):
    result = runner.invoke(app, ["daily", str(EXAMPLE_PAGE), "--voice", "nobody", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Unknown voice preset 'nobody'" in result.output  # a usage error
    result = runner.invoke(app, ["daily", str(EXAMPLE_PAGE), "--engine", "nosuch", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Unknown engine 'nosuch': expected one of edge, offline" in result.output


def test_voices_lists_the_offline_preset():
    result = runner.invoke(app, ["voices"])
    assert result.exit_code == 0 and "offline" in result.stdout and "engine=offline" in result.stdout


def test_every_command_has_help_with_an_example():
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0
        assert "Example: briefing " + name in result.stdout, name


@pytest.mark.slow
def test_nothing_printed_can_drive_the_terminal(tmp_path: Path):
    hostile = write_page(tmp_path, "# \x1b]0;owned\x07标题\x1b[2J\n正文内容在这里。\n", "x\x1b[31m.txt")
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
