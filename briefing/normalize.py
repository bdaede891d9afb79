"""Normalize: written Chinese news text into the spoken form a TTS engine receives."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .lexicon import PINYIN_READING_RE as PINYIN_READING_RE
from .lexicon import Lexicon
from .lexicon import LexiconEntry as LexiconEntry
from .text import CJK, CLAUSE_MARKS, clean_text, to_chinese_punctuation

DIGIT_NAMES = "零一二三四五六七八九"
# Digits read one by one in codes, rooms and bus numbers use 幺 for 1, as announcers do.
CODE_DIGIT_NAMES = "零幺二三四五六七八九"

# How a Mandarin newsreader says each Latin letter, written with characters the offline voice knows.
LETTER_NAMES = {
    "A": "诶",
    "B": "比",
    "C": "西",
    "D": "迪",
    "E": "伊",
    "F": "艾弗",
    "G": "吉",
    "H": "艾尺",
    "I": "艾",
    "J": "杰",
    "K": "开",
    "L": "艾勒",
    "M": "艾姆",
    "N": "恩",
    "O": "欧",
    "P": "批",
    "Q": "丘",
    "R": "阿尔",
    "S": "艾丝",
    "T": "替",
    "U": "优",
    "V": "维",
    "W": "达布留",
    "X": "艾克斯",
    "Y": "歪",
    "Z": "贼德",
}

# What may remain in spoken text: Chinese characters and the pauses engines understand.
_UNSPEAKABLE_RE = re.compile(rf"[^{CJK}{CLAUSE_MARKS}]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def to_spoken(text: str, lexicon: Lexicon | None = None, latin: bool = False) -> str:
    """Return what a newsreader says for `text`: numbers, units and symbols in words.

    With `latin=False` (the offline voice) Latin letters are spelled the way a Mandarin
    reader says them; with `latin=True` acronyms are left for an engine that reads them.
    """
    from .pinyin import said_as_common

    text = said_as_common(_prepare(text))
    text = _apply_news_rules(text)
    text = "".join(_wetext_normalizer().normalize(piece) if _NEEDS_WETEXT_RE.search(piece) else piece for piece in _pieces(text))
    text = _after_wetext(text)
    if lexicon is not None:
        text = lexicon.apply(text)
    if not latin:
        text = spell_latin(text)
    return _cleanup(text, latin)


def unspeakable(spoken: str, latin: bool = False) -> set[str]:
    """The characters in `spoken` that no engine should receive (empty when all is well)."""
    bad = set(_UNSPEAKABLE_RE.findall(spoken))
    if latin:
        bad -= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ")
    return bad


def spell_latin(text: str) -> str:
    """'GDP' -> '吉迪批'; lower-case words are spelled letter by letter too."""
    return _LATIN_RE.sub(lambda match: LETTER_NAMES[match.group(0).upper()], text)


def read_digits(digits: str) -> str:
    """'0513' -> '零五一三'."""
    return "".join(DIGIT_NAMES[int(digit)] for digit in digits)


def read_code(digits: str) -> str:
    """'302' -> '三零二', '110' -> '幺幺零': numbers said digit by digit."""
    return "".join(CODE_DIGIT_NAMES[int(digit)] for digit in digits)


_NEEDS_WETEXT_RE = re.compile(r"[0-9%‰℃°]")
# wetext's tagger takes more than linear time in the length of its input, so long text goes to it in
# pieces of about this many characters, cut after a pause or between two Chinese characters (never
# inside a number).
WETEXT_PIECE = 100
_PIECE_BOUNDARY_RE = re.compile(f"(?<=[{CLAUSE_MARKS}])|(?<=[{CJK}])(?=[{CJK}])")


def _pieces(text: str) -> list[str]:
    pieces, start = [], 0
    for boundary in _PIECE_BOUNDARY_RE.finditer(text):
        if boundary.start() - start >= WETEXT_PIECE:
            pieces.append(text[start : boundary.start()])
            start = boundary.start()
    return [*pieces, text[start:]]


@lru_cache(maxsize=1)
def _wetext_normalizer():
    from wetext import Normalizer

    return Normalizer(lang="zh", operator="tn")


def _prepare(text: str) -> str:
    text = "".join(_fold_full_width(ch) for ch in clean_text(text))
    text = to_chinese_punctuation(text)
    text = text.replace("\u3000", " ").replace("〇", "零")  # 二〇二四年: 〇 is the digit zero, said 零
    # A space between Chinese words (headline halves) is a pause.
    text = re.sub(rf"(?<=[{CJK}”」])\s+(?=[{CJK}“「])", "，", text)
    return text.strip()


def _fold_full_width(ch: str) -> str:
    if "０" <= ch <= "９" or "Ａ" <= ch <= "Ｚ" or "ａ" <= ch <= "ｚ" or ch in "％．－":
        return unicodedata.normalize("NFKC", ch)
    return ch


_DASH = "—–\\-~～"
_RANGE_LINK = rf"\s*(?:[{_DASH}]{{1,2}}|至)\s*"
_NUMBER = r"\d+(?:\.\d+)?"


# Every quantifier is bounded: unbounded ones rescan a long run of letters from each position (quadratic).
_URL_RE = re.compile(
    r"(?:https?://|www\.)[\w./?=&%#~+-]{1,300}"
    r"|(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
    r"|(?<![\w-])[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.(?:com|cn|net|org|gov|edu)(?:\.cn)?(?:/[\w./?=&%#~+-]{0,300})?",
    re.ASCII,
)
# A run of letters, digits and symbols this long is no word or number a newsreader says (a code,
# a hash, base64): it is said as 一串字符 instead of letter by letter.
LONG_RUN_CHARS = 24
_LONG_RUN_RE = re.compile(rf"[A-Za-z0-9+/=_#&%~.:;,-]{{{LONG_RUN_CHARS + 1},}}")
LONG_RUN_SPOKEN = "一串字符"


# Currency symbols before an amount, and what a newsreader says after it: '$1.5万' -> '1.5万美元'.
CURRENCIES = {
    "US$": "美元",
    "HK$": "港元",
    "NT$": "新台币",
    "S$": "新加坡元",
    "A$": "澳元",
    "C$": "加元",
    "$": "美元",
    "¥": "元",
    "￥": "元",
    "€": "欧元",
    "£": "英镑",
    "₩": "韩元",
    "₽": "卢布",
    "₹": "卢比",
    "฿": "泰铢",
}
_CURRENCY_RE = re.compile(
    "("
    + "|".join(re.escape(symbol) for symbol in sorted(CURRENCIES, key=len, reverse=True))
    + r")\s*(\d[\d,]*(?:\.\d+)?)\s*(万亿|亿|万|千)?"
)
# A minus sign before a number (not between two numbers, which is a range): '-98%' -> '负98%'.
_NEGATIVE_RE = re.compile(r"(?<![\d.A-Za-z%])[-－−](?=\d)")
_BELOW_ZERO_RE = re.compile(r"(?<![\d.A-Za-z%])[-－−](?=\d+(?:\.\d+)?\s*(?:℃|°C|°|摄氏度))")
# Measure words a count of two is said 两 before (第 before it makes an ordinal: 第二次).
_COUNTED = "(?:平方|立方|次|倍|项|所|批|届|股|种|起|份|部|轮|台|成|则|款|只|支|组|架|艘|把|件|门|盏|棵|块|根|片|张|封|首|幅|笔|枚|颗|粒|对|双|副|辆)"
# What a quantity is counted per: the denominator of '元/平方米', '次/天'.
_PER_UNIT = "(?:平方米|平方公里|平米|立方米|公斤|千克|克|吨|斤|升|毫升|小时|分钟|秒|天|日|周|月|年|次|人|位|户|个|件|台|辆|套|间|张|份|亩|公里|千米|米|千瓦时|度)"
# '2019·2·10', '2019.2.10', '2019/2/10' -> '2019年2月10日'
_DOTTED_DATE_RE = re.compile(r"(?<![\d.])((?:19|20)\d{2})([·./])(1[0-2]|0?[1-9])\2(3[01]|[12]\d|0?[1-9])(?![\d.])")


def _apply_news_rules(text: str) -> str:
    # Web and mail addresses are not read on air; the show notes carry them.
    text = _URL_RE.sub("", text)
    text = _LONG_RUN_RE.sub(_long_run, text)
    # A list of small numbers, '选2,3,4号': each said on its own (a thousands separator groups three digits).
    text = re.sub(r"(?<![\d.,])\d{1,2}(?:,\d{1,2})+(?![\d.,])", lambda m: m.group().replace(",", "、"), text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators
    # A score is said with 比: '比分3-1', '以3-1战胜'.
    text = re.sub(r"(?<=比分)(为|是)?\s*(\d{1,3})\s*[-:：]\s*(\d{1,3})(?!\d)", r"\1\2比\3", text)
    text = re.sub(r"(?<!\d)(\d{1,3})\s*[-:：]\s*(\d{1,3})(?=的?比分|战胜|击败|获胜|取胜|告负|落败|负于|胜出|大胜|险胜)", r"\1比\2", text)
    # A year before the common era is a year, said digit by digit: '公元前221年' -> 公元前二二一年.
    text = re.sub(r"(?<=公元前)(\d{1,4})(?=年)", lambda m: read_digits(m.group(1)), text)
    text = _DOTTED_DATE_RE.sub(lambda m: f"{m.group(1)}年{int(m.group(3))}月{int(m.group(4))}日", text)
    text = _CURRENCY_RE.sub(lambda m: f"{m.group(2)}{m.group(3) or ''}{CURRENCIES[m.group(1)]}", text)
    # Below zero is 零下 in a temperature, 负 anywhere else: '-3℃' -> 零下三摄氏度, '-2.3%' -> 负百分之二点三.
    text = _BELOW_ZERO_RE.sub("零下", text)
    text = _NEGATIVE_RE.sub("负", text)
    # Year ranges: '2019—2020年' -> '二零一九到二零二零年'
    text = re.sub(
        rf"(?<!\d)(\d{{4}}){_RANGE_LINK}(\d{{4}})(?=年)",
        lambda m: f"{read_digits(m.group(1))}到{read_digits(m.group(2))}",
        text,
    )
    # Zero-padded months and days: '2015年08月08号' -> '2015年8月8号'
    text = re.sub(r"(?<=[年月\s])0(\d)(?=[月日号])", r"\1", text)
    text = re.sub(r"^0(\d)(?=[月日号])", r"\1", text)
    text = _numbers_in_context(text)
    text = _codes(text)
    # Percentage and per-mille ranges: '3%-5%' -> '3%到5%'
    text = re.sub(rf"({_NUMBER})%?{_RANGE_LINK}({_NUMBER})([%‰])", r"\1\3到\2\3", text)
    text = re.sub(rf"({_NUMBER})‰", r"千分之\1", text)
    # Number ranges before a unit or a Chinese word: '3-5天' -> '3到5天'
    text = re.sub(rf"(?<![\d.])({_NUMBER}){_RANGE_LINK}({_NUMBER})(?=[{CJK}%℃]|[a-zA-Z]+\b)", r"\1到\2", text)
    # Powers and comparisons, which wetext drops: '10^9' -> 10的9次方, '2³' -> 2的3次方, '≠' -> 不等于.
    text = re.sub(r"(?<=\d)\s*\^\s*((?:负|-)?\d+)", lambda m: f"的{m.group(1).replace('-', '负')}次方", text)
    text = re.sub(r"(?<=\d)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)(?![A-Za-z])", lambda m: f"的{m.group(1).translate(_SUPERSCRIPT_DIGITS)}次方", text)
    text = re.sub("[≠≈≤≥<>]", lambda m: _COMPARISONS[m.group()], text)
    # Squared and cubed units wetext does not know in every spelling.
    text = text.replace("㎡", "平方米").replace("m²", "平方米").replace("m2", "平方米").replace("km²", "平方公里")
    text = text.replace("m³", "立方米").replace("㎞", "公里")
    text = re.sub(r"(?<=\d)\s*km(?![A-Za-z])", "公里", text)
    text = re.sub(r"(?<=\d)\s*kg(?![A-Za-z])", "公斤", text)
    # Lower-case units that would otherwise be spelled as letters ('5G' the network stays a letter).
    text = re.sub(r"(?<=\d)\s*(mg|μg|ug|g|ml|mL|L)(?![A-Za-z])", lambda m: _SMALL_UNITS[m.group(1)], text)
    text = re.sub(r"(?<=\d)\s*[kK][mM]/[hH]", "公里每小时", text)
    return _read_asides_and_marks(text)


def _codes(text: str) -> str:
    """Numbers that are codes, said digit by digit: rooms, routes, flights, phones, hotlines, labels."""
    # Room, bus, flight and line numbers are read digit by digit.
    text = re.sub(r"(?<!\d)(\d{2,})(?=路(?:公交|汽车|车|$|[，。、；\s])|次列车|号线|室|房间|航班)", lambda m: read_code(m.group(1)), text)
    text = re.sub(r"(?<=房间|航班|车次|门牌)(\d+)", lambda m: read_code(m.group(1)), text)
    text = re.sub(r"(?<=[A-Za-z])(\d{2,})(?=次|航班)", lambda m: read_code(m.group(1)), text)
    # Phone and hotline numbers.
    text = re.sub(r"(?<!\d)(0\d{2,3})[-－](\d{7,8})(?!\d)", lambda m: f"{read_code(m.group(1))}，{read_code(m.group(2))}", text)
    text = re.sub(r"(?<!\d)(1[3-9]\d{9})(?!\d)", lambda m: read_code(m.group(1)), text)
    text = re.sub(r"(?<=热线|电话|拨打|号码|专线)\s*[：:]?\s*(\d{3,})", lambda m: read_code(m.group(1)), text)
    # A five-digit service number before what it serves: '12306网站', '95588客服'.
    text = re.sub(
        r"(?<![\d.])(12\d{3}|9[56]\d{3})(?=网站|官网|热线|平台|客服|服务|购票|小程序|App|APP|app)", lambda m: read_code(m.group(1)), text
    )
    # A long bare number is an amount (人口1400000000, 投资1234567890元) unless it is a code: after its
    # label (编号, 卡号, 订单号…), a 400 or 800 service line, or more digits than an amount is written with.
    text = re.sub(r"(?<=编号|账号|卡号|单号|工号|学号|证号|批号|编码|代码|邮编)\s*[：:]?\s*(\d{3,})", lambda m: read_code(m.group(1)), text)
    text = re.sub(r"(?<!\d)([48]00\d{7})(?!\d)", lambda m: read_code(m.group(1)), text)
    # A stock code: six digits in brackets after a company's name, with or without its market (600519.SH).
    text = re.sub(r"(?<=[\u4e00-\u9fa5][（(])(\d{6})(?:\.(?:SH|SZ|BJ|HK))?(?=[）)](?![元万亿]))", lambda m: read_code(m.group(1)), text)
    text = re.sub(r"(?<![\d.])(\d{13,})(?![\d.])", lambda m: read_code(m.group(1)), text)
    return text


def _numbers_in_context(text: str) -> str:
    """What a number is, from the words around it, where wetext reads it otherwise."""
    # A lone 2 is 二 as a day of the month and a unit's number, 两 as a count and an hour: wetext
    # has these the other way round ('11月2日' -> 十一月两日, '共2次' -> 共二次).
    text = re.sub(r"(?<![\d.])2(?=日)", "二", text)
    text = re.sub(r"(?<=[楼栋座])2(?=单元)", "二", text)
    text = re.sub(rf"(?<![\d.第])2(?={_COUNTED}|点(?![\d])|年(?![级度]))", "两", text)
    # Every number of a list after 第 is an ordinal: '第1、2名' -> 第一、二名.
    text = re.sub(r"第\d+(?:、\d+)+", lambda m: re.sub(r"(?<!\d)2(?!\d)", "二", m.group()), text)
    # Hundredths of a second are said digit by digit: '9秒83' -> 九秒八三.
    text = re.sub(r"(?<=\d秒)(\d{2})(?![\d万亿千百个])", lambda m: read_digits(m.group(1)), text)
    # A fraction right after a word: wetext would take the word into it ('约1/4' -> 四分之约一).
    text = re.sub(rf"(?<=[{CJK}])(\d+)/(\d+)(?![\d/])", r"\2分之\1", text)
    # A birth cohort is said digit by digit: '95后' -> 九五后 (wetext reads some, not all).
    text = re.sub(r"(?<![\d.第])([0-9][05])后(?!面|来|续|期|者)", lambda m: read_digits(m.group(1)) + "后", text)
    # A time range, and a product of two numbers: '18:00—20:00' -> 18:00到20:00, '7×24小时' -> 7乘24小时.
    text = re.sub(rf"(?<!\d)(\d{{1,2}}:\d{{2}})\s*[{_DASH}]{{1,2}}\s*(\d{{1,2}}:\d{{2}})(?!\d)", r"\1到\2", text)
    text = re.sub(r"(?<=\d)\s*[×✕*]\s*(?=\d)", "乘", text)
    # A unit per unit: '8万元/平方米' -> 8万元每平方米, '120元/人' -> 120元每人.
    text = re.sub(rf"(?<=\d)([{CJK}]{{1,3}})\s*/\s*(?={_PER_UNIT})", r"\1每", text)
    return text


def _long_run(match: re.Match[str]) -> str:
    run = match.group()
    # A long number with its separators ('1,234,567,890.5') is still read as a number.
    return run if re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?|\d+\.\d+", run) and len(run) <= 40 else LONG_RUN_SPOKEN


_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_COMPARISONS = {"≠": "不等于", "≈": "约等于", "≤": "小于等于", "≥": "大于等于", "<": "小于", ">": "大于"}
_SMALL_UNITS = {"mg": "毫克", "μg": "微克", "ug": "微克", "g": "克", "ml": "毫升", "mL": "毫升", "L": "升"}


def _read_asides_and_marks(text: str) -> str:
    # Bracketed asides: a short one is part of a list ('党委（党组）书记' -> '党委、党组书记'),
    # a long one becomes its own clause, and labels like '（图）' or '（记者 张三）' are dropped.
    def aside(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if not inner or re.fullmatch(
            r"(图|摄|记者|本报记者|通讯员|见习记者|下同|完|待续|上|下|注).{0,12}|[左右前后中][一二三四五六七八九排起左右]{0,4}", inner
        ):
            return ""
        if len(inner) <= 8 and not re.search(r"[，。；：！？、]", inner):
            return "、" + inner
        return "，" + inner + "，"

    text = re.sub(r"[（(【\[]([^（）()【】\[\]]*)[）)】\]]", aside, text)
    text = re.sub(r"[“”‘’\"'「」『』《》〈〉]", "", text)
    text = re.sub(r"(……|…|\.\.\.+|⋯+)(?=\s*$)", "。", text)
    text = re.sub(r"(……|…|\.\.\.+|⋯+)", "，", text)
    text = re.sub(r"(——|—|–|―)+", "，", text)
    text = re.sub(r"(?<=[A-Za-z])\s*&\s*(?=[A-Za-z])", "和", text)
    text = text.replace("&", "和").replace("+", "加").replace("@", "艾特")
    text = re.sub(rf"(?<=[\d%])\s*/\s*(?=[{CJK}])", "每", text)
    text = re.sub(rf"(?<=[{CJK}])\s*/\s*(?=[{CJK}])", "或", text)
    return text


def _after_wetext(text: str) -> str:
    # wetext leaves some symbols and a few spellings behind.
    text = text.replace("℃", "摄氏度").replace("°", "度").replace("‰", "")
    text = re.sub(r"(\d)", lambda m: DIGIT_NAMES[int(m.group(1))], text)
    return text.replace("第两", "第二")  # an ordinal is never 两: '第2个' -> 第二个


def _cleanup(text: str, latin: bool) -> str:
    text = re.sub(r"[·・•]", "", text)
    if latin:
        text = re.sub(r"\s+", " ", text)
        text = re.sub(rf"(?<=[{CJK}，。！？、；：])\s+|\s+(?=[{CJK}，。！？、；：])", "", text)
    else:
        text = re.sub(r"\s+", "", text)
    allowed = rf"{CJK}{CLAUSE_MARKS}" + ("A-Za-z " if latin else "")
    text = re.sub(rf"[^{allowed}]", "", text)
    # One pause mark where several meet; none at the start.
    text = re.sub(rf"([{CLAUSE_MARKS}])[{CLAUSE_MARKS}]+", lambda m: _strongest(m.group(0)), text)
    return text.lstrip(CLAUSE_MARKS)


def _strongest(marks: str) -> str:
    for mark in "。！？；：，、":
        if mark in marks:
            return mark
    return marks[0]
