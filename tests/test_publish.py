"""Publishing: the feed read by three parsers, the server's HTTP behaviour, and the page in a real browser."""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from PIL import Image, ImageStat

from briefing import pipeline
from briefing.config import Config
from briefing.episode import EPISODE_FILE, published_episodes, read_manifest
from briefing.errors import OutputError
from briefing.feed import PODCAST_GUID_NAMESPACE, build_feed, check_feed, write_feed
from briefing.publish import publish
from briefing.serve import lan_address

from .conftest import (
    EPISODE_DATE,
    EPISODE_DAY,
    ROOT,
    briefing_serve,
    require,
    run_cli,
    tone_programme,
    write_page,
)

NEXT_DATE = "2026-11-27"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
CONFIG = 'owner_email = "news@example.com"\nlocked = true\n'
FEEDCHECK = ROOT / "tests" / "feedcheck"


@pytest.fixture(scope="module")
def published(episode_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real episodes (the example page, and the same script remade a day later) and their feed."""
    out = tmp_path_factory.mktemp("published") / "output"
    shutil.copytree(episode_root, out)
    script = json.loads((out / EPISODE_DATE / "script.json").read_text(encoding="utf-8"))
    script["date"] = NEXT_DATE
    next_script = out.parent / "next-script.json"
    next_script.write_text(json.dumps(script, ensure_ascii=False), encoding="utf-8")
    config = out.parent / "briefing.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = run_cli("episode", str(next_script), "--out", str(out), "--config", str(config))
    assert result.returncode == 0, result.stderr
    result = run_cli("feed", "--out", str(out), "--config", str(config), "--base-url", "http://192.0.2.10:8000/")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_daily_writes_the_feed_and_the_page(episode_root: Path):
    assert (episode_root / "feed.xml").exists() and (episode_root / "index.html").exists()
    check_feed((episode_root / "feed.xml").read_bytes())


@pytest.mark.slow
def test_feedparser_reads_the_feed(published: Path):
    parsed = feedparser.parse(str(published / "feed.xml"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    channel = parsed.feed
    assert channel.title == "每日新闻简报" and channel.language == "zh-cn"
    assert channel.image.href == "http://192.0.2.10:8000/cover.png"
    assert [t.term for t in channel.tags] == ["News", "Daily News"]
    assert channel.publisher_detail.email == "news@example.com"
    dates = [entry.link.rsplit("#", 1)[1] for entry in parsed.entries]
    assert dates == [NEXT_DATE, EPISODE_DATE]  # newest first
    for entry, date in zip(parsed.entries, dates):
        mp3 = published / date / "episode.mp3"
        enclosure = entry.enclosures[0]
        assert enclosure.href == f"http://192.0.2.10:8000/{date}/episode.mp3" and enclosure.type == "audio/mpeg"
        assert int(enclosure.length) == mp3.stat().st_size  # measured after the tags were written
        manifest = json.loads((published / date / "episode.json").read_text(encoding="utf-8"))
        assert entry.id == manifest["guid"] and entry.title == manifest["title"] and "期" not in entry.title
        assert int(entry.itunes_duration) == round(manifest["duration"])
        assert entry.published.endswith("+0800")  # RFC 2822 in the configured time zone
        for chapter in manifest["chapters"][1:-1]:
            assert chapter["title"] in entry.summary
    assert parsed.entries[0].itunes_episode == "2" and parsed.entries[1].itunes_episode == "1"


@pytest.mark.slow
def test_namespaced_elements_by_xpath(published: Path):
    root = etree.parse(str(published / "feed.xml")).getroot()
    assert root.nsmap["itunes"] == NS["itunes"] and root.nsmap["podcast"] == NS["podcast"]
    channel = root.find("channel")

    def text(path: str) -> str:
        return channel.xpath(f"string({path})", namespaces=NS)

    assert text("itunes:explicit") == "false"
    assert text("podcast:locked") == "yes" and text("podcast:locked/@owner") == "news@example.com"
    assert text("podcast:guid") == str(uuid.uuid5(PODCAST_GUID_NAMESPACE, "192.0.2.10:8000/feed.xml"))
    assert text("itunes:category/@text") == "News" and text("itunes:category/itunes:category/@text") == "Daily News"
    assert text("itunes:author") == "briefing" and text("itunes:owner/itunes:email") == "news@example.com"
    image_url = text("itunes:image/@href")
    assert image_url.endswith("/cover.png")
    with Image.open(published / "cover.png") as cover:
        assert cover.format == "PNG" and cover.mode == "RGB" and cover.width == cover.height and 1400 <= cover.width <= 3000
    for item in channel.findall("item"):
        folder = item.xpath("string(enclosure/@url)", namespaces=NS).rsplit("/", 1)[0]
        transcripts = item.xpath("podcast:transcript", namespaces=NS)
        assert [(t.get("url"), t.get("type")) for t in transcripts] == [
            (f"{folder}/transcript.vtt", "text/vtt"),
            (f"{folder}/transcript.srt", "application/x-subrip"),
        ]
        chapters = item.xpath("podcast:chapters", namespaces=NS)[0]
        assert chapters.get("url") == f"{folder}/chapters.json" and chapters.get("type") == "application/json+chapters"
        assert item.xpath("string(itunes:duration)", namespaces=NS).isdigit()


@pytest.mark.slow
def test_podcast_partytime_reads_the_feed(published: Path):
    require(
        shutil.which("node") is not None and (FEEDCHECK / "node_modules" / "podcast-partytime").is_dir(),
        "Node.js with podcast-partytime (tests/feedcheck)",
    )
    result = subprocess.run(
        ["node", str(FEEDCHECK / "parse-feed.mjs"), str(published / "feed.xml")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    feed = json.loads(result.stdout)
    assert feed["title"] == "每日新闻简报" and feed["language"] == "zh-cn" and feed["explicit"] is False
    assert feed["itunesCategory"] == ["News > Daily News"] and feed["itunesType"] == "episodic"
    assert feed["guid"] == str(uuid.uuid5(PODCAST_GUID_NAMESPACE, "192.0.2.10:8000/feed.xml"))
    assert feed["locked"] is True and feed["podcastOwner"] == "news@example.com"
    assert len(feed["items"]) == 2
    for item in feed["items"]:
        assert item["enclosure"]["type"] == "audio/mpeg" and item["enclosure"]["length"] > 100_000
        assert [t["type"] for t in item["podcastTranscripts"]] == ["text/vtt", "application/srt"]
        assert item["podcastChapters"]["type"] == "application/json+chapters"
        assert item["duration"] > 200


@pytest.mark.slow
def test_guids_and_publication_times_survive_a_rebuild_and_a_remake(published: Path, tmp_path: Path):
    out = tmp_path / "output"
    shutil.copytree(published, out)
    before = feedparser.parse(str(out / "feed.xml")).entries
    result = run_cli("episode", str(out / EPISODE_DATE / "script.json"), "--out", str(out))  # remade from the cache
    assert result.returncode == 0, result.stderr
    after = feedparser.parse(str(out / "feed.xml"))
    assert after.feed.links[0].href.startswith("http://192.0.2.10:8000")  # the feed keeps its address
    assert [(e.id, e.published) for e in after.entries] == [(e.id, e.published) for e in before]


@pytest.mark.slow
def test_long_or_odd_text_is_cut_and_escaped(published: Path):
    config = Config.from_dict({"programme": "早报<&>" + "长" * 300, "description": "“简介” & <b>" + "很长。" * 2000, "feed_episodes": 1})
    xml = build_feed(published_episodes(published), config, "https://news.example.com/早报")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    assert parsed.feed.title.startswith("早报<&>") and len(parsed.feed.title) == 255 and parsed.feed.title.endswith("…")
    assert len(etree.fromstring(xml).xpath("string(channel/description)")) <= 4000
    assert len(parsed.entries) == 1  # feed_episodes keeps the newest
    assert parsed.entries[0].enclosures[0].href == f"https://news.example.com/%E6%97%A9%E6%8A%A5/{NEXT_DATE}/episode.mp3"


@pytest.mark.slow
def test_an_invalid_feed_never_replaces_the_old_one(published: Path, tmp_path: Path):
    out = tmp_path / "output"
    shutil.copytree(published, out)
    before = (out / "feed.xml").read_bytes()
    with pytest.raises(OutputError, match="lacks item 1: enclosure/@url"):
        check_feed(before.replace(b"<enclosure ", b"<notenclosure "))
    with pytest.raises(OutputError, match="lacks item 1: an absolute enclosure URL.*previous feed is kept"):
        write_feed(out, published_episodes(out), Config(), "/relative/address")  # what a bad base URL would give
    assert (out / "feed.xml").read_bytes() == before
    result = run_cli("feed", "--out", str(out), "--base-url", "news.example.com")
    assert result.returncode == 1 and "invalid base URL 'news.example.com'" in result.stderr
    assert (out / "feed.xml").read_bytes() == before


# --- the server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(published: Path):
    with briefing_serve(published, "--base-url", "http://192.0.2.10:8000") as port:
        yield port


def request(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw request: the path goes on the wire exactly as written (no client-side normalization)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.mark.slow
def test_range_requests_get_206_with_the_right_bytes(server: int, published: Path):
    data = (published / EPISODE_DATE / "episode.mp3").read_bytes()
    status, headers, body = request(server, f"/{EPISODE_DATE}/episode.mp3", headers={"Range": "bytes=1000-1999"})
    assert status == 206 and body == data[1000:2000]
    assert headers["content-range"] == f"bytes 1000-1999/{len(data)}" and headers["content-type"] == "audio/mpeg"
    status, headers, body = request(server, f"/{EPISODE_DATE}/episode.mp3", headers={"Range": "bytes=-500"})
    assert status == 206 and body == data[-500:]
    status, headers, _ = request(server, f"/{EPISODE_DATE}/episode.mp3", headers={"Range": f"bytes={len(data) + 10}-"})
    assert status == 416


@pytest.mark.slow
def test_head_etag_and_last_modified(server: int, published: Path):
    size = (published / EPISODE_DATE / "episode.mp3").stat().st_size
    status, headers, body = request(server, f"/{EPISODE_DATE}/episode.mp3", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == size and headers["accept-ranges"] == "bytes"
    status, _, _ = request(server, f"/{EPISODE_DATE}/episode.mp3", headers={"If-None-Match": headers["etag"]})
    assert status == 304
    status, _, _ = request(server, f"/{EPISODE_DATE}/episode.mp3", headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feed.xml", "application/rss+xml"),
        ("/", "text/html"),
        (f"/{EPISODE_DATE}/transcript.vtt", "text/vtt"),
        (f"/{EPISODE_DATE}/transcript.srt", "application/x-subrip"),
        (f"/{EPISODE_DATE}/chapters.json", "application/json"),
        ("/cover.png", "image/png"),
    ],
)
@pytest.mark.slow
def test_mime_types_and_cors(server: int, path: str, content_type: str):
    status, headers, _ = request(server, path, headers={"Origin": "https://player.example.com"})
    assert status == 200 and headers["content-type"].split(";")[0] == content_type
    assert headers["access-control-allow-origin"] == "*"


@pytest.mark.slow
def test_cors_preflight_for_range_requests(server: int):
    status, headers, _ = request(
        server,
        f"/{EPISODE_DATE}/chapters.json",
        method="OPTIONS",
        headers={"Origin": "https://player.example.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
    )
    assert status == 204 and "Range" in headers["access-control-allow-headers"]


@pytest.mark.slow
def test_nothing_outside_the_output_folder_is_served(server: int, published: Path, tmp_path: Path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": true}', encoding="utf-8")
    (published / "leak.json").symlink_to(secret)
    (published / "etc").symlink_to("/etc", target_is_directory=True)
    hidden = published / ".2026-11-28-tmp"
    hidden.mkdir()
    shutil.copy(published / EPISODE_DATE / "chapters.json", hidden / "chapters.json")
    probes = [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/{EPISODE_DATE}/..%2f..%2f..%2fetc%2fpasswd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/..%5c..%5cetc%5cpasswd",
        "/leak.json",
        "/etc/passwd",
        "/etc/hostname",
        "/.2026-11-28-tmp/chapters.json",
        f"/{EPISODE_DATE}/.%2e/.%2e/secret.json",
        "/%00/etc/passwd",
        "//etc/passwd",
    ]
    for probe in probes:
        status, _, body = request(server, probe)
        assert status in (403, 404), probe
        assert b"root:" not in body and b"secret" not in body


@pytest.mark.slow
def test_many_concurrent_range_requests_are_all_answered(server: int, published: Path):
    import aiohttp

    data = (published / EPISODE_DATE / "episode.mp3").read_bytes()
    picks = random.Random(7)
    ranges = [(start, start + picks.randrange(1, 200_000)) for start in (picks.randrange(0, len(data) - 1) for _ in range(80))]

    async def fetch(session: aiohttp.ClientSession, start: int, end: int) -> bool:
        async with session.get(
            f"http://127.0.0.1:{server}/{EPISODE_DATE}/episode.mp3", headers={"Range": f"bytes={start}-{end}"}
        ) as response:
            body = await response.read()
            return response.status == 206 and body == data[start : end + 1]

    async def all_of_them() -> list[bool]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            return await asyncio.gather(*(fetch(session, start, end) for start, end in ranges))

    assert all(asyncio.run(all_of_them()))


@pytest.mark.slow
def test_the_served_feed_is_always_complete_while_it_is_rebuilt(server: int, published: Path):
    stop = threading.Event()
    config = Config.from_dict({"owner_email": "news@example.com", "locked": True})

    def rebuild() -> None:
        while not stop.is_set():
            publish(published, config, "http://192.0.2.10:8000")

    writer = threading.Thread(target=rebuild)
    writer.start()
    try:
        for _ in range(60):
            status, _, body = request(server, "/feed.xml")
            assert status == 200
            check_feed(body)
    finally:
        stop.set()
        writer.join()


@pytest.mark.slow
def test_serving_on_the_lan_prints_the_address_a_phone_can_use(published: Path):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--out", str(published), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address = lan_address()
        if address is None:  # a machine without a network: the user is told what to do instead
            _, stderr = process.communicate(timeout=30)
            assert process.returncode == 1 and "No LAN address found" in stderr and "--base-url" in stderr
        else:
            lines = [process.stdout.readline() for _ in range(4)]
            assert f"feed: http://{address}:" in lines[2]
            # Off loopback the review desk needs its secret, printed once in its address.
            desk = re.search(r"review desk: (http://\S+/review/)\?token=(\S{20,})$", lines[3])
            assert desk is not None and desk.group(1).startswith(f"http://{address}:"), lines[3]
            port = int(desk.group(1).split(":")[2].split("/")[0])
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/review/")
            assert connection.getresponse().status == 403
            connection.close()
            feed = feedparser.parse(str(published / "feed.xml"))
            assert feed.entries[0].enclosures[0].href.startswith(f"http://{address}:")
    finally:
        process.terminate()
        process.wait(10)


# --- the page in a real browser ---------------------------------------------------------------


@pytest.mark.slow
def test_the_page_plays_and_seeks_in_headless_chromium(server: int, published: Path, tmp_path: Path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(chromium).exists(), "Debian's chromium")
    from playwright.sync_api import sync_playwright

    manifest = json.loads((published / NEXT_DATE / "episode.json").read_text(encoding="utf-8"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone screen
        page.goto(f"http://127.0.0.1:{server}/")
        assert page.locator("h1").inner_text() == "每日新闻简报"
        assert page.locator("article.episode").evaluate_all("list => list.map(a => a.id)") == [NEXT_DATE, EPISODE_DATE]
        assert page.locator(".subscribe svg").count() == 1 and page.locator("a.feed").inner_text().endswith("/feed.xml")
        newest = page.locator(f"article[id='{NEXT_DATE}']")
        audio = newest.locator("audio")
        audio.evaluate("a => a.readyState >= 1 || new Promise(r => a.addEventListener('loadedmetadata', r, {once: true}))")
        assert abs(audio.evaluate("a => a.duration") - manifest["duration"]) < 1.0  # fetched over Range requests
        third = manifest["chapters"][2]
        newest.locator(".chapters button").nth(2).click()
        assert abs(audio.evaluate("a => a.currentTime") - third["start"]) < 1.0
        newest.locator("summary").click()
        newest.locator(".transcript p").nth(5).click()
        cue_start = float(newest.locator(".transcript p").nth(5).get_attribute("data-start"))
        assert abs(audio.evaluate("a => a.currentTime") - cue_start) < 1.0
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    with Image.open(shot) as image:
        stat = ImageStat.Stat(image.convert("L"))
        assert image.size == (390, 844) and stat.stddev[0] > 20 and len(image.getcolors(1 << 16) or []) > 20


def test_control_characters_never_reach_the_feed_and_an_old_damaged_episode_is_repaired(tmp_path: Path):
    config, _ = tone_programme(tmp_path)
    hostile = write_page(tmp_path, "# 市区\x0b新建\x1b[31m三所学校\x07\n全市今年新建三所学校\x1f，新增学位三千个。\u200b\n")
    result = pipeline.daily([hostile], config, EPISODE_DAY)
    assert result.episode is not None
    root = config.paths.output_path
    feed = etree.parse(str(root / "feed.xml"))  # well-formed XML: lxml refuses control characters
    manifest = read_manifest(root / EPISODE_DAY.isoformat())
    assert manifest is not None and manifest.stories[0].title == "市区新建[31m三所学校"
    assert "\x0b" not in (root / "index.html").read_text(encoding="utf-8")

    # An episode written by an older briefing, with a control character in its title, is repaired on read.
    data = json.loads((root / EPISODE_DAY.isoformat() / EPISODE_FILE).read_text(encoding="utf-8"))
    data["title"] += "\x0b\x1b"
    (root / EPISODE_DAY.isoformat() / EPISODE_FILE).write_text(json.dumps(data), encoding="utf-8")
    publish(root, config)
    titles = etree.parse(str(root / "feed.xml")).xpath("//item/title/text()")
    assert titles == [data["title"].rstrip("\x0b\x1b")] and feed.xpath("//item")


@pytest.mark.slow
def test_the_server_logs_real_statuses_and_one_line_per_malformed_request(tmp_path: Path):
    import socket

    root = tmp_path / "output"
    root.mkdir()
    (root / "note.json").write_text('{"a": 1}', encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--out", str(root), "--port", "0", "--log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(":")[2].split("/")[0])

        def ask(raw: bytes) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(raw)
                return connection.recv(100)

        assert ask(b"GET /note.json HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 206")
        assert ask(b"GET /note.json HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 416")
        for _ in range(5):
            assert ask(b"GET /\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.0 400")
        time.sleep(0.5)
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    lines = log.splitlines()
    assert any("/note.json 206 bytes=0-1" in line for line in lines)
    assert any("/note.json 416 bytes=-0" in line for line in lines)
    assert "Traceback" not in log and "\x1b" not in log
    # Five of the same malformed request within a second: one line (a flood cannot fill the disk).
    assert len([line for line in lines if "Error handling request" in line]) == 1


@pytest.fixture
def hardened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`serve.run` in this process, with a one-second header timeout and room for three connections."""
    import socket as sockets

    from briefing import serve

    monkeypatch.setattr(serve, "HEADER_SECONDS", 1.0)
    monkeypatch.setattr(serve, "IDLE_SECONDS", 1.0)
    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 3)
    (tmp_path / "note.json").write_text('{"a": 1}', encoding="utf-8")
    ports: list[int] = []
    ready = threading.Event()
    threading.Thread(target=serve.run, args=(tmp_path, "127.0.0.1", 0, lambda port: (ports.append(port), ready.set())), daemon=True).start()
    assert ready.wait(10)

    def connect() -> sockets.socket:
        return sockets.create_connection(("127.0.0.1", ports[0]), timeout=5)

    return connect


def closed_by_server(connection) -> bool:  # type: ignore[no-untyped-def]
    try:
        return connection.recv(100) == b""
    except ConnectionResetError:
        return True


@pytest.mark.slow
def test_a_client_that_never_finishes_its_headers_is_disconnected(hardened):  # type: ignore[no-untyped-def]
    slow = hardened()
    slow.sendall(b"GET /note.json HTTP/1.1\r\nHost: x\r\n")  # and nothing more
    assert closed_by_server(slow)  # within a few seconds (recv gives up after 5)
    fine = hardened()
    fine.sendall(b"GET /note.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert fine.recv(100).startswith(b"HTTP/1.1 200")


def test_connections_past_the_cap_are_refused_and_the_server_keeps_answering(hardened):  # type: ignore[no-untyped-def]
    held = [hardened() for _ in range(3)]
    extra = hardened()
    assert closed_by_server(extra)
    for connection in held:
        connection.close()
    time.sleep(0.2)
    again = hardened()
    again.sendall(b"GET /note.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert again.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("header", ["items=0-3", "bytes=abc", "bytes=5-2x", "bytes 0-3"])
def test_a_range_header_it_cannot_use_is_ignored_and_the_whole_file_sent(hardened, header: str):  # type: ignore[no-untyped-def]
    connection = hardened()
    connection.sendall(f"GET /note.json HTTP/1.1\r\nHost: x\r\nRange: {header}\r\nConnection: close\r\n\r\n".encode())
    answer = b""
    while chunk := connection.recv(4096):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"a": 1}')
