import time

import pytest

from briefing.normalize import Lexicon, LexiconEntry, to_spoken, unspeakable
from briefing.pinyin import dictionary_readings

from .conftest import ROOT as PROJECT_ROOT

NEWS_RULES = [
    # year ranges and dates
    ("2019—2020年", "二零一九到二零二零年"),
    ("2019-2020年度", "二零一九到二零二零年度"),
    ("2015年08月08号", "二零一五年八月八号"),
    ("2020年4月10日", "二零二零年四月十日"),
    ("10日下午,区委书记", "十日下午，区委书记"),
    # number ranges, percentages, units
    ("3-5天", "三到五天"),
    ("3%-5%", "百分之三到百分之五"),
    ("增长22.6%", "增长百分之二十二点六"),
    ("出生率为7‰", "出生率为千分之七"),
    ("气温25℃", "气温二十五摄氏度"),
    ("气温-5℃", "气温零下五摄氏度"),
    ("面积120m²", "面积一百二十平方米"),
    ("面积3㎡", "面积三平方米"),
    ("1800万元", "一千八百万元"),
    ("1,800人", "一千八百人"),
    ("第1季度", "第一季度"),
    # negative numbers, fractions and percentages: 负, but a temperature below zero is 零下, as forecasts say it
    ("-1/3", "负三分之一"),
    ("下降-98%", "下降负百分之九十八"),
    ("同比-2.3%", "同比负百分之二点三"),
    ("气温-5℃至-1℃", "气温零下五摄氏度至零下一摄氏度"),
    ("最低气温-3℃至5℃", "最低气温零下三摄氏度至五摄氏度"),
    ("-0.5°C", "零下零点五摄氏度"),
    ("1/3的人", "三分之一的人"),
    # currency symbols are never dropped
    ("收入$1.5万", "收入一点五万美元"),
    ("₩100", "一百韩元"),
    ("€20", "二十欧元"),
    ("£5", "五英镑"),
    ("¥30", "三十元"),
    ("￥30", "三十元"),
    ("HK$100", "一百港元"),
    ("NT$200", "两百新台币"),
    ("US$3亿", "三亿美元"),
    ("$1,800", "一千八百美元"),
    # units that clash with letters; 5G and 4K stay letters
    ("重1.2g", "重一点二克"),
    ("每片500mg", "每片五百毫克"),
    ("5L水", "五升水"),
    ("5G网络", "五吉网络"),
    ("4K电视", "四开电视"),
    # dates written with dots, slashes or middle dots
    ("2019·2·10", "二零一九年二月十日"),
    ("2019.2.10", "二零一九年二月十日"),
    ("2019/2/10", "二零一九年二月十日"),
    # long digit strings: counts and amounts are numbers, phone-like contexts digit by digit
    ("共110111111人", "共一亿一千零一十一万一千一百一十一人"),
    ("金额123456789012元", "金额一千二百三十四亿五千六百七十八万九千零一十二元"),
    ("电话88886666", "电话八八八八六六六六"),
    # codes read digit by digit
    ("热线12345", "热线幺二三四五"),
    ("拨打0513-85123456", "拨打零五幺三，八五幺二三四五六"),
    ("手机13912345678", "手机幺三九幺二三四五六七八"),
    ("房间302", "房间三零二"),
    ("在302室", "在三零二室"),
    ("坐102路公交车", "坐幺零二路公交车"),
    ("坐3路公交", "坐三路公交"),
    # brackets, quotes, marks
    ("各街道(开发区)", "各街道、开发区"),
    ("党委（党组）书记", "党委、党组书记"),
    ("新桥（由市交通局投资建设，总长三公里）开通", "新桥，由市交通局投资建设，总长三公里，开通"),
    ("会议现场（图）", "会议现场"),
    ("抢抓“春夏之交”这个黄金期", "抢抓春夏之交这个黄金期"),
    ("《人民日报》评论", "人民日报评论"),
    ("等等……", "等等。"),
    ("他说……我们", "他说，我们"),
    ("新时代——新征程", "新时代，新征程"),
    # Latin letters, spelled for the offline voice
    ("GDP增长5%", "吉迪批增长百分之五"),
    ("5G基站", "五吉基站"),
    ("公司CEO表示", "公司西伊欧表示"),
    # headline halves
    ("毫不松懈抓防控 斗志昂扬促发展", "毫不松懈抓防控，斗志昂扬促发展"),
]


@pytest.mark.parametrize(("written", "spoken"), NEWS_RULES)
def test_news_rules(written: str, spoken: str):
    assert to_spoken(written) == spoken


@pytest.mark.parametrize(("written", "_"), NEWS_RULES)
def test_spoken_form_has_nothing_unspeakable(written: str, _: str):
    assert unspeakable(to_spoken(written)) == set()


def test_latin_kept_for_engines_that_read_it():
    assert to_spoken("GDP增长5%", latin=True) == "GDP增长百分之五"


BUNDLED_LEXICON = Lexicon.load(PROJECT_ROOT / "voices" / "lexicon.tsv")


@pytest.mark.parametrize("entry", BUNDLED_LEXICON.entries, ids=lambda e: e.written)
def test_bundled_lexicon_entries_give_the_noted_pinyin(entry: LexiconEntry):
    spoken = to_spoken(f"据{entry.written}介绍", BUNDLED_LEXICON)
    assert entry.spoken in spoken
    expected = entry.note.split(";")[0].split()
    assert dictionary_readings(entry.spoken) == expected


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Google和Android", "谷歌和安卓"),
        ("iPhone与Windows", "艾疯与温抖司"),
        ("google地图", "谷歌地图"),
        ("Googleplex", "吉欧欧吉艾勒伊批艾勒伊艾克斯"),
        ("GDP和CBS", "吉迪批和西比艾丝"),
    ],
)
def test_latin_names_are_said_as_words_and_acronyms_spelled(written: str, spoken: str):
    assert to_spoken(written, BUNDLED_LEXICON) == spoken


def test_lexicon_longest_match_wins_and_applies_after_normalization():
    lexicon = Lexicon(
        [
            LexiconEntry("单县", "善县"),
            LexiconEntry("单县二中", "善县第二中学"),
            LexiconEntry("五G", "五鸡"),
            LexiconEntry("CEO", "首席执行官"),
        ]
    )
    assert to_spoken("单县2中和单县", lexicon) == "善县第二中学和善县"
    assert to_spoken("5G", lexicon) == "五鸡"
    assert to_spoken("CEO说", lexicon) == "首席执行官说"


def test_lexicon_file_errors_name_the_line(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("written\tspoken\tnote\n单县\n", encoding="utf-8")
    from briefing.errors import ConfigError

    with pytest.raises(ConfigError, match="lexicon.tsv:2"):
        Lexicon.load(path)


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        to_spoken(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(
    "unit",
    ["a", "7", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw==", "中文abc123", "x@y.", "www.", "，1"],
    ids=["letters", "digits", "base64", "mixed", "at-signs", "dots", "commas"],
)
@pytest.mark.slow
def test_normalization_time_grows_linearly_with_the_input(unit: str):
    to_spoken("预热123")
    small, large = unit * (1000 // len(unit)), unit * (10000 // len(unit))
    ratio = _seconds("报道" + large + "。") / max(_seconds("报道" + small + "。"), 1e-4)
    assert ratio < 25, f"10x the input took {ratio:.1f}x the time"


def test_a_long_code_is_said_as_a_string_of_characters_not_spelled():
    assert to_spoken("附件编号QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw==已上传") == "附件编号一串字符已上传"
    assert to_spoken("身份证号码110101199003074514") == "身份证号码幺幺零幺零幺幺九九零零三零七四五幺四"


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("选2,3,4号", "选二、三、四号"),  # a list of numbers, each on its own
        ("第2,3,4名", "第二、三、四名"),
        ("1,234人", "一千二百三十四人"),  # a thousands separator groups three digits
        ("比分3-1", "比分三比一"),  # a score is said with 比, not as a subtraction
        ("以3-1战胜对手", "以三比一战胜对手"),
        ("比分为2:1", "比分为二比一"),
        ("3-5天", "三到五天"),  # a range is still a range
        ("公元前221年", "公元前二二一年"),  # a year, said digit by digit, not an amount
        ("第120111111位", "第一亿二千零一十一万一千一百一十一位"),  # after 第, a number is a cardinal
        ("增长-5%", "增长负百分之五"),
    ],
)
def test_lists_scores_and_years_before_the_common_era(written: str, said: str):
    assert to_spoken(written) == said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("第2个项目", "第二个项目"),  # an ordinal is never 两
        ("2个小时", "两个小时"),  # a count is
        ("95后的年轻人", "九五后的年轻人"),  # a birth cohort, digit by digit
        ("10后出生的孩子", "一零后出生的孩子"),
        ("3天后", "三天后"),  # a time after is not a cohort
        ("排在20后面", "排在二十后面"),
        ("营业时间18:00—20:00", "营业时间十八点到二十点"),  # a time range
        ("9:00-17:00开放", "九点到十七点开放"),
        ("7×24小时服务", "七乘二十四小时服务"),  # a product, each factor a number
        ("3*4米", "三乘四米"),
        ("8万元/平方米", "八万元每平方米"),  # a unit per unit
        ("人均120元/人", "人均一百二十元每人"),
        ("男/女", "男或女"),  # two words are still alternatives
        ("通过12306网站购票", "通过幺二三零六网站购票"),  # a service number before what it serves
        ("95588客服", "九五五八八客服"),
        ("12306人", "一万二千三百零六人"),  # a count is still a count
        ("11月2日", "十一月二日"),  # a lone 2: 二 as a day of the month (wetext says 两日)
        ("2日上午", "二日上午"),
        ("3号楼2单元", "三号楼二单元"),
        ("共2次", "共两次"),  # 两 as a count and an hour (wetext says 二次)
        ("提出2项措施", "提出两项措施"),
        ("下午2点", "下午两点"),
        ("近2年", "近两年"),
        ("2年级", "二年级"),
        ("第2次", "第二次"),
        ("12次", "十二次"),
        ("约1/4的受访者", "约四分之一的受访者"),  # a fraction after a word keeps the word out of it
        ("占地约2平方公里", "占地约两平方公里"),
        ("第1、2、3名", "第一、二、三名"),  # every number of a list after 第 is an ordinal
        ("刷新了9秒83的纪录", "刷新了九秒八三的纪录"),  # hundredths of a second, digit by digit
        ("二〇二四年", "二零二四年"),  # 〇 is a digit, not a mark to drop
    ],
)
def test_ordinals_cohorts_time_ranges_products_rates_and_service_numbers(written: str, said: str):
    assert to_spoken(written) == said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("共有123456789人", "共有一亿二千三百四十五万六千七百八十九人"),  # a count: an amount
        ("投资1234567890元", "投资十二亿三千四百五十六万七千八百九十元"),
        ("流量达到987654321", "流量达到九亿八千七百六十五万四千三百二十一"),  # bare, no label: an amount
        ("拨打13912345678", "拨打幺三九幺二三四五六七八"),  # a mobile number
        ("编号123456789", "编号幺二三四五六七八九"),  # after its label, an identifier
        ("订单号：20261126001", "订单号二零二六幺幺二六零零幺"),
        ("客服4008123456", "客服四零零八幺二三四五六"),  # a 400 service line
        ("卡号6222021234567890", "卡号六二二二零二幺二三四五六七八九零"),  # was half digits, half amount
        ("江城建工（600001）承建", "江城建工、六零零零零幺承建"),  # a stock code, not 六十万零一
        ("贵州茅台(600519.SH)收涨", "贵州茅台、六零零五幺九收涨"),
    ],
)
def test_a_long_number_is_an_amount_unless_its_context_makes_it_a_code(written: str, said: str):
    assert to_spoken(written) == said
