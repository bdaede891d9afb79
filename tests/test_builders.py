"""The feed, the page and the Alexa items are pure functions of manifests: built here in memory,
in milliseconds, from manifests made up for each case. (test_publish.py checks them on real
episodes, through feedparser, a second parser, the server and a browser.)"""

from __future__ import annotations

import datetime as dt
import json
import re

import feedparser
import pytest

from briefing.alexa import MAX_ITEMS, flash_briefing_items
from briefing.config import Config
from briefing.episode import Chapter, Manifest, PublishedEpisode, ToldStory
from briefing.errors import OutputError
from briefing.feed import build_feed, check_feed, episode_description
from briefing.page import render_page

BASE = "https://news.example.com/早报"


def episode(number: int, date: str, titles: list[str], guid: str = "", published: str = "") -> PublishedEpisode:
    """A finished episode as its manifest describes it: 30 seconds of intro, then 60 a story."""
    chapters = [Chapter(0.0, 30.0, "开场", None)]
    chapters += [Chapter(30.0 + 60 * n, 90.0 + 60 * n, title, n + 1) for n, title in enumerate(titles)]
    manifest = Manifest(
        number=number,
        guid=guid or f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        published=published or f"{date}T06:30:00+08:00",
        date=date,
        title=f"港闻早报 {date}",
        programme="港闻早报",
        duration=chapters[-1].end,
        audio_bytes=1_000_000 + number,
        integrated_lufs=-19.0,
        true_peak_dbtp=-1.5,
        chapters=tuple(chapters),
        stories=tuple(ToldStory(n + 1, title) for n, title in enumerate(titles)),
    )
    return PublishedEpisode(date, manifest)


CONFIG = Config.from_dict({"programme": "港闻早报", "author": "港闻融媒体中心", "owner_email": "news@example.com", "feed_episodes": 2})
EPISODES = [
    episode(3, "2026-11-27", ["地铁五号线开通", "三所学校投入使用"]),
    episode(2, "2026-11-26", ["全市GDP增长5.6%"]),
    episode(1, "2026-11-25", ["公园改造完成"]),
]


def test_the_feed_lists_the_newest_episodes_with_absolute_quoted_urls():
    parsed = feedparser.parse(build_feed(EPISODES, CONFIG, BASE + "/"))
    assert not parsed.bozo and parsed.feed.title == "港闻早报" and parsed.feed.author == "港闻融媒体中心"
    assert [e.title for e in parsed.entries] == ["港闻早报 2026-11-27", "港闻早报 2026-11-26"]  # feed_episodes = 2
    newest = parsed.entries[0]
    assert newest.id == "urn:uuid:00000000-0000-4000-8000-000000000003"
    assert newest.enclosures[0].href == "https://news.example.com/%E6%97%A9%E6%8A%A5/2026-11-27/episode.mp3"
    assert newest.enclosures[0].length == "1000003" and newest.itunes_duration == "150"
    assert newest.published_parsed[:5] == (2026, 11, 26, 22, 30)  # 06:30 in Shanghai is 22:30 UTC the day before


def test_the_description_lists_each_story_at_its_chapter_time():
    assert episode_description(EPISODES[0].manifest) == "港闻早报，2条新闻：\n00:30 地铁五号线开通\n01:30 三所学校投入使用"


def test_a_feed_without_a_required_tag_is_refused():
    good = build_feed(EPISODES[:1], CONFIG, BASE)
    check_feed(good)
    with pytest.raises(OutputError, match="itunes:author"):
        check_feed(re.sub(rb"<itunes:author>.*?</itunes:author>", b"", good))
    with pytest.raises(OutputError, match="absolute enclosure URL"):
        check_feed(good.replace(BASE.encode().replace("早报".encode(), b"%E6%97%A9%E6%8A%A5"), b""))


def test_the_page_shows_each_episode_with_its_chapters_and_transcript():
    transcripts = {"2026-11-27": [(0.0, 2.5, "欢迎收听港闻早报。"), (30.0, 33.0, "地铁<五号线>开通")]}
    page = render_page(EPISODES[:2], CONFIG, f"{BASE}/feed.xml", transcripts)
    assert page.count('<article class="episode"') == 2 and "第3期 · 2分钟 · 2条新闻" in page
    assert '<button type="button" data-start="30.0"><span class="time">00:30</span>地铁五号线开通</button>' in page
    assert '<p data-start="30.0"><span class="time">00:30</span>地铁&lt;五号线&gt;开通</p>' in page  # escaped
    assert 'src="2026-11-27/episode.mp3"' in page and "<svg" in page  # the player, and the QR code to subscribe
    assert "还没有节目" in render_page([], CONFIG, f"{BASE}/feed.xml", {})


def test_alexa_items_are_the_first_stories_newest_first_with_stable_ids():
    many = episode(4, "2026-11-28", [f"第{n}条" for n in range(1, 8)])
    items = flash_briefing_items(many, BASE)
    assert len(items) == MAX_ITEMS and [item["titleText"] for item in items] == [f"第{n}条" for n in range(1, 6)]
    times = [dt.datetime.strptime(item["updateDate"], "%Y-%m-%dT%H:%M:%S.0Z") for item in items]
    assert times == sorted(times, reverse=True) and times[0] == dt.datetime(2026, 11, 27, 22, 30)
    assert items[0]["streamUrl"] == f"{BASE}/2026-11-28/alexa/story-1.mp3" and items[0]["redirectionUrl"] == f"{BASE}/#2026-11-28"
    assert flash_briefing_items(many, BASE) == items and len({item["uid"] for item in items}) == MAX_ITEMS
    json.dumps(items)  # what alexa.json holds
