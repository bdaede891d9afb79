"""Planning: which stories an episode tells, and every one left out named in a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing import pipeline
from briefing.config import Config
from briefing.errors import InputError
from briefing.ingest import parse_page, read_articles
from briefing.plan import plan_script

from .conftest import EPISODE_DAY, TWO_STORIES, write_page


def test_too_many_stories_are_capped_with_a_warning_naming_what_was_left_out(tmp_path: Path):
    many = "".join(f"# 第{n}条新闻标题\n本市今天召开第{n}次会议，研究部署近期各项重点工作，确保取得实效。\n\n" for n in range(1, 201))
    articles = pipeline.ingest_pages([write_page(tmp_path, many)]).articles
    assert len(articles) == 200
    capped = pipeline.plan_script(articles, Config.from_dict({"max_minutes": 5}), EPISODE_DAY)
    assert 0 < len(capped.script.stories) < 40
    assert len(capped.warnings) == 1 and "max_minutes = 5" in capped.warnings[0] and "《第200条新闻标题》" not in capped.warnings[0]
    assert f"left out {200 - len(capped.script.stories)} stories" in capped.warnings[0]
    limited = pipeline.plan_script(articles, Config.from_dict({"max_stories": 3}), EPISODE_DAY)
    assert len(limited.script.stories) == 3 and "left out 197 stories over max_stories = 3: 《第4条新闻标题》" in limited.warnings[0]


def test_a_page_with_no_chinese_is_refused_and_a_mostly_english_story_left_out(tmp_path: Path):
    english = write_page(tmp_path, "# City opens three schools\nThe city opened three new schools today.\n", "english.txt")
    with pytest.raises(InputError, match="no Chinese text"):
        read_articles(english)
    mixed = write_page(tmp_path, TWO_STORIES + "# Weather\nSunny today with a high of twenty degrees and light winds from the north.\n")
    planned = pipeline.plan_script(pipeline.ingest_pages([mixed]).articles, Config(), EPISODE_DAY)
    assert [s.title for s in planned.script.stories] == ["市区新建三所学校", "地铁五号线开通"]
    assert planned.warnings == ("left out 1 stories that are mostly not Chinese: 《Weather》",)


def test_a_ten_thousand_character_headline_is_said_as_its_first_clause_with_a_warning():
    headline = "市政府召开常务会议研究部署冬季安全生产工作，" + "要求各区各部门压实责任" * 1000
    articles = tuple(parse_page(f"# {headline}\n全市各部门按照统一部署，扎实推进冬季安全生产各项工作。\n"))
    planned = plan_script(articles, Config(), EPISODE_DAY)
    title = planned.script.stories[0].title
    assert title == "市政府召开常务会议研究部署冬季安全生产工作" and len(planned.warnings) == 1
    assert f"a headline of {len(headline)} characters is said as its first 21: 《{title}…》" == planned.warnings[0]
    assert sum(len(s.spoken) for s in planned.script.segments) < 600  # minutes of headline would be thousands
