from pathlib import Path

import pytest

from briefing import pipeline
from briefing.errors import InputError
from briefing.ingest import decode_page, parse_page, read_articles
from briefing.pipeline import ingest_pages

from .conftest import EXAMPLE_PAGE, TWO_STORIES, write_page

SEED_TITLES = [
    ("区委常委会会议研究部署当前各项重点工作", "毫不松懈抓防控 斗志昂扬促发展", "港轩"),
    ("黄卫锋调研全区重点项目建设情况", "争分夺秒抢抓项目建设 干出复工复产“加速度”", "许应田"),
    ("曹金海对全区疫情防控工作进行再动员再部署", "将防控各项工作抓紧抓细抓实", "冯新市"),
    ("", "化危为机 出口订单逆增长", "许丛军 仇天琦"),
    ("区领导到党建工作联系点调研", "发挥基层党组织战斗堡垒作用", "陈学东"),
]


@pytest.fixture(scope="module")
def seed_articles():
    return read_articles(EXAMPLE_PAGE)


def test_seed_has_exactly_five_articles_with_titles_and_bylines(seed_articles):
    assert [(a.kicker, a.headline, a.byline) for a in seed_articles] == SEED_TITLES


def test_seed_paragraph_counts_keep_real_boundaries(seed_articles):
    assert [len(a.paragraphs) for a in seed_articles] == [5, 6, 3, 1, 3]
    assert all(p.endswith(("。", "”")) for a in seed_articles for p in a.paragraphs)


@pytest.mark.parametrize(
    "whole", ["疫情防控。要不断", "主要精神。", "大项目”的原则", "加速产业提档升级", "集中医学观察", "企业发展，为实现"]
)
def test_column_breaks_are_rejoined(seed_articles, whole):
    assert any(whole in p for a in seed_articles for p in a.paragraphs)


def test_bylines_and_furniture_never_reach_the_body(seed_articles):
    bodies = "".join(a.body for a in seed_articles)
    for label in ["官方微信", "官方微博", "港轩", "许应田", "冯新市", "陈学东", "许丛军"]:
        assert label not in bodies
    assert seed_articles[4].paragraphs[-1].endswith("帮助协调解决相关问题。")


def test_ascii_punctuation_inside_chinese_becomes_chinese(seed_articles):
    assert seed_articles[0].paragraphs[0].startswith("10日下午，区委书记")
    assert "," not in "".join(a.body for a in seed_articles)
    assert "各街道（开发区）" in seed_articles[2].body


def test_subtitle_and_trailing_byline_with_reporter_label():
    page = "## 引题\n# 主标题\n## 副标题在这里\n正文第一段。\n\n正文第二段。 本报记者 张三\n"
    (article,) = parse_page(page)
    assert (article.kicker, article.headline, article.subtitle) == ("引题", "主标题", "副标题在这里")
    assert article.byline == "本报记者 张三"
    assert article.paragraphs == ("正文第一段。", "正文第二段。")


def test_markdown_and_plain_single_articles(tmp_path: Path):
    (tmp_path / "a.md").write_text("# 标题一\n\n第一句话。第二句话。\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("城市新闻标题\n\n今天上午，新桥开通。\n", encoding="utf-8")
    ingested = ingest_pages([tmp_path])
    assert [a.headline for a in ingested.articles] == ["标题一", "城市新闻标题"]
    assert ingested.problems == ()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(encoding: str):
    text = EXAMPLE_PAGE.read_text(encoding="utf-8")
    assert decode_page(text.encode(encoding), "page") == text


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"  \n\n ", "the file is empty"),
        (bytes(range(256)) * 8, "binary file"),
        ("日本語のテキストです。東京都の天気".encode("shift_jis"), "unknown text encoding"),
        ("這是繁體中文的新聞報導內容".encode("big5"), "unknown text encoding"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path: Path, data: bytes, problem: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=problem) as caught:
        read_articles(path)
    assert str(path) in str(caught.value)


def test_page_with_no_article(tmp_path: Path):
    path = tmp_path / "furniture.txt"
    path.write_text("官方微信\n\n官方微博\n\n12\n", encoding="utf-8")
    with pytest.raises(InputError, match="no recognisable article"):
        read_articles(path)


def test_one_bad_file_among_several_is_reported(tmp_path: Path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    ingested = ingest_pages([EXAMPLE_PAGE, bad])
    assert len(ingested.articles) == 5
    assert ingested.problems == (f"{bad}: the file is empty",)


def test_valid_utf8_full_of_invisible_characters_is_read(tmp_path: Path):
    noisy = tmp_path / "noisy.txt"
    noisy.write_text("\u200b\u200d".join(TWO_STORIES) + "\x01" * 20, encoding="utf-8")
    assert [a.title for a in read_articles(noisy)] == ["市区新建三所学校", "地铁五号线开通"]
    blank = tmp_path / "blank.txt"
    blank.write_text("\u200b\u200c\x01\x02" * 50, encoding="utf-8")
    with pytest.raises(InputError, match="only control or invisible characters"):
        read_articles(blank)


def test_a_link_out_of_an_input_folder_is_not_followed(tmp_path: Path):
    folder = tmp_path / "pages"
    folder.mkdir()
    write_page(folder, TWO_STORIES, "a.txt")
    secret = write_page(tmp_path, "# 机密\n这份文件不应该被读出来。\n", "secret.txt")
    (folder / "b.txt").symlink_to(secret)
    (folder / "c.txt").symlink_to(folder / "a.txt")  # a link inside the folder is fine
    ingested = pipeline.ingest_pages([folder])
    assert "机密" not in [a.title for a in ingested.articles] and len(ingested.articles) == 4
    assert ingested.problems == (f"{folder / 'b.txt'}: not read, it is a link to a file outside {folder}",)


TRANSCRIPT_WITH_HTML = """# 午间新闻
<p><strong>本台消息</strong>（记者 王明）：今天上午，全市三所新建学校&nbsp;正式投入使用。</p><p>新增学位三千个，比去年多五百个。<br/>家长们表示满意。</p>
<div class="ad"><span>体温高于37度的学生，3<5，a < b 的情况都会记录。</span></div>
"""


def test_inline_html_is_markup_its_words_are_kept_and_comparisons_stay():
    from briefing.normalize import to_spoken

    article = parse_page(TRANSCRIPT_WITH_HTML)[0]
    assert article.paragraphs == (
        "本台消息（记者 王明）：今天上午，全市三所新建学校 正式投入使用。",
        "新增学位三千个，比去年多五百个。",
        "家长们表示满意。",
        "体温高于37度的学生，3<5，a < b 的情况都会记录。",
    )
    spoken = to_spoken("".join(article.paragraphs))
    assert "小于批" not in spoken and "strong" not in spoken and "三小于五" in spoken  # a comparison is still said
