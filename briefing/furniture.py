"""Furniture: the lines around a story that belong to the page or the site, never to the story.

On a printed page: social-media labels, page numbers, edition and editor lines (`is_page_furniture`,
whole lines). On the web: credits and sources (`来源：`, `责任编辑：`, `供稿 摄影/… 编辑/…`), original titles (`（原标题：…）`),
disclaimers and copyright, follow/app/QR prompts, navigation and comment counters. A line is
furniture by what it holds, wherever the label stands in it; a line that is a real sentence (it ends
with 。！？ and carries no furniture label) never is. Readers take furniture off the head and tail of a
story's body only: inside the story the same words are part of what is told.
"""

from __future__ import annotations

import re

_SENTENCE_END = "。！？!?"

# Lines that belong to the page, not to any story: social-media labels, page numbers,
# edition and editor lines. Matched against a whole stripped line.
_PRINTED_FURNITURE = [
    r"官方(微信|微博|抖音|网站|客户端|视频号)",
    r"(扫码|扫一扫|长按)关注.{0,8}",
    r"(微信)?公众号.{0,10}",
    r"第?\s*[0-9０-９A-Za-z]{1,3}\s*版.{0,12}",
    r"[A-Za-z]?\d{1,3}",
    r"[-—–]\s*\d{1,3}\s*[-—–]",
    r"(责任|本版)?(编辑|校对|美编|组版|版式|版面设计)[:：\s].{0,12}",
    r"(图片新闻|广告|要闻|综合新闻|本版导读|导读)",
    r".{0,12}\d{4}年\d{1,2}月\d{1,2}日\s*(星期|周)[一二三四五六日天].{0,12}",
]
_FURNITURE_RE = re.compile("|".join(f"(?:{p})" for p in _PRINTED_FURNITURE))


def is_page_furniture(line: str) -> bool:
    """True for a whole line of a printed page that belongs to no story: a social-media label, a page
    number, an edition or editor line (page files are matched line by line, whole)."""
    return bool(line) and _FURNITURE_RE.fullmatch(line) is not None


# Lines that close a story: whatever follows them belongs to the site, however long the line.
_ENDS_STORY = re.compile(
    r"原标题[:：]|免责声明|版权所有|版权归|未经(?:本站|本网)?(?:书面)?(?:授权|许可)|不得转载|禁止转载|转载请|请勿转载|"
    r"本文仅代表作者|不构成(?:任何)?投资建议|仅供参考，不构成|all rights reserved|copyright|©|正文(?:已)?结束|^\s*[（(]\s*完\s*[）)]\s*$|"
    r"^\s*(?:本文|本稿)(?:来源|来自|转载自|系|为|经)|^\s*[【\[]?(?:特别)?声明[】\]]?[:：]|网友评论仅供|^[-—–\s]*END[-—–\s]*$",
    re.IGNORECASE,
)
# Lines set into a story that are not told: photo credits and a video player's messages.
_SET_IN = re.compile(
    r"^\s*[（(【\[]?\s*(?:图片来源|图源|图片|视频来源|资料图|图|(?:数据|资料|图表)来源)\s*[:：|｜/]|(?:摄|供图)\s*[）)】\]]?\s*$|"
    r"播放此视频|无法播放|即将播放|观看完整版|广告剩余|关闭广告|拦截插件|视频加载中|请刷新试试"
)
# Prompts to do something other than listen: follow, scan, download, go back, read more.
_PROMPT = (
    r"点击(?:菜单|上方|下方|右上角|右下角|蓝字|关注|阅读原文|这里|查看|进入|看)|扫(?:描|一扫)?.{0,8}二维码|长按.{0,8}(?:二维码|识别|关注)|"
    r"关注.{0,10}(?:公众号|微信号|微博|抖音号|头条号|视频号)|下载.{0,10}(?:客户端|APP|App|app)|打开.{0,8}(?:客户端|APP|App)|"
    r"点个?在看|分享、点赞|返回.{0,12}首页|阅读原文|查看原文|更多精彩|欢迎(?:关注|分享|转发)|分享到|分享让|收藏本文|[>》]{2}\s*$|[（(]完[）)]\s*$|尽在.{0,10}(?:APP|App|客户端)|"
    r"微信扫一扫|预览时标签不可点|滑动看下一个|轻点两下|报料[:：]"
)
_PROMPT_RE = re.compile(_PROMPT)
# Labels of credit and source lines, followed by a colon, a slash or a space and a name.
_LABELLED = r"\s*(?:[:：/／|｜]|\s+\S)"
# Labels that close a story: its source, its editors, the page's own data.
_CREDIT_RE = re.compile(
    r"(?:来源|稿源|出处|责任编辑|责编|编辑|校对|审核|审校|终审|监制|制作|供稿|排版|美编|策划|统筹|"
    rf"发布时间|发布日期|更新时间|时间|日期|浏览|阅读|点击|字号|打印){_LABELLED}"
)
# A byline names who wrote or shot the story; it stands at either end of it ('《棱镜》作者 周纯').
_BYLINE_RE = re.compile(rf"(?:作者|记者|通讯员|实习生|文字|文图|图文|摄影|摄像|翻译|编译|整理){_LABELLED}")
# Whole lines: breadcrumbs, neighbour links, related-story labels, comment counters, tag lists, a date stamp.
_NAVIGATION_RE = re.compile(
    r"^(?:首页|当前位置|您(?:所在|现在)的位置|位置[:：])|^[【\[](?:纠错|打印|关闭|返回顶部)[】\]]|^(?:上一篇|下一篇|相关阅读|相关新闻|相关链接|推荐阅读|热门推荐|延伸阅读|"
    r"网友评论|发表评论|参与评论|热门跟贴|最新评论|标签|关键词|关键字)|^.{0,4}(?:推荐|相关|延伸|猜你喜欢|热门|排行|热点|精彩)[^。，！？]{0,8}$|"
    r"\d+\s*人参与|\d+\s*条?评论$|^[^。，！？]{0,30}(?:[|｜][^|｜。，！？]{1,12}){2,}$|"
    r"^(?:地\s*址|邮政编码|邮\s*编|电\s*话|传\s*真|电子信箱|电子邮箱|[Ee]-?mail|主页网址|网\s*址|技术支持|联系电话)\s*[:：]"
)
_DATE_STAMP_RE = re.compile(r"^\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?[^，。]*$")
_BRACKETED_RE = re.compile(r"^\s*[（(【\[](?P<inside>[^（）()【】\[\]]{1,60})[）)】\]]\s*$")
_BRACKET_CREDIT_RE = re.compile(r"记者|实习生|通讯员|编辑|责编|来源|贡献|综合|整理|报道|编译|作者")
_TRAILING_PROMPT_RE = re.compile(rf"(?<=[{_SENTENCE_END}”’」』）)])\s*(?:{_PROMPT}).{{0,24}}$")
_LEADING_MARKS_RE = re.compile(r"^[\W_]+")  # arrows, stars and emoji before a prompt
PROMPT_LINE_MAX = 40
CREDIT_LINE_MAX = 80  # longer lines with a credit label are sentences that mention one


def is_furniture_line(line: str) -> bool:
    """True for a line of the page around a story or set into it: a credit, source, original-title,
    disclaimer, copyright, prompt, navigation, photo-credit or video-player line; never a sentence of the story."""
    return furniture_kind(line)[0]


def ends_story(line: str) -> bool:
    """True for furniture that closes a story (a source, an editor, a disclaimer, a related-stories
    label…): a reader looking for the story's end stops there. Bylines, photo credits, prompts and
    date stamps may stand at its head or inside it."""
    return furniture_kind(line)[1]


def furniture_kind(line: str) -> tuple[bool, bool]:
    """(is furniture, closes a story) for one line, each rule tried once: a reader of a whole page
    asks both of every line."""
    text = line.strip()
    if not text:
        return False, False
    if _SET_IN.search(text):
        return True, False
    if _closes_story(text):
        return True, True
    if _PROMPT_RE.match(_LEADING_MARKS_RE.sub("", text)) and len(text) <= PROMPT_LINE_MAX:
        return True, False  # '点击上方蓝字关注我们！': a prompt, even with a sentence's ending
    if text.endswith(tuple(_SENTENCE_END)) or len(text) > CREDIT_LINE_MAX:
        return False, False
    return any(pattern.search(text) for pattern in (_PROMPT_RE, _DATE_STAMP_RE, _BYLINE_RE)), False


def _closes_story(text: str) -> bool:
    if _ENDS_STORY.search(text):
        return True
    bracketed = _BRACKETED_RE.match(text)
    if bracketed and _BRACKET_CREDIT_RE.search(bracketed.group("inside")):
        return True
    if text.endswith(tuple(_SENTENCE_END)) or len(text) > CREDIT_LINE_MAX:
        return False
    return _NAVIGATION_RE.search(text) is not None or _CREDIT_RE.search(text) is not None


def trim_furniture(paragraphs: list[str]) -> list[str]:
    """A story's paragraphs without furniture at their head and tail, and without a prompt run onto
    the last sentence; what is inside is left as it is."""
    kept = [paragraph for paragraph in paragraphs if paragraph.strip()]
    while kept and is_furniture_line(kept[0]):
        kept.pop(0)
    while kept:
        last = without_trailing_prompt(kept[-1])  # '…验收。（完）', '…持续。返回首页>>'
        if last and not is_furniture_line(last):
            kept[-1] = last
            break
        kept.pop()
    return kept


def without_trailing_prompt(line: str) -> str:
    """The line without a prompt run onto its last sentence ('…持续。返回腾讯网首页>>')."""
    return _TRAILING_PROMPT_RE.sub("", line).rstrip()
