import datetime as dt
import json
import re
from pathlib import Path

import pytest

from briefing import pipeline
from briefing.config import Config
from briefing.errors import ScriptError
from briefing.normalize import Lexicon, LexiconEntry, unspeakable
from briefing.pipeline import ingest_pages
from briefing.plan import make_script
from briefing.script import MAX_SPOKEN_CHARS, Role, build_script, read_script, write_script
from briefing.summarize import Summary

from .conftest import EPISODE_DAY, EXAMPLE_PAGE, TEST_PAGES, run_cli

DATE = dt.date(2026, 11, 26)


def script_for(page: Path):
    return make_script(ingest_pages([page]).articles, Config(), DATE)


@pytest.mark.parametrize("page", [EXAMPLE_PAGE, *TEST_PAGES], ids=lambda p: p.name)
def test_spoken_text_invariants(page: Path):
    script = script_for(page)
    for segment in script.segments:
        assert unspeakable(segment.spoken) == set(), segment
        assert not re.search(r"[0-9A-Za-z()（）\[\]“”\"《》]", segment.spoken), segment
        assert 0 < len(segment.spoken) <= MAX_SPOKEN_CHARS, segment
        assert segment.text.strip()


def test_script_structure_on_the_seed():
    script = script_for(EXAMPLE_PAGE)
    roles = [s.role for s in script.segments]
    assert roles[0] == Role.INTRO and roles[-1] == Role.OUTRO
    assert Role.RUNDOWN in roles
    assert [s.index for s in script.stories] == [1, 2, 3, 4, 5]
    intro = "".join(s.spoken for s in script.segments_of(None) if s.role == Role.INTRO)
    assert "二零二六年十一月二十六日" in intro and "星期四" in intro and "五条新闻" in intro
    transitions = [s.text for s in script.segments if s.role == Role.TRANSITION]
    assert len(transitions) == 5 and len(set(transitions)) == 5
    for story in script.stories:
        assert script.segments_of(story.index)[1].role == Role.TITLE
        assert (
            sum(len(s.text) for s in script.segments_of(story.index) if s.role == Role.BODY)
            <= Config().wording.story_seconds * Config().wording.chars_per_second * 1.2
        )


def test_config_wording_is_used():
    config = Config.from_dict({"programme": "港闻早报", "outro": "{programme}到此结束。", "transitions": ["下一条："]})
    script = make_script(ingest_pages([EXAMPLE_PAGE]).articles, config, DATE)
    assert script.segments[0].spoken == "欢迎收听港闻早报。"
    assert script.segments[-1].text == "港闻早报到此结束。"


def test_script_json_and_markdown_round_trip(tmp_path: Path):
    script = script_for(EXAMPLE_PAGE)
    path = write_script(script, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [s["title"] for s in data["stories"]] == [s.title for s in script.stories]
    first = data["segments"][0]
    assert {"story", "role", "text", "spoken"} <= set(first) and first["story"] is None
    assert "毫不松懈抓防控" in (tmp_path / "script.md").read_text(encoding="utf-8")
    assert read_script(path) == script


def test_edited_segment_without_spoken_form_is_normalized_again(tmp_path: Path):
    path = write_script(script_for(EXAMPLE_PAGE), tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["segments"][2] = {**data["segments"][2], "text": "本期共有3条新闻。", "spoken": ""}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert read_script(path).segments[2].spoken == "本期共有三条新闻。"


def test_broken_script_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "script.json"
    path.write_text('{"segments": [}', encoding="utf-8")
    with pytest.raises(ScriptError, match="not valid JSON"):
        read_script(path)
    path.write_text('{"programme": "x"}', encoding="utf-8")
    with pytest.raises(ScriptError, match="not a briefing script"):
        read_script(path)


def test_a_lexicon_name_is_read_right_inside_a_clause_too_long_for_one_segment():
    lexicon = Lexicon([LexiconEntry("单县", "善县")])
    # 70 characters with no comma: the script cuts it between words, and each part keeps the lexicon.
    long_clause = "单县" + "农业农村局组织技术人员深入田间地头" * 4 + "指导农户开展秋播工作。"
    script = build_script([Summary("单县秋播", (long_clause,))], DATE, Config(), lexicon)
    story = [s for s in script.segments if s.story == 1 and s.role == Role.BODY]
    assert len(story) >= 2 and all(len(s.spoken) <= MAX_SPOKEN_CHARS for s in story)
    assert story[0].spoken.startswith("善县农业农村局")
    assert "单县" not in "".join(s.spoken for s in script.segments)


@pytest.mark.slow
def test_a_script_that_cannot_make_an_episode_is_refused_before_synthesis(tmp_path: Path):
    made = pipeline.write_review_script([EXAMPLE_PAGE], Config(), EPISODE_DAY, tmp_path).path
    data = json.loads(made.read_text(encoding="utf-8"))
    broken = dict(data, segments=[*data["segments"][:-1], {**data["segments"][-1], "story": 99}])
    made.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ScriptError, match=f"segment {len(data['segments'])} belongs to story 99"):
        read_script(made)
    made.write_text(json.dumps(dict(data, segments=[]), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ScriptError, match="no story segment"):
        read_script(made)
    result = run_cli("episode", str(made), "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and not (tmp_path / "out").exists()
