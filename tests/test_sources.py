"""Sources: feeds, article pages, JSON Lines and page folders from a local news site; told once
across sources and days; every failing source reported in one line while the others still count."""

import asyncio
import datetime as dt
import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from typer.testing import CliRunner

from briefing import fetch, pipeline
from briefing.cli import app
from briefing.config import Config, SourceConfig
from briefing.dedup import TOLD_FILE, ToldStories
from briefing.errors import ConfigError, SourceError
from briefing.fetch import Fetcher, check_public
from briefing.sources import read_sources

from .conftest import tone_programme
from .fakes.local_server import serving
from .fakes.news_site import NewsSite

NEWS = Path(__file__).parent / "news"
DAY = dt.date(2026, 11, 26)


@pytest.fixture
def site():
    news = NewsSite()
    with serving(news.app()) as base:
        news.base = base
        yield news


def config_for(site: NewsSite, tmp_path: Path, failing: bool = True) -> tuple[Config, Path]:
    base = site.base
    sources = [
        # The test site is on the loopback: its feeds' links may be followed there.
        f'[[sources]]\nname = "滨江日报"\nurl = "{base}/rss.xml"\nkind = "rss"\nallow_private = true',
        f'[[sources]]\nname = "江城晚报"\nurl = "{base}/atom.xml"\nallow_private = true',  # kind guessed from the answer
        f'[[sources]]\nname = "公园"\nurl = "{base}/news/park.html"\nkind = "web"',
        f'[[sources]]\npath = "{NEWS / "items.jsonl"}"',
        f'[[sources]]\nname = "区报"\npath = "{NEWS / "folder"}"',
    ]
    if failing:
        sources += [
            f'[[sources]]\nname = "没了"\nurl = "{base}/missing.html"\nkind = "web"',
            f'[[sources]]\nname = "出错"\nurl = "{base}/error.html"\nkind = "web"',
            f'[[sources]]\nname = "坏源"\nurl = "{base}/bad.xml"\nkind = "rss"',
            f'[[sources]]\nname = "空页"\nurl = "{base}/news/empty.html"\nkind = "web"',
            '[[sources]]\nname = "不通"\nurl = "http://127.0.0.1:9/feed.xml"\nkind = "rss"',
        ]
    return tone_programme(tmp_path, tables="\n".join(sources) + "\n")


def by_title(choices) -> dict[str, tuple[str, str]]:
    """Each title's status where it first appears (in rank order)."""
    seen: dict[str, tuple[str, str]] = {}
    for c in choices:
        if c.title:
            seen.setdefault(c.title, (c.status, c.detail))
    return seen


def test_one_day_from_every_kind_of_source(site: NewsSite, tmp_path: Path):
    config, _ = config_for(site, tmp_path)
    choices = pipeline.gather(config, DAY).choices
    seen = by_title(choices)
    assert seen["全国铁路今日预计发送旅客1350万人次"][0] == "new"
    assert seen["铁路客流创新高 一天发送旅客超千万"] == ("duplicate", "the same story as 《全国铁路今日预计发送旅客1350万人次》 (滨江日报)")
    assert seen["城际铁路今天开工建设"][0] == "new"  # the same topic, another story: told too
    assert seen["我市三所新建公办学校投入使用"][0] == "new"
    assert seen["上周的旧闻"] == ("old", "published 2026-11-20, not 2026-11-26")
    assert seen["链接失效的新闻"][0] == "error" and "404" in seen["链接失效的新闻"][1]
    assert seen["地铁五号线一期今天开通"][0] == "new"
    assert seen["城北湿地公园改造后重新开放"][0] == "new"
    assert seen["社区食堂让老人吃上热乎饭"][0] == "new"
    assert seen["本周蔬菜价格稳中有降"][0] == "new"
    statuses = [c.status for c in choices]
    assert statuses.count("duplicate") == 2  # the re-headlined wire copy, and the park story the page folder also has
    errors = {c.source: c.detail for c in choices if c.status == "error" and not c.title}
    assert "404" in errors["没了"] and "500" in errors["出错"] and "not an RSS or Atom feed" in errors["坏源"]
    assert "no article text" in errors["空页"] and "cannot be fetched" in errors["不通"]
    assert any("not an item" in c.detail for c in choices if c.source == "items.jsonl")

    school = next(c.item.article for c in choices if c.title == "我市三所新建公办学校投入使用")
    text = "".join(school.paragraphs)
    assert "三千六百个" in text and not any(
        junk in text for junk in ("责任编辑", "网友评论", "分享到", "相关阅读", "版权所有", "广告", "首页")
    )


@pytest.mark.slow
def test_daily_from_sources_tells_each_story_once_and_skips_them_the_next_day(site: NewsSite, tmp_path: Path):
    config, config_file = config_for(site, tmp_path, failing=False)
    result = pipeline.daily([], config, DAY)
    assert result.episode is not None
    assert (
        len(result.problems) == 2 and "gone.html: the server answered 404" in result.problems[0] and "items.jsonl:3" in result.problems[1]
    )
    told_titles = [story["title"] for story in json.loads((result.mp3.parent / "episode.json").read_text(encoding="utf-8"))["stories"]]
    assert len(told_titles) == 7 and len(set(told_titles)) == 7 and "铁路客流创新高 一天发送旅客超千万" not in told_titles
    told = ToldStories(config.paths.output_path / TOLD_FILE)
    assert sorted(t.title for t in told.told_between(DAY, DAY)) == sorted(told_titles)
    told.close()

    # The next day: what has no date counts as that day's, and was told yesterday.
    runner = CliRunner()
    shown = runner.invoke(app, ["sources", "--date", "2026-11-27", "--json", "--config", str(config_file)])
    assert shown.exit_code == 1, shown.output  # the dead link and the bad JSON line are errors, and say so
    rows = json.loads(shown.stdout)
    assert all(set(row) == {"source", "title", "url", "published", "status", "detail"} for row in rows)
    status = {row["title"]: (row["status"], row["detail"]) for row in rows}
    assert status["城际铁路今天开工建设"] == ("told", "told on 2026-11-26 as 《城际铁路今天开工建设》")
    assert status["社区食堂让老人吃上热乎饭"][0] == "told"
    assert status["本周蔬菜价格稳中有降"][0] == "old"
    nothing_new = runner.invoke(app, ["daily", "--date", "2026-11-27", "--config", str(config_file)])
    assert nothing_new.exit_code == 1 and "no new story in the sources for 2026-11-27" in nothing_new.output

    # The same day again: nothing changed, nothing is made again.
    again = pipeline.daily([], config, DAY)
    assert again.episode is None and again.reused is not None


@pytest.mark.slow
def test_a_second_run_the_same_morning_asks_the_site_only_whether_anything_changed(site: NewsSite, tmp_path: Path):
    config, _ = config_for(site, tmp_path, failing=False)
    pipeline.gather(config, DAY)
    fetched = dict(site.requests)
    pipeline.gather(config, DAY)
    for path in ("/rss.xml", "/atom.xml", "/news/school.html", "/news/park.html"):
        asked_again = site.requests[path] - fetched[path]
        # The site says no-cache: each page is asked again, conditionally, and answered 304.
        assert asked_again == site.not_modified[path] == 1, (path, asked_again, site.not_modified[path])


def test_the_http_client_limits_time_size_and_says_who_it_is(site: NewsSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with Fetcher(tmp_path / "http", timeout=0.5) as fetcher:
        with pytest.raises(SourceError, match="no answer within 0.5 s"):
            fetcher.get(f"{site.base}/slow.html")
        monkeypatch.setattr(fetch, "MAX_BODY_BYTES", 1000)
        with pytest.raises(SourceError, match=r"school\.html: the page is (\d+(\.\d+)? kB, )?over the 1 kB limit$"):
            fetcher.get(f"{site.base}/news/school.html")
    assert site.user_agents == {fetch.USER_AGENT} and fetch.USER_AGENT.startswith("briefing/")


def test_sources_in_the_config_are_checked(tmp_path: Path):
    with pytest.raises(ConfigError, match="exactly one of url"):
        Config.from_dict({"sources": [{"url": "https://a.example/rss", "path": "x"}]})
    with pytest.raises(ConfigError, match="unknown kind 'atom'"):
        Config.from_dict({"sources": [{"url": "https://a.example/rss", "kind": "atom"}]})
    with pytest.raises(ConfigError, match="unknown key 'link'"):
        Config.from_dict({"sources": [{"link": "https://a.example/rss"}]})
    config = Config.from_dict({"sources": [{"url": "https://news.example.cn/rss.xml"}, {"path": "pages/today"}]})
    assert [(s.name, s.priority) for s in config.sources] == [("news.example.cn", 0), ("today", 1)]
    result = CliRunner().invoke(app, ["daily", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no pages given and no [[sources]]" in result.output


class Hostile:
    """A site that misbehaves in the ways a real one does: one route a case."""

    def __init__(self) -> None:
        self.base = ""
        self.requests: Counter[str] = Counter()
        self.in_flight = self.most_in_flight = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self.handle)
        return app

    def feed(self, items: list[tuple[str, str, str, str]], head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
        body = "".join(
            f"<item><title>{t}</title><link>{link}</link><pubDate>{date}</pubDate><description>{text}</description></item>"
            for t, link, date, text in items
        )
        return f"{head}<rss version='2.0'><channel><title>坏站</title>{body}</channel></rss>".encode("utf-8", "surrogateescape")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.requests[path] += 1
        long_text = "全市新建的三所公办学校正式投入使用，共新增学位三千六百个，明年还将开工建设五所学校。" * 4
        today = "Thu, 26 Nov 2026 08:00:00 +0800"
        if path == "/future.xml":  # one item from the end of time
            items = [("三所学校投入使用", "", today, long_text), ("时间尽头的新闻", "", "9999-12-31T23:59:59-14:00", long_text)]
            return web.Response(body=self.feed(items), content_type="application/rss+xml")
        if path == "/inside.xml":  # items linking into the private network, directly and through a redirect
            items = [("内部一", "http://127.0.0.1:9/admin", today, "短"), ("内部二", f"{self.base}/redirect", today, "短")]
            return web.Response(body=self.feed(items), content_type="application/rss+xml")
        if path == "/redirect":
            raise web.HTTPFound(f"{self.base}/secret.html")
        if path == "/teasers.xml":  # many teasers, each linking to its page
            items = [(f"第{n}条", f"{self.base}/page/{n}", today, "短讯…") for n in range(6)]
            return web.Response(body=self.feed(items), content_type="application/rss+xml")
        if path in ("/slow-teasers.xml", "/held-teasers.xml"):  # teasers linking to pages that take their time
            kind = "trickle" if path == "/slow-teasers.xml" else "held"
            items = [(f"第{n}条", f"{self.base}/{kind}/{n}", today, "短讯…") for n in range(6)]
            return web.Response(body=self.feed(items), content_type="application/rss+xml")
        if path.startswith("/held/"):  # half a second each, counting how many are asked at once
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            await asyncio.sleep(0.5)
            self.in_flight -= 1
            return web.Response(text=f"<html><body><article><p>{long_text}</p></article></body></html>", content_type="text/html")
        if path.startswith("/trickle/"):
            path = "/trickle.html"
        if path.startswith("/page/") or path == "/secret.html":
            return web.Response(
                text=f"<html><body><article><h1>标题</h1><p>{long_text}</p></article></body></html>", content_type="text/html"
            )
        if path == "/damaged.xml":  # a control character in one title, a bad UTF-8 byte in another item
            items = [("三所学校\x0b投入使用", "", today, long_text), ("地铁开通", "", today, long_text[:10] + "\udcff" + long_text[10:])]
            return web.Response(body=self.feed(items), content_type="application/rss+xml")  # \udcff goes out as the byte 0xff
        if path == "/latin1.html":  # UTF-8 sent as ISO-8859-1
            html_page = f"<html><head><title>公园重新开放</title></head><body><article><p>{long_text}</p></article></body></html>"
            return web.Response(body=html_page.encode("utf-8"), headers={"Content-Type": "text/html; charset=iso-8859-1"})
        if path == "/trickle.html":  # a byte every 0.2 s: each read is quick, the whole never ends in time
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            for _ in range(100):
                await response.write(b" ")
                await asyncio.sleep(0.2)
            return response
        raise web.HTTPNotFound()


@pytest.fixture(scope="module")
def hostile():
    site = Hostile()
    with serving(site.app()) as base:
        site.base = base
        yield site


def read(hostile: Hostile, path: str, **settings: object):
    source = SourceConfig(url=f"{hostile.base}{path}", **settings)  # type: ignore[arg-type]
    with Fetcher(Path(tempfile.mkdtemp()) / "http", timeout=1) as fetcher:
        return read_sources((source,), fetcher)[0]


def test_an_item_dated_past_the_end_of_time_is_that_items_problem_only(hostile: Hostile):
    result = read(hostile, "/future.xml")
    good, bad = result.items
    assert result.error == "" and good.error == "" and good.article.paragraphs
    assert "its date is out of range" in bad.error


def test_links_and_redirects_into_the_private_network_are_not_fetched(hostile: Hostile):
    result = read(hostile, "/inside.xml")  # the feed itself is the operator's own address: trusted
    direct, redirected = result.items
    assert "127.0.0.1 is 127.0.0.1, a loopback, private, link-local" in direct.error and hostile.requests["/secret.html"] == 0
    assert "not fetched" in redirected.error and hostile.requests["/redirect"] == 0  # the link itself resolves to loopback
    with Fetcher(Path(tempfile.mkdtemp())) as fetcher:
        with pytest.raises(SourceError, match="secret.html: not fetched"):
            fetcher.get(f"{hostile.base}/redirect")  # trusted, but where it redirects is not
    allowed = read(hostile, "/inside.xml", allow_private=True)
    assert allowed.items[1].error == "" and hostile.requests["/secret.html"] == 1


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "169.254.169.254", "100.64.0.1", "[::1]", "[fd00::1]"]
)
def test_every_kind_of_non_public_address_is_refused(address: str):
    with pytest.raises(SourceError, match="non-public address"):
        check_public(f"http://{address}/latest/meta-data/")
    check_public("http://93.184.216.34/")  # a public address passes (an address needs no name lookup)


def test_a_feed_fetches_at_most_max_pages_linked_pages(hostile: Hostile):
    result = read(hostile, "/teasers.xml", allow_private=True, max_pages=2)
    fetched = [item for item in result.items if not item.error]
    assert len(fetched) == 2 and sum(hostile.requests[f"/page/{n}"] for n in range(6)) == 2
    assert all("over max_pages = 2" in item.error for item in result.items[2:])


@pytest.mark.slow
def test_a_trickling_page_is_cut_off_by_its_deadline_not_its_last_byte(hostile: Hostile):
    with Fetcher(Path(tempfile.mkdtemp()), timeout=1) as fetcher:
        with pytest.raises(SourceError, match="took longer than 1 s"):
            fetcher.get(f"{hostile.base}/trickle.html")  # 100 bytes at 0.2 s each would take 20 s


def test_a_control_character_or_a_bad_byte_costs_one_item_at_most(hostile: Hostile):
    result = read(hostile, "/damaged.xml")
    assert result.error == "" and [item.title for item in result.items] == ["三所学校投入使用", "地铁开通"]
    first, second = ("".join(item.article.paragraphs) for item in result.items)
    assert first.startswith("全市新建的三所公办学校") and second.startswith("全市新建的三所公办") and "公办学校正式投入使用" in second


def test_utf8_sent_as_latin_1_is_read_as_utf8(hostile: Hostile):
    result = read(hostile, "/latin1.html", kind="web")
    assert result.error == "" and "三所公办学校" in "".join(result.items[0].article.paragraphs)


def test_a_deeply_nested_line_costs_only_that_line(tmp_path: Path):
    lines = ["[" * 100_000, json.dumps({"title": "三所学校投入使用", "text": "全市新建的三所公办学校正式投入使用，新增学位三千六百个。"})]
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Fetcher(tmp_path / "http") as fetcher:
        result = read_sources((SourceConfig(path=str(tmp_path / "items.jsonl")),), fetcher)[0]
    nested, good = result.items
    assert "items.jsonl:1: not an item (RecursionError" in nested.error and good.error == "" and good.title == "三所学校投入使用"


def test_items_dated_after_the_episode_are_future_not_old(site: NewsSite, tmp_path: Path):
    config, _ = config_for(site, tmp_path, failing=False)
    statuses = {c.title: c.status for c in pipeline.gather(config, dt.date(2026, 11, 25)).choices}
    assert statuses["我市三所新建公办学校投入使用"] == "future"


@pytest.mark.slow
def test_linked_pages_are_fetched_several_at_a_time(hostile: Hostile):
    result = read(hostile, "/held-teasers.xml", allow_private=True)
    assert all(item.error == "" for item in result.items) and hostile.most_in_flight >= 2


@pytest.mark.slow
def test_a_source_gets_its_budget_and_no_more(hostile: Hostile):
    result = read(hostile, "/slow-teasers.xml", allow_private=True, budget_seconds=1)
    errors = [item.error for item in result.items]
    assert len(errors) == 6 and all(errors)  # every page trickles: none is read in time
    assert any("the source's time is up" in e for e in errors) and any("took longer" in e for e in errors)
