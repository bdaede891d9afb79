"""briefing.toml: flat or sectioned, every bad value one clear error, never a traceback."""

import math
from pathlib import Path

import pytest

from briefing.config import Config, FeedConfig, SynthesisConfig, WordingConfig
from briefing.errors import ConfigError

from .conftest import EXAMPLE_PAGE, run_cli


def test_flat_keys_and_section_tables_give_the_same_config():
    flat = Config.from_dict({"programme": "港闻早报", "workers": 2, "base_url": "https://news.example.com/x", "output_dir": "out"})
    nested = Config.from_dict(
        {
            "wording": {"programme": "港闻早报"},
            "synthesis": {"workers": 2},
            "feed": {"base_url": "https://news.example.com/x"},
            "paths": {"output_dir": "out"},
        }
    )
    assert flat == nested and flat.wording.programme == "港闻早报" and flat.synthesis.workers == 2
    assert Config.from_dict(flat.to_dict()) == flat  # to_dict writes the sectioned form back


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"intro": "欢迎{programm}"}, "unknown placeholder {programm}"),
        ({"outro": "再见{"}, "invalid outro"),
        ({"workers": -1}, "invalid workers -1"),
        ({"max_stories": -2}, "invalid max_stories -2"),
        ({"story_seconds": math.nan}, "'story_seconds' must be a finite number"),
        ({"connections": 0}, "invalid connections 0"),
        ({"workers": True}, "'workers' must be int"),
        ({"locked": 1}, "'locked' must be bool"),
        ({"transitions": []}, "transitions must name at least one phrase"),
        ({"wording": {"workers": 2}}, "unknown setting 'workers' in [wording]"),
        ({"programme": "a", "wording": {"programme": "b"}}, "'programme' is set twice"),
        ({"speakers": {"kitchen": 3}}, "[speakers] must be a table"),
        ({"programme": "  "}, "programme must not be empty"),
        ({"feed": {"description": ""}}, "description must not be empty"),
        ({"author": ""}, "author must not be empty"),
        ({"summarizer": "abstractive"}, "unknown summarizer 'abstractive'; expected one of extractive, llm"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_the_file(settings: dict, message: str):
    with pytest.raises(ConfigError) as error:
        Config.from_dict(settings, "my.toml")
    assert str(error.value).startswith("my.toml: ") and message in str(error.value)


def test_sections_validate_however_they_are_made():
    with pytest.raises(ConfigError, match="invalid workers -3"):
        Config().with_synthesis(workers=-3)
    with pytest.raises(ConfigError, match="unknown timezone"):
        WordingConfig(timezone="Nowhere/Else")
    with pytest.raises(ConfigError, match="invalid base_url"):
        FeedConfig(base_url="news.example.com")
    assert SynthesisConfig(workers=2).workers == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'timezone = "Mars/Olympus"\n', "unknown timezone 'Mars/Olympus'"),
        ('intro = "欢迎{nope}"\n'.encode(), "unknown placeholder {nope}"),
        ('programme = "早报"\n'.encode("gbk"), "is not UTF-8 text"),
        (b"story_seconds = nan\n", "must be a finite number"),
    ],
)
def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path: Path, content: bytes, message: str):
    config = tmp_path / "briefing.toml"
    config.write_bytes(content)
    result = run_cli("script", str(EXAMPLE_PAGE), "--out", str(tmp_path / "out"), "--config", str(config))
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: {config}: ") and message in result.stderr


def test_a_port_out_of_range_is_a_usage_error():
    result = run_cli("serve", "--port", "99999")
    assert result.returncode == 2 and "65535" in result.stderr and "Traceback" not in result.stderr
