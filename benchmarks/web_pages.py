"""Real news web pages: does a `kind = "web"` source get the headline, the whole body and nothing else?

Scores a folder of saved pages with hand-made gold (the development set in ../shared/data/web-pages,
or any folder with the same `gold.jsonl` and `pages/`) as its README defines: the pages are served
over HTTP on 127.0.0.1 and each is read as one web source, exactly as `briefing daily` reads one;
texts are compared on Han characters and digits only. trafilatura alone is scored beside it.

It then reads one generated article page at about 1 MB and 10 MB, as a web source does (parse,
body, headline, cleaning), and prints the time ratio: reading must stay linear in the page's size.

Run: `.venv/bin/python -m benchmarks.web_pages [FOLDER] [--show]` (--show prints each page's misses).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from briefing.config import SourceConfig, SourceKind
from briefing.fetch import Fetcher
from briefing.sources import read_sources, to_article
from briefing.webpage import read_web_page

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SET = ROOT.parent / "shared" / "data" / "web-pages"
TARGET = 0.93  # headline, lede and ending each right on this share of pages
SCALE_TARGET = 15.0  # ten times the page may cost at most this many times the time


def han_and_digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit() or "\u4e00" <= ch <= "\u9fff")


def _title_form(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text))


def title_right(found: str, gold: str) -> bool:
    found, gold = _title_form(found), _title_form(gold)
    if not found or not gold:
        return False
    short, long = sorted((found, gold), key=len)
    return found == gold or (short in long and len(long) - len(short) <= 4)


@dataclass(frozen=True)
class Read:
    """What one reader made of one page: its headline and the body a listener would hear."""

    title: str = ""
    body: str = ""
    error: str = ""


@dataclass
class Score:
    pages: int = 0
    title: int = 0
    lede: int = 0
    ending: int = 0
    leaks: int = 0
    leaking_pages: int = 0
    datelines: int = 0
    dated_pages: int = 0
    errors: int = 0
    misses: dict[str, list[str]] = field(default_factory=dict)

    def add(self, gold: dict, read: Read) -> None:
        self.pages += 1
        missed: list[str] = []
        if read.error:
            self.errors += 1
            missed.append(f"error: {read.error}")
        body, heard = han_and_digits(read.body), han_and_digits(read.title + read.body)
        if title_right(read.title, gold["title"]):
            self.title += 1
        else:
            missed.append(f"title: {read.title!r} (gold {gold['title']!r})")
        for name, key in (("lede", "lede"), ("ending", "last")):
            if han_and_digits(gold[key]) in body and body:
                setattr(self, name, getattr(self, name) + 1)
            else:
                missed.append(f"{name}: {gold[key]!r}")
        leaked = [noise for noise in gold["noise"] if han_and_digits(noise) and han_and_digits(noise) in heard]
        self.leaks += len(leaked)
        self.leaking_pages += bool(leaked)
        missed += [f"noise read: {noise!r}" for noise in leaked]
        if gold.get("dateline"):
            self.dated_pages += 1
            if han_and_digits(gold["dateline"]) in body:
                self.datelines += 1
                missed.append(f"dateline read: {gold['dateline']!r}")
        if missed:
            self.misses[gold["file"]] = missed

    def row(self, name: str) -> str:
        n = self.pages
        return (
            f"| {name} | {self.title}/{n} | {self.lede}/{n} | {self.ending}/{n} | {self.leaks} (in {self.leaking_pages} pages) "
            f"| {self.datelines}/{self.dated_pages} | {self.errors} |"
        )

    def meets_targets(self) -> bool:
        shares = (self.title / self.pages, self.lede / self.pages, self.ending / self.pages)
        return min(shares) >= TARGET and self.leaks == 0 and self.datelines == 0 and self.errors == 0


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """The pages over HTTP on 127.0.0.1, as a news site would send them (text/html, no charset)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def briefing_reads(base_url: str, cache: Path) -> Callable[[str], Read]:
    fetcher = Fetcher(cache)

    def read(file: str) -> Read:
        source = SourceConfig(url=f"{base_url}/{file}", kind=SourceKind.WEB, allow_private=True)
        result = read_sources((source,), fetcher)[0]
        if result.error or not result.items or result.items[0].error:
            return Read(error=result.error or (result.items[0].error if result.items else "no item"))
        article = result.items[0].article
        return Read(article.headline, "\n".join(article.story_paragraphs))

    return read


def trafilatura_reads(folder: Path) -> Callable[[str], Read]:
    import trafilatura

    def read(file: str) -> Read:
        found = trafilatura.extract((folder / file).read_text(encoding="utf-8"), output_format="json", with_metadata=True)
        if not found:
            return Read(error="no article")
        data = json.loads(found)
        return Read(str(data.get("title") or ""), str(data.get("text") or ""))

    return read


def score(gold: list[dict], read: Callable[[str], Read]) -> Score:
    total = Score()
    for page in gold:
        total.add(page, read(page["file"]))
    return total


def generated_page(paragraphs: int) -> str:
    """An article page of `paragraphs` paragraphs, with a menu, a headline and a footer around it."""
    paragraph = "<p>记者从有关部门获悉，今年以来各地加快推进城市更新，" + "居民生活条件持续改善，" * 8 + "<br>相关工作取得积极进展。</p>\n"
    return (
        "<html><head><title>城市更新取得积极进展_新闻网</title></head><body><nav><a>首页</a> <a>新闻</a></nav>"
        f"<h1>城市更新取得积极进展</h1><div class='article'>{paragraph * paragraphs}</div><footer>版权所有 新闻网</footer></body></html>"
    )


def seconds_to_read(html: str) -> float:
    started = time.perf_counter()
    page = read_web_page(html)
    to_article(page.title, page.text, "benchmark")
    return time.perf_counter() - started


def scale_line() -> str:
    small, large = generated_page(2_000), generated_page(20_000)
    ratio = min(seconds_to_read(large) for _ in range(2)) / min(seconds_to_read(small) for _ in range(3))  # the least disturbed run
    verdict = "linear" if ratio <= SCALE_TARGET else "NOT linear"
    return f"reading a {len(large.encode()) / 1e6:.1f} MB page takes {ratio:.1f}x the time of a {len(small.encode()) / 1e6:.1f} MB one ({verdict}: target <= {SCALE_TARGET:.0f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEVELOPMENT_SET)
    parser.add_argument("--show", action="store_true", help="print what each page missed")
    args = parser.parse_args()
    if not (args.folder / "gold.jsonl").is_file():
        raise SystemExit(f"{args.folder}: no gold.jsonl here (the development set lives in ../shared/data/web-pages)")
    rows = [json.loads(line) for line in (args.folder / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [row for row in rows if not row.get("skip")]
    with tempfile.TemporaryDirectory() as cache, serving(args.folder / "pages") as base_url:
        ours = score(gold, briefing_reads(base_url, Path(cache)))
    theirs = score(gold, trafilatura_reads(args.folder / "pages"))
    print(f"{len(gold)} scored pages of {len(rows)} in {args.folder}")
    print("| reader | headline right | first sentence found | last sentence found | noise strings read | datelines read | no article |")
    print("|---|---|---|---|---|---|---|")
    print(ours.row("briefing"))
    print(theirs.row("trafilatura alone"))
    print(f"targets (>= {TARGET:.0%} each, no noise, no dateline, no error): {'met' if ours.meets_targets() else 'NOT met'}")
    print(scale_line())
    if args.show:
        for file, missed in ours.misses.items():
            print(f"\n{file}")
            for line in missed:
                print(f"  {line}")


if __name__ == "__main__":
    main()
