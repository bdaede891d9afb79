"""Web pages: the article, its real headline and nothing around it, on pages written for these
tests in the layouts real news sites use (a portal with comments and rankings, a government page in
an old layout table after a stray </html>, a society site with a generic <title>, a WeChat
article, an author page with other headlines, a finance brief, a page whose JSON-LD holds the
body, a national paper, a finance portal). tests/web/gold.jsonl says what a listener should hear."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from aiohttp import web
from typer.testing import CliRunner

from briefing.cli import app
from briefing.credits import read_dateline
from briefing.errors import SourceError
from briefing.furniture import ends_story, is_furniture_line
from briefing.ingest import parse_page
from briefing.sources import to_article
from briefing.webpage import html_paragraphs, read_web_page

from .conftest import tone_programme
from .fakes.local_server import serving

WEB = Path(__file__).parent / "web"
GOLD = [json.loads(line) for line in (WEB / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def han_and_digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit() or "\u4e00" <= ch <= "\u9fff")


def read(file: str):
    """A page as a `kind = "web"` source reads it: the page's article, cleaned as every article is."""
    page = read_web_page((WEB / "pages" / file).read_text(encoding="utf-8"))
    return to_article(page.title, page.text, "test")


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_a_page_gives_its_headline_its_whole_body_and_nothing_else(gold: dict):
    article = read(gold["file"])
    body = han_and_digits("".join(article.paragraphs))
    assert han_and_digits(article.headline) == han_and_digits(gold["title"])
    # The dateline and any furniture before the story are gone; a standfirst (划重点) stays before it.
    assert body.startswith(han_and_digits(gold.get("standfirst", "") + gold["lede"]))
    assert body.endswith(han_and_digits(gold["last"]))
    heard = han_and_digits(article.headline) + body
    assert [noise for noise in gold["noise"] if han_and_digits(noise) in heard] == []
    if gold.get("whole"):  # a sentence with an inline link or a line break inside stays one sentence
        assert any(gold["whole"] in paragraph for paragraph in article.paragraphs)
    if gold.get("paragraphs"):
        assert len(article.paragraphs) == gold["paragraphs"]


def test_a_stray_end_of_document_does_not_lose_the_article():
    from lxml import html

    page = (WEB / "pages" / "government-table.html").read_text(encoding="utf-8")
    assert "850元" not in html.fromstring(page).text_content()  # lxml's own parser drops it: the case is reached
    assert "850元" in read("government-table.html").paragraphs[1]  # after the salutation


@pytest.mark.parametrize(
    ("file", "published"),
    [
        ("stated-body.html", "2026-11-30T09:00:00+08:00"),
        ("finance-portal.html", "2026-11-30T10:20:00+08:00"),
        ("society-site.html", "2026-10-18"),
    ],
)
def test_a_page_says_when_it_was_published(file: str, published: str):
    """From JSON-LD, from a meta tag, else from the date shown under the headline (an old article is old)."""
    assert read_web_page((WEB / "pages" / file).read_text(encoding="utf-8")).published == published


def test_a_page_without_an_article_is_a_source_error():
    with pytest.raises(SourceError, match="no article text"):
        read_web_page("<html><body><nav><a>首页</a> <a>新闻</a></nav><footer>版权所有</footer></body></html>", "https://x.cn/a")


FURNITURE = [
    "（原标题：地铁5号线全线贯通，市民出行再添新通道）",
    "本文来源：江城晚报 责任编辑：刘洋_NC1234",
    "医技科供稿 摄影/张三 编辑/李四",  # the label need not start the line
    "[责任编辑：王五]",
    "（实习生赵六对此文亦有贡献）",
    "2026-11-30 12:05来源：某某网作者：王立新",
    "【免责声明】本文仅代表作者本人观点，与本网无关。",
    "版权所有 某某日报社 未经授权禁止转载",
    "点击上方蓝字关注我们",
    "返回某某网首页>>",
    "1032人参与308评论",
    "20261130|地铁|交通|民生",
    "您的浏览器暂时无法播放此视频.",
    "图片来源：江城地铁集团",
    "▼点击上方蓝字关注我们！",  # a prompt, though it ends like a sentence
    "觉得有用，请点个在看",
    "- END -",
    "图 | 滨海区融媒体中心",
    "往期推荐",
    "【纠错】",
]
SENTENCES = [
    "记者从市交通局了解到，5号线将于明年元旦前开通。",
    "这些意见来源于群众，也要回到群众中去。",
    "编辑部的同事们连夜赶稿，终于在凌晨完成了排版。",
    "他说：“关注民生，就要从一碗热饭做起。”",
    "版权保护意识的提高，让原创作者受益匪浅。",
    "他点击查看了通知，才知道自己中了签。",
    "网友纷纷点赞。",
]


@pytest.mark.parametrize("line", FURNITURE)
def test_furniture_is_known_by_what_it_holds(line: str):
    assert is_furniture_line(line)


@pytest.mark.parametrize("line", SENTENCES)
def test_a_sentence_that_mentions_a_label_is_never_furniture(line: str):
    assert not is_furniture_line(line) and not ends_story(line)


def test_photo_credits_and_prompts_do_not_end_a_story_but_credits_do():
    assert not ends_story("图片来源：江城地铁集团") and not ends_story("数据来源：国家统计局")
    assert ends_story("本文来源：江城晚报") and ends_story("相关新闻") and ends_story("(责编：赵敏、孙立)")


@pytest.mark.parametrize(
    ("paragraph", "rest", "reporters"),
    [
        ("新京报讯（记者 陆一夫）11月25日，记者登录平台发现……", "11月25日，记者登录平台发现……", ("陆一夫",)),
        ("新京报讯2019年篮球世界杯排位赛，中国男篮获胜。", "2019年篮球世界杯排位赛，中国男篮获胜。", ()),
        ("本站讯（职工通讯员 李琴雯 刘会）为深入推进党建工作，……", "为深入推进党建工作，……", ("李琴雯", "刘会")),
        ("华龙网-新重庆客户端讯 今日，记者从公安分局了解到……", "今日，记者从公安分局了解到……", ()),
        ("证券时报e公司讯，当升科技：竞得工业用地。", "当升科技：竞得工业用地。", ()),
        ("IT之家9月30日消息 据外媒报道，……", "据外媒报道，……", ()),
        ("据中新网9月9日报道，多地发布降温预警。", "多地发布降温预警。", ()),
        ("某某网10月4日讯（记者 王明）国庆假期首日，……", "国庆假期首日，……", ("王明",)),
        ("【文/陈思雨】中午十一点半，……", "中午十一点半，……", ("陈思雨",)),
        ("新华社北京2月29日电 2月28日，国务院印发通知。", "2月28日，国务院印发通知。", ()),
    ],
)
def test_web_datelines_and_credits_open_no_story(paragraph: str, rest: str, reporters: tuple[str, ...]):
    dated = read_dateline(paragraph)
    assert dated is not None and dated.rest == rest and dated.reporters == reporters


@pytest.mark.parametrize("paragraph", ["通讯员们连夜赶到现场。", "据通讯社报道，会议将推迟。", "资讯汇总：今日要闻。"])
def test_a_sentence_that_starts_like_a_dateline_is_left_whole(paragraph: str):
    assert read_dateline(paragraph) is None


def test_page_files_use_the_same_dateline_rules():
    page = "# 城北湿地公园重新开放\n\n新京报讯（记者 陆一夫）经过一年改造，城北湿地公园今天重新开放。\n\n公园新增步道三公里。\n"
    article = parse_page(page)[0]
    assert article.paragraphs[0] == "经过一年改造，城北湿地公园今天重新开放。" and "陆一夫" in article.byline


def test_a_dateline_after_an_inner_headline_and_a_caption_is_found():
    text = "姚明对周琦说了啥？\n\n姚明场边支招周琦。视频截图\n\n新京报讯 中国男篮以77比73战胜韩国队。\n\n周琦全场砍下两双。"
    article = to_article("姚明对周琦说了啥", text, "test")
    assert all("新京报讯" not in p and "视频截图" not in p for p in article.paragraphs)


def test_feed_item_paragraphs_stay_paragraphs():
    text = "\n\n".join(html_paragraphs("<p>第一段，讲的是开头。</p><p>第二段，讲的是经过。</p><p>第三段，讲的是结果。</p>"))
    assert len(to_article("标题", text, "feed").paragraphs) == 3


def test_a_long_article_of_many_lines_is_one_paragraph_joined_in_order():
    lines = [f"第{n}行的文字，" for n in range(20000)] + ["全文完。"]
    article = to_article("很长的文章", "\n".join(lines), "test")
    assert len(article.paragraphs) == 1 and article.paragraphs[0] == "".join(lines)


@pytest.fixture
def pages_site():
    app_ = web.Application()
    app_.router.add_static("/", WEB / "pages")
    with serving(app_) as base:
        yield base


def test_briefing_ingest_url_prints_what_a_web_source_understood(pages_site: str, tmp_path: Path):
    _, config_file = tone_programme(tmp_path)
    url = f"{pages_site}/portal-news.html"
    result = CliRunner().invoke(app, ["ingest", url, "--json", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    [article] = json.loads(result.output)
    assert article["headline"] == '江城地铁5号线"最后一公里"打通 明年元旦前通车' and len(article["paragraphs"]) == 6
    assert article["byline"] == "周明远 林晓"
    missing = CliRunner().invoke(app, ["ingest", f"{pages_site}/nothing.html", "--config", str(config_file)])
    assert missing.exit_code == 1 and "404" in missing.output


def test_briefing_script_without_pages_reviews_what_the_sources_offer(pages_site: str, tmp_path: Path):
    sources = "".join(f'[[sources]]\nurl = "{pages_site}/{name}"\nkind = "web"\n' for name in ("wechat-article.html", "news-br.html"))
    _, config_file = tone_programme(tmp_path, tables=sources)
    out = tmp_path / "review"
    result = CliRunner().invoke(app, ["script", "--out", str(out), "--date", "2026-11-29", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    script = json.loads((out / "script.json").read_text(encoding="utf-8"))
    told = json.dumps(script, ensure_ascii=False)
    assert "社区食堂" in told and "口袋公园" in told  # both pages show 2026-11-29 under their headline
    assert not list(tmp_path.rglob("told.sqlite"))  # a review marks nothing as told


def test_a_feed_items_full_text_loses_its_furniture_too():
    from briefing.sources import _FeedEntry

    content = "<p>（原标题：全市新增公办学位三千个）</p><p>今年秋季，全市新增公办学位三千个。</p><p>新学校均已通过验收。（完）</p><p>责任编辑：张三</p>"
    entry = _FeedEntry.of({"title": "新增学位三千个", "link": "https://x.cn/1", "content": [{"value": content}]})
    assert entry.text == "今年秋季，全市新增公办学位三千个。\n\n新学校均已通过验收。"


def test_without_a_title_tag_the_headline_is_the_h1_above_the_story():
    page = (WEB / "pages" / "portal-news.html").read_text(encoding="utf-8")
    untitled = page.replace(page[page.index("<title>") : page.index("</title>") + len("</title>")], "")
    assert read_web_page(untitled).title == '江城地铁5号线"最后一公里"打通 明年元旦前通车'
