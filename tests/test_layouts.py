"""Pages laid out as national papers, wire copy, provincial dailies, TV transcripts and messy OCR."""

from pathlib import Path

import pytest

from briefing.config import Config
from briefing.ingest import parse_page, read_articles
from briefing.plan import make_script
from briefing.summarize import summarize

PAGES = Path(__file__).parent / "pages"


def articles(name: str):
    return {a.headline: a for a in read_articles(PAGES / name)}


def spoken_story(article) -> str:
    return "".join(
        s.spoken for s in make_script((article,), Config(), __import__("datetime").date(2026, 5, 12)).segments if s.story is not None
    )


def test_national_daily_subtitle_dateline_subheads_and_credit():
    article = articles("national-daily.txt")["5G融合应用加速落地（今日谈）"]
    assert article.subtitle == "套餐用户规模超5000万"
    assert article.byline == "韩鑫"
    assert article.paragraphs[0].startswith("记者日前从工业和信息化部获悉")
    assert [article.paragraphs[i] for i in article.headings] == ["核心阅读", "平台赋值：用好成果促发展", "终端降价：让更多用户用得起"]
    assert "减少了一半以上，安全风险也随之下降。" in article.body  # a column break is still joined
    assert "摄" not in article.body and "人民视觉" not in article.body
    spoken = spoken_story(article)
    # What the issue heard glued together is gone: subtitle, dateline, reporter.
    for unwanted in ["套餐用户规模超五千万", "本报", "电记者", "韩鑫", "今日谈", "核心阅读", "平台赋值"]:
        assert unwanted not in spoken
    assert spoken.startswith("首先来看：") or "五吉融合应用加速落地" in spoken


def test_series_subtitle_top_byline_and_wire_dateline_with_bare_names():
    article = articles("national-daily.txt")["国际合作的中国行动"]
    assert article.subtitle == "携手全球抗疫 彰显中国担当⑤"
    assert article.byline.split()[-2:] == ["常碧罗", "刘政宁"] and "李明远" in article.byline
    assert article.paragraphs[0].startswith("中国援助的又一批医疗物资")
    assert [article.paragraphs[i] for i in article.headings] == ["一、物资援助持续推进", "二、经验分享不断深化"]
    assert "新华社发" not in article.body


def test_wire_copy_datelines_set_the_date_and_bylines():
    found = articles("wire-copy.txt")
    macau = found["澳门特区举行庆祝活动"]
    assert macau.paragraphs[0].startswith("澳门特区政府14日") and macau.byline == ""
    assert macau.date is not None and macau.date.endswith("-10-14")
    grain = found["全国秋粮收购进度过半"]
    assert grain.byline == "张三 李四"
    assert grain.paragraphs[0].startswith("记者14日从国家粮食")
    assert not any("图为" in p or "摄" in p for p in grain.paragraphs)  # caption and credit are for the eye
    assert found["人民网北京电 多地出台措施稳就业"].paragraphs[0].startswith("近期，多个省份")


def test_provincial_daily_short_subtitle_labelled_credit_captions_and_photo_story():
    found = articles("provincial-daily.txt")
    county = found["山区小县蹚出致富新路"]
    assert (county.kicker, county.subtitle, county.byline) == ("【三大攻坚战 各地在行动】", "韩正出席", "赵红 钱亮")
    assert county.paragraphs[0].startswith("初冬时节") and "王某" not in county.body
    night = found["夜间经济点亮城市"]
    assert night.paragraphs == ("夏日夜晚，老城区的步行街人头攒动，小吃摊、文创店和露天演出吸引了大批市民和游客。",)
    assert found["化工园区开展安全大检查"].byline == "周明"
    photo = found["新建学校秋季开学（图）"]  # a caption and no body: the caption is the story
    assert photo.paragraphs == ("新建学校的学生在操场上做课间操。",)


def test_tv_transcript_programme_tags_are_neither_bylines_nor_read():
    found = articles("tv-transcript.txt")
    rail = found["【新闻联播】全国铁路迎来返程客流高峰"]
    assert rail.byline == "" and rail.paragraphs[0].startswith("今天是假期最后一天")
    spoken = spoken_story(rail)
    assert "新闻联播" not in spoken and "全国铁路迎来返程客流高峰" in spoken


@pytest.mark.parametrize(
    ("lines", "paragraphs", "headings"),
    [
        # A column break: the fragment ends mid-sentence and the next line continues it.
        (["下一步将继续加快推进", "", "的各项促消费工作落地。"], ["下一步将继续加快推进的各项促消费工作落地。"], []),
        (["据统计，今年以来全市", "", "新增市场主体两万多户。"], ["据统计，今年以来全市新增市场主体两万多户。"], []),
        (
            ["前文到此结束。", "", "数字消费提速带动新业态蓬勃发展成为经济增长新引擎", "", "这一段落在长句中间被断开。"],
            ["前文到此结束。", "数字消费提速带动新业态蓬勃发展成为经济增长新引擎这一段落在长句中间被断开。"],
            [],
        ),
        # Subheads: short, after a finished paragraph, an 'X：Y' shape, an enumeration or a label.
        (
            ["前文到此结束。", "", "平台赋值：用好成果促发展", "", "正文继续。"],
            ["前文到此结束。", "平台赋值：用好成果促发展", "正文继续。"],
            [1],
        ),
        (
            ["前文到此结束。", "", "一、加大政策支持力度", "", "市里出台了措施。"],
            ["前文到此结束。", "一、加大政策支持力度", "市里出台了措施。"],
            [1],
        ),
        (
            ["前文到此结束。", "", "（二）完善工作机制", "", "各部门要协同。"],
            ["前文到此结束。", "（二）完善工作机制", "各部门要协同。"],
            [1],
        ),
        # Longer subheads that print marks as subheads: a bullet, a couplet, brackets.
        (
            ["前文到此结束。", "", "■以高质量党建引领基层治理现代化", "", "各街道要落实责任。"],
            ["前文到此结束。", "■以高质量党建引领基层治理现代化", "各街道要落实责任。"],
            [1],
        ),
        (
            ["前文到此结束。", "", "坚持问题导向 精准施策发力", "", "市里出台了措施。"],
            ["前文到此结束。", "坚持问题导向 精准施策发力", "市里出台了措施。"],
            [1],
        ),
        (
            ["前文到此结束。", "", "【织密织牢联防联控群防群控网络】", "", "各部门要协同。"],
            ["前文到此结束。", "【织密织牢联防联控群防群控网络】", "各部门要协同。"],
            [1],
        ),
        # A short line after an unfinished paragraph is its tail, not a subhead.
        (["会议强调，要毫不松懈抓好", "", "疫情防控", "", "工作。"], ["会议强调，要毫不松懈抓好疫情防控工作。"], []),
    ],
)
def test_subhead_or_column_break(lines, paragraphs, headings):
    page = "\n".join(["# 标题", "", "正文开头是一个完整的句子。", ""] + lines) + "\n"
    (article,) = parse_page(page)
    assert list(article.paragraphs[1:]) == paragraphs
    assert [i - 1 for i in article.headings] == headings


def test_subheads_are_not_read_in_the_summary():
    article = articles("national-daily.txt")["5G融合应用加速落地（今日谈）"]
    summary = summarize(article)
    assert all(article.paragraphs[i] not in summary.text for i in article.headings)


def test_a_long_first_line_without_punctuation_is_not_a_subtitle():
    (article,) = parse_page("# 标题\n\n今年以来全市社会消费品零售总额稳步增长各类市场主体不断壮大\n\n其中餐饮收入增长最快。\n")
    assert article.subtitle == ""
    assert article.paragraphs == ("今年以来全市社会消费品零售总额稳步增长各类市场主体不断壮大其中餐饮收入增长最快。",)


def test_a_dateline_run_onto_a_headline_or_subtitle_is_split_off():
    page = (
        "# 全国人大常委会第十次会议在京举行本报北京6月3日电 （记者 王明）十三届全国人大常委会第十次会议3日在北京举行，审议多部法律草案。\n"
        "会议由委员长主持。\n\n"
        "# 三所新建学校投入使用\n"
        "——新增学位三千六百个新华社南京9月1日电 （记者 李华）全市三所新建公办学校今天正式投入使用。\n"
        "明年还将开工建设五所学校。\n\n"
        "# 本报讯记者节特别报道\n"  # no date: 本报讯 inside a headline stays
        "本报记者走进基层，记录身边的感人故事。\n"
    )
    run_in_headline, run_in_subtitle, undated = parse_page(page)
    assert run_in_headline.headline == "全国人大常委会第十次会议在京举行" and run_in_headline.byline == "王明"
    assert run_in_headline.paragraphs[0].startswith("十三届全国人大常委会") and "电" not in run_in_headline.paragraphs[0][:3]
    assert (run_in_subtitle.headline, run_in_subtitle.subtitle, run_in_subtitle.byline) == (
        "三所新建学校投入使用",
        "新增学位三千六百个",
        "李华",
    )
    assert run_in_subtitle.paragraphs[0].startswith("全市三所新建公办学校")
    assert undated.headline == "本报讯记者节特别报道"


def test_a_photo_credit_with_a_space_inside_the_name_is_not_read():
    page = "# 城北公园重新开放\n城北湿地公园改造后今天重新开放，新增步道八公里。王 明摄（人民视觉）\n游客在公园里散步。欧阳 小 明摄\n"
    (article,) = parse_page(page)
    assert article.paragraphs == ("城北湿地公园改造后今天重新开放，新增步道八公里。游客在公园里散步。",)
