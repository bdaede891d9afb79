"""The same story is told once: the threshold, tested on pairs built the way editors change wire copy."""

import datetime as dt
from pathlib import Path

import pytest

from briefing.dedup import SAME_STORY, ToldStories, signature, similarity

NEWS = Path(__file__).parent / "news"
WIRE_LINES = [line for line in (NEWS / "wire-rail.txt").read_text(encoding="utf-8").splitlines() if line]
WIRE = "".join(WIRE_LINES)

SAME_STORY_VARIANTS = {
    "punctuation edited": WIRE.replace("，", "、").replace("。", "；").replace("12306", " 12306 "),
    "cut from the bottom by a third": "".join(WIRE_LINES[: len(WIRE_LINES) * 2 // 3 + 1]),
    "a few words changed": WIRE.replace("记者从", "本报记者从")
    .replace("提醒广大旅客", "提示旅客")
    .replace("预计", "计划")
    .replace("持续", "不断"),
    "the lede rewritten": "据国铁集团消息，今天全国铁路预计发送旅客一千三百五十万人次。" + "".join(WIRE_LINES[1:]),
}
OTHER_STORIES = {
    "another railway story": (NEWS / "rail-other.txt").read_text(encoding="utf-8"),
    "a metro story": (NEWS / "metro.txt").read_text(encoding="utf-8"),
    "a school story": (NEWS / "school.txt").read_text(encoding="utf-8"),
}


@pytest.mark.parametrize("variant", SAME_STORY_VARIANTS)
def test_an_edited_copy_of_a_wire_story_is_the_same_story(variant: str):
    assert similarity(signature(WIRE), signature(SAME_STORY_VARIANTS[variant])) >= SAME_STORY


@pytest.mark.parametrize("other", OTHER_STORIES)
def test_different_stories_on_the_same_topic_are_both_told(other: str):
    assert similarity(signature(WIRE), signature(OTHER_STORIES[other])) < SAME_STORY / 2


def test_told_stories_are_remembered_by_day_and_a_remake_replaces_its_day(tmp_path: Path):
    told = ToldStories(tmp_path / "told.sqlite")
    day = dt.date(2026, 11, 26)
    told.remember(day, [("铁路", "https://a/1", signature(WIRE))])
    told.remember(day, [("铁路", "https://a/1", signature(WIRE)), ("学校", "", signature(OTHER_STORIES["a school story"]))])
    told.remember(day - dt.timedelta(days=10), [("旧闻", "", signature("十天前的旧闻，内容不同。"))])
    recent = told.told_between(day - dt.timedelta(days=7), day)
    assert sorted(t.title for t in recent) == ["学校", "铁路"]
    rail = next(t for t in recent if t.title == "铁路")
    assert similarity(rail.signature, signature(WIRE)) == 1.0  # read back exactly
    # A follow-up that keeps the lede and says much that is new: changed materially, so told again.
    updated = "".join(WIRE_LINES[:2]) + OTHER_STORIES["another railway story"] + OTHER_STORIES["a metro story"]
    assert similarity(rail.signature, signature(updated)) < SAME_STORY
    told.close()
