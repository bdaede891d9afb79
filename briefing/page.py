"""Page: index.html beside the feed, listing episodes with a player, chapters, transcript and a QR code."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

import segno

from .config import Config
from .episode import CHAPTERS_FILE, PAGE_FILE, SRT_FILE, VTT_FILE, PublishedEpisode, clock, read_vtt
from .files import write_atomically

STYLE = """
body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f6fa;color:#1d2433}
header{background:#123a7a;color:#fff;padding:1.2rem 1rem}header h1{margin:0 0 .3rem;font-size:1.5rem}header p{margin:0;opacity:.85}
main{max-width:46rem;margin:0 auto;padding:1rem}
.subscribe{display:flex;gap:1rem;align-items:center;background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:1rem}
.subscribe svg{flex:none;width:8rem;height:8rem}.subscribe a{word-break:break-all}
.episode{background:#fff;border-radius:.6rem;padding:1rem;margin-bottom:1rem}
.episode h2{font-size:1.15rem;margin:0 0 .3rem}.meta{color:#5b6475;font-size:.9rem;margin:0 0 .6rem}
audio{width:100%}
.chapters{list-style:none;padding:0;margin:.6rem 0}
.chapters button,.transcript p{all:unset;cursor:pointer;display:block;width:100%;padding:.45rem .5rem;border-radius:.4rem;box-sizing:border-box}
.chapters button:hover,.transcript p:hover{background:#e8eefb}.chapters .now{background:#123a7a;color:#fff}
.time{font-variant-numeric:tabular-nums;color:#5b6475;margin-right:.5rem}.now .time{color:#cfe}
.transcript p{line-height:1.6}.files{font-size:.9rem}
@media (max-width:30rem){.subscribe{flex-direction:column;text-align:center}}
"""

SCRIPT = """
document.addEventListener('click', function (event) {
  var target = event.target.closest('[data-start]');
  if (!target) return;
  var audio = target.closest('.episode').querySelector('audio');
  audio.currentTime = parseFloat(target.dataset.start);
  var playing = audio.play();
  if (playing) playing.catch(function () {});
});
document.querySelectorAll('.episode audio').forEach(function (audio) {
  audio.addEventListener('timeupdate', function () {
    var buttons = audio.closest('.episode').querySelectorAll('.chapters button');
    buttons.forEach(function (button, n) {
      var next = buttons[n + 1];
      var inside = audio.currentTime >= parseFloat(button.dataset.start) &&
        (!next || audio.currentTime < parseFloat(next.dataset.start));
      button.classList.toggle('now', inside);
    });
  });
});
"""


Cue = tuple[float, float, str]  # start, end, text


def write_page(out_root: Path, episodes: list[PublishedEpisode], config: Config, feed_url: str) -> Path:
    path = out_root / PAGE_FILE
    transcripts = {episode.folder: _cues(out_root / episode.folder / VTT_FILE) for episode in episodes}
    write_atomically(path, render_page(episodes, config, feed_url, transcripts).encode("utf-8"))
    return path


def render_page(episodes: list[PublishedEpisode], config: Config, feed_url: str, transcripts: dict[str, list[Cue]]) -> str:
    """The listening page for `episodes`, each with its transcript's cues from `transcripts` (by folder)."""
    qr = segno.make(feed_url, error="m").svg_inline(scale=4, border=2, title="订阅地址二维码")
    articles = "\n".join(_episode_html(episode, transcripts.get(episode.folder, [])) for episode in episodes)
    articles = articles or "<p>还没有节目。运行 briefing daily 生成第一期。</p>"
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(config.wording.programme)}</title>
<link rel="alternate" type="application/rss+xml" title="{e(config.wording.programme)}" href="{e(feed_url)}">
<style>{STYLE}</style>
</head>
<body>
<header><h1>{e(config.wording.programme)}</h1><p>{e(config.feed.description)}</p></header>
<main>
<section class="subscribe">
{qr}
<div><strong>用手机订阅</strong><p>扫描二维码，或在播客应用里“通过网址添加节目”，粘贴订阅地址：</p>
<p><a class="feed" href="{e(feed_url)}">{e(feed_url)}</a></p></div>
</section>
{articles}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _episode_html(episode: PublishedEpisode, transcript: list[Cue]) -> str:
    e = html.escape
    manifest = episode.manifest
    folder = quote(episode.folder)
    audio = f"{folder}/{quote(manifest.audio_file)}"
    chapters = "\n".join(
        f'<li><button type="button" data-start="{c.start}"><span class="time">{clock(c.start)}</span>{e(c.title)}</button></li>'
        for c in manifest.chapters
    )
    cues = "\n".join(f'<p data-start="{start}"><span class="time">{clock(start)}</span>{e(text)}</p>' for start, _, text in transcript)
    files = (
        f'<a href="{audio}" download>下载 MP3</a> · <a href="{folder}/{VTT_FILE}">VTT</a> · '
        f'<a href="{folder}/{SRT_FILE}">SRT</a> · <a href="{folder}/{CHAPTERS_FILE}">章节 JSON</a>'
    )
    return f"""<article class="episode" id="{e(episode.date)}">
<h2>{e(manifest.title)}</h2>
<p class="meta">第{manifest.number}期 · {manifest.duration / 60:.0f}分钟 · {len(manifest.stories)}条新闻</p>
<audio controls preload="metadata" src="{audio}"></audio>
<ol class="chapters" aria-label="章节">{chapters}</ol>
<details class="transcript"><summary>文字稿</summary>{cues}</details>
<p class="files">{files}</p>
</article>"""


def _cues(vtt: Path) -> list[Cue]:
    try:
        return read_vtt(vtt)
    except OSError:
        return []  # an episode without a transcript still gets its player and chapters
