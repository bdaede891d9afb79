"""A stand-in news website: an RSS feed, an Atom feed and article pages as real sites write them
(navigation, ads, share buttons, related links, comments and an editor's credit around the story),
plus the failures sources meet: 404, 500, a malformed feed, a page with no article, a slow answer.
It answers conditional requests (ETag, Last-Modified) and counts what it was asked."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

from aiohttp import web

NEWS = Path(__file__).parent.parent / "news"
DAY = "2026-11-26"


def story(name: str) -> list[str]:
    return (NEWS / f"{name}.txt").read_text(encoding="utf-8").split("\n")


def article_page(title: str, paragraphs: list[str], published: str) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}_滨江新闻网</title>
<meta property="article:published_time" content="{published}">
<meta name="description" content="{escape(paragraphs[0][:60])}"></head>
<body>
<header><nav><a href="/">首页</a> <a href="/local">本地</a> <a href="/china">国内</a> <a href="/world">国际</a> <a href="/video">视频</a></nav>
<div class="ad">【广告】新楼盘火热认购中，首付低至二成，详询热线</div></header>
<div class="breadcrumb">当前位置：首页 &gt; 本地新闻 &gt; 正文</div>
<main><article>
<h1>{escape(title)}</h1>
<div class="info">来源：滨江日报 发布时间：{published[:10]} 字号：大 中 小</div>
{body}
<p class="editor">责任编辑：王小明</p>
</article>
<div class="share">分享到：微信 微博 QQ空间</div>
<aside class="related"><h3>相关阅读</h3><ul><li><a href="/n/1">我市召开安全生产工作会议</a></li><li><a href="/n/2">全市秋冬季爱国卫生运动启动</a></li></ul></aside>
<section class="comments"><h3>网友评论</h3><p>网友张先生：这是好事，点赞！</p><p>网友李女士：希望早日落实。</p></section></main>
<footer>版权所有 滨江日报社 未经授权禁止转载 备案号：X-ICP备00000000号</footer>
</body></html>"""


def rss(base: str) -> str:
    wire = story("wire-rail")
    items = [
        # The full wire story in the feed itself.
        (
            f"{base}/news/rail.html",
            "全国铁路今日预计发送旅客1350万人次",
            "<p>" + "</p><p>".join(p for p in wire if p) + "</p>",
            "Wed, 25 Nov 2026 23:30:00 +0000",
        ),
        # A teaser: the article is on its page.
        (
            f"{base}/news/school.html",
            "我市三所新建公办学校投入使用",
            "<p>今年秋季学期，我市新建的三所公办学校正式投入使用……</p>",
            "Thu, 26 Nov 2026 01:00:00 +0000",
        ),
        # Last week's.
        (
            f"{base}/news/old.html",
            "上周的旧闻",
            "<p>" + "上周的新闻内容，这里有足够长的文字。" * 20 + "</p>",
            "Fri, 20 Nov 2026 02:00:00 +0000",
        ),
        # A teaser whose page is gone.
        (f"{base}/news/gone.html", "链接失效的新闻", "<p>摘要……</p>", "Thu, 26 Nov 2026 02:00:00 +0000"),
    ]
    entries = "\n".join(
        f"<item><title>{escape(t)}</title><link>{link}</link><guid>{link}</guid><pubDate>{when}</pubDate>"
        f"<description>{escape(text)}</description></item>"
        for link, t, text, when in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>滨江日报</title><link>{base}/</link><description>滨江日报新闻</description>
{entries}
</channel></rss>"""


def atom(base: str) -> str:
    wire = [p for p in story("wire-rail") if p]
    edited = [p.replace("，", "、", 1) for p in wire[: len(wire) * 2 // 3 + 1]]  # re-headlined, re-punctuated, cut from the bottom
    metro = [p for p in story("metro") if p]
    entries = [
        ("铁路客流创新高 一天发送旅客超千万", f"{base}/wire/rail", edited, "2026-11-26T08:00:00+08:00"),
        ("地铁五号线一期今天开通", f"{base}/news/metro.html", metro, "2026-11-26T09:30:00+08:00"),
    ]
    body = "\n".join(
        f'<entry><title>{escape(t)}</title><link href="{link}"/><id>{link}</id><updated>{when}</updated>'
        f'<content type="html">{escape("".join(f"<p>{p}</p>" for p in text))}</content></entry>'
        for t, link, text, when in entries
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>江城晚报</title><id>{base}/atom</id><updated>2026-11-26T10:00:00+08:00</updated>
{body}
</feed>"""


class NewsSite:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.user_agents: set[str] = set()  # every User-Agent that reached the site
        self.base = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{path:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.requests[path] += 1
        self.user_agents.add(request.headers.get("User-Agent", ""))
        pages = {
            "/rss.xml": ("application/rss+xml; charset=utf-8", rss(self.base)),
            "/atom.xml": ("application/atom+xml; charset=utf-8", atom(self.base)),
            "/news/school.html": (
                "text/html; charset=utf-8",
                article_page("我市三所新建公办学校投入使用", story("school"), f"{DAY}T09:00:00+08:00"),
            ),
            "/news/park.html": (
                "text/html; charset=utf-8",
                article_page("城北湿地公园改造后重新开放", story("park"), f"{DAY}T10:00:00+08:00"),
            ),
            "/news/empty.html": ("text/html; charset=utf-8", "<html><body><nav>首页 新闻</nav><div class='ad'>广告</div></body></html>"),
            "/bad.xml": ("application/rss+xml", "<?xml version='1.0'?><rss><channel><item><title>坏的"),
        }
        if path == "/error.html":
            raise web.HTTPInternalServerError()
        if path == "/slow.html":
            await asyncio.sleep(1)  # longer than the test's timeout, shorter than the server's shutdown grace
        if path not in pages:
            raise web.HTTPNotFound()
        content_type, text = pages[path]
        body = text.encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = format_datetime(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == etag:
            self.not_modified[path] += 1
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})
