"""Review before air: drafts, the changes an editor makes, approval, and the desk over HTTP and in a browser."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest

from briefing import pipeline
from briefing.dedup import TOLD_FILE
from briefing.desk import CSRF_HEADER, Desk
from briefing.drafts import DRAFT_FILE, REVIEWED_FILE, read_draft
from briefing.errors import UsageError
from briefing.review import EditRefused, StaleEdit, change_draft, open_draft, undo_last
from briefing.script import Role
from briefing.serve import make_app

from .conftest import ROOT, require, tone_programme, write_page
from .fakes.local_server import serving

DAY = dt.date(2026, 11, 26)
NEWS = ROOT / "tests" / "news"
# A national paper's three stories, one with a polyphone-heavy sentence and a number.
THREE_STORIES = (
    "# 国务院常务会议部署稳就业工作\n国务院总理主持召开国务院常务会议，部署进一步稳定就业的措施。会议指出，今年前10个月城镇新增就业1100万人。\n\n"
    "# 重庆银行行长谈小微企业贷款\n重庆银行行长表示，今年将继续加大对小微企业的信贷支持，贷款利率还要进一步下调。\n\n"
    "# 长江禁渔成效明显\n长江十年禁渔实施以来，水生生物多样性逐步恢复，江豚出现的频次明显增加。\n"
)


def feed_items(root: Path) -> list[str]:
    return [entry.title for entry in feedparser.parse(str(root / "feed.xml")).entries] if (root / "feed.xml").exists() else []


@pytest.fixture
def drafted(tmp_path: Path):
    """A draft of three stories from a page, voiced by the tone engine."""
    config, config_file = tone_programme(tmp_path)
    result = pipeline.daily([write_page(tmp_path, THREE_STORIES)], config, DAY, draft=True)
    assert result.episode is not None
    return config, config_file, config.paths.output_path / DAY.isoformat()


def body_segment(folder: Path, config, story: int = 1) -> int:
    draft = open_draft(folder, config)
    return next(n for n, s in enumerate(draft.script.segments, start=1) if s.story == story and s.role == Role.BODY)


# --- drafts and approval --------------------------------------------------------------------


def test_a_draft_publishes_nothing_until_it_is_approved_then_only_edited_segments_are_made(drafted):
    config, _, folder = drafted
    root = folder.parent
    assert (folder / DRAFT_FILE).exists() and (folder / "episode.mp3").stat().st_size > 0
    assert feed_items(root) == [] and "2026" not in (root / "index.html").read_text(encoding="utf-8").split("<main>")[1]

    segment = body_segment(folder, config, 2)
    change_draft(folder, config, 1, "edit", segment=segment, text="重庆银行行长表示，将继续加大对小微企业的支持。")
    published = pipeline.publish_draft(DAY, config)

    assert published.episode is not None
    assert (published.episode.synthesis.synthesized, published.episode.synthesis.reused) == (1, published.episode.synthesis.reused)
    assert published.episode.synthesis.reused == len(open_script(folder)["segments"]) - 1
    manifest = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    assert manifest["stories"][1]["summary"] == "重庆银行行长表示，将继续加大对小微企业的支持。"
    assert not (folder / DRAFT_FILE).exists() and len(feed_items(root)) == 1
    reviewed = json.loads((folder / REVIEWED_FILE).read_text(encoding="utf-8"))
    assert reviewed["made"] == 1 and [e["action"] for e in reviewed["edits"]] == ["edit"]

    again = pipeline.publish_draft(DAY, config)
    assert again.episode is None and len(feed_items(root)) == 1
    # A later daily run of the same day keeps the reviewed episode, whatever its inputs.
    kept = pipeline.daily([write_page(folder.parent.parent, "# 别的\n另一条新闻的内容。\n", "other.txt")], config, DAY)
    assert kept.episode is None and json.loads((folder / "episode.json").read_text(encoding="utf-8"))["stories"][1]["summary"].startswith(
        "重庆"
    )


def open_script(folder: Path) -> dict:
    return json.loads((folder / "script.json").read_text(encoding="utf-8"))


def test_a_draft_from_sources_records_its_stories_as_told_only_when_approved(tmp_path: Path):
    sources = f'[[sources]]\npath = "{NEWS / "items.jsonl"}"\n[[sources]]\nname = "区报"\npath = "{NEWS / "folder"}"\n'
    config, _ = tone_programme(tmp_path, tables=sources, max_stories=2)
    made = pipeline.daily([], config, DAY, draft=True)
    root = config.paths.output_path
    folder = root / DAY.isoformat()
    state = read_draft(folder)
    assert made.episode is not None and state is not None
    assert len(state.links) == 2 and all(link.signature for link in state.links)
    assert state.candidates and all(c.why for c in state.candidates)  # what max_stories left out, with why
    assert not (root / TOLD_FILE).exists() or _told(root) == []

    change_draft(folder, config, 1, "add", candidate=1)
    added = open_draft(folder, config).script.stories[-1].title
    pipeline.publish_draft(DAY, config)
    told = _told(root)
    assert len(told) == 3 and added in told


def _told(root: Path) -> list[str]:
    with sqlite3.connect(root / TOLD_FILE) as db:
        return [row[0] for row in db.execute("SELECT title FROM told")]


def test_daily_never_replaces_an_editors_work_nor_a_published_episode_with_a_draft(drafted, tmp_path: Path):
    config, _, folder = drafted
    page = write_page(tmp_path, THREE_STORIES + "\n# 新增一条\n又一条新闻的正文内容。\n", "more.txt")
    assert pipeline.daily([write_page(tmp_path, THREE_STORIES)], config, DAY, draft=True).episode is None  # up to date

    change_draft(folder, config, 1, "headline", story=1, title="国常会部署稳就业")
    with pytest.raises(UsageError, match="edits from the review desk.*briefing publish 2026-11-26"):
        pipeline.daily([page], config, DAY)
    assert pipeline.daily([page], config, DAY, draft=True).episode is None  # the edited draft stays for its editor
    assert open_draft(folder, config).script.stories[0].title == "国常会部署稳就业"

    other = tone_programme(tmp_path / "other")[0]
    pipeline.daily([page], other, DAY)
    with pytest.raises(UsageError, match="already published"):
        pipeline.daily([write_page(tmp_path, "# 另外\n完全不同的新闻内容。\n", "x.txt")], other, DAY, draft=True)


def test_an_unedited_draft_is_published_by_a_plain_daily_run(drafted, tmp_path: Path):
    config, _, folder = drafted
    made = pipeline.daily([write_page(tmp_path, THREE_STORIES)], config, DAY)
    assert made.episode is not None and made.episode.synthesis.synthesized == 0
    assert not (folder / DRAFT_FILE).exists() and len(feed_items(folder.parent)) == 1


def test_a_failed_approval_leaves_the_draft_as_it_was(drafted, monkeypatch: pytest.MonkeyPatch):
    config, _, folder = drafted
    change_draft(folder, config, 1, "drop", story=3)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(*args, **kwargs):
        raise UsageError("the disk is full")

    monkeypatch.setattr("briefing.build._synthesize_into_mp3", broken)
    with pytest.raises(UsageError, match="disk is full"):
        pipeline.publish_draft(DAY, config)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before and feed_items(folder.parent) == []


# --- the editor's changes -------------------------------------------------------------------


def test_changes_reframe_the_episode_and_the_last_one_can_be_undone(drafted):
    config, _, folder = drafted
    draft = change_draft(folder, config, 1, "move", story=3, by=-1)
    assert [s.title for s in draft.script.stories] == ["国务院常务会议部署稳就业工作", "长江禁渔成效明显", "重庆银行行长谈小微企业贷款"]
    rundown = next(s for s in draft.script.segments if s.role == Role.RUNDOWN)
    assert rundown.text.index("长江") < rundown.text.index("重庆")
    transitions = [s.text for s in draft.script.segments if s.role == Role.TRANSITION]
    assert transitions[-1] == config.wording.last_transition  # the story now last is introduced as the last

    draft = change_draft(folder, config, 2, "drop", story=1)
    assert [s.index for s in draft.script.stories] == [1, 2] and "本期共有2条新闻" in draft.script.segments[2].text + "".join(
        s.text for s in draft.script.segments if s.role == Role.INTRO
    )
    assert draft.state.candidates[-1].why == "dropped by the editor"
    draft = change_draft(folder, config, 3, "add", candidate=len(draft.state.candidates))
    assert draft.script.stories[-1].title == "国务院常务会议部署稳就业工作" and draft.state.version == 4

    draft = undo_last(folder, config, 4)
    assert [s.title for s in draft.script.stories] == ["长江禁渔成效明显", "重庆银行行长谈小微企业贷款"]
    assert len(draft.state.history) == 2 and open_draft(folder, config).state.version == 5  # saved on disk


def test_an_edit_derives_the_spoken_form_and_a_reading_goes_to_the_lexicon(drafted):
    config, _, folder = drafted
    segment = body_segment(folder, config, 1)
    draft = change_draft(folder, config, 1, "edit", segment=segment, text="城镇新增就业1100万人。")
    assert draft.script.segments[segment - 1].spoken == "城镇新增就业一千一百万人。"
    draft = change_draft(folder, config, 2, "edit", segment=segment, spoken="城镇新增就业一千一百万人，好。")
    assert draft.script.segments[segment - 1].text == "城镇新增就业1100万人。"

    draft = change_draft(folder, config, 3, "reading", word="行长", reading="hang2 zhang3")
    lexicon = config.paths.lexicon_path.read_text(encoding="utf-8")
    assert "行长\thang2 zhang3\tset on the review desk" in lexicon
    banker = draft.script.segments[body_segment(folder, config, 2) - 1]
    assert "行长" in banker.text and "行长" not in banker.spoken  # said with characters of exactly that reading
    from briefing.pinyin import spoken_syllables

    assert "hang2 zhang3" in " ".join(spoken_syllables(banker.spoken))


@pytest.mark.parametrize(
    ("action", "args", "message"),
    [
        ("edit", {"text": "，。！"}, "empty"),
        ("edit", {"text": "长" * 401}, "over 400"),
        ("edit", {"spoken": "\x07\x1b"}, "empty"),
        ("edit", {"spoken": "共3个，%好。"}, "cannot say % 3"),
        ("headline", {"story": 1, "title": " "}, "empty"),
        ("headline", {"story": 9, "title": "新标题"}, "no story 9"),
        ("move", {"story": 1, "by": -1}, "already first"),
        ("reading", {"word": "重庆", "reading": "chong2"}, "one TONE3 syllable per character"),
        ("reading", {"word": "重庆", "reading": "xx9 qing4"}, "one TONE3 syllable"),
        ("add", {"candidate": 1}, "no candidate 1"),
    ],
)
def test_a_change_that_cannot_be_made_is_refused_and_nothing_is_written(drafted, action, args, message):
    config, _, folder = drafted
    if action == "edit":
        args = {"segment": body_segment(folder, config), **args}
    before = (folder / "script.json").read_bytes()
    with pytest.raises(EditRefused, match=message):
        change_draft(folder, config, 1, action, **args)
    assert (folder / "script.json").read_bytes() == before and open_draft(folder, config).state.version == 1


def test_the_intro_is_not_edited_as_a_segment_and_the_last_story_cannot_be_dropped(drafted):
    config, _, folder = drafted
    with pytest.raises(EditRefused, match=r"\[wording\]"):
        change_draft(folder, config, 1, "edit", segment=1, text="大家好。")
    change_draft(folder, config, 1, "drop", story=1)
    change_draft(folder, config, 2, "drop", story=1)
    with pytest.raises(EditRefused, match="at least one story"):
        change_draft(folder, config, 3, "drop", story=1)


def test_a_change_made_on_an_older_version_is_refused_with_what_changed(drafted):
    config, _, folder = drafted
    change_draft(folder, config, 1, "headline", story=2, title="重庆银行加大小微贷款")
    with pytest.raises(StaleEdit, match="now version 2.*重庆银行加大小微贷款"):
        change_draft(folder, config, 1, "drop", story=2)
    assert len(open_draft(folder, config).script.stories) == 3


# --- the desk over HTTP ---------------------------------------------------------------------


def call(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_desk_needs_its_token_off_loopback_while_the_podcast_files_stay_public(drafted, tmp_path: Path):
    config, _, folder = drafted
    pipeline.daily([write_page(tmp_path, "# 旧闻\n昨天的一条新闻内容。\n", "old.txt")], config, DAY - dt.timedelta(days=1))
    token = "a-test-token-0123456789"
    with serving(make_app(folder.parent, desk=Desk(folder.parent, config, token, needs_token=True))) as base:
        assert call(f"{base}/review/")[0] == 403
        assert call(f"{base}/review/{DAY}/", headers={"Cookie": "briefing_review=wrong"})[0] == 403
        assert call(f"{base}/review/?token=%E9%87%8D%E5%BA%86")[0] == 403  # any text, even not ASCII, is just wrong
        assert call(f"{base}/feed.xml")[0] == 200 and call(f"{base}/{DAY - dt.timedelta(days=1)}/episode.mp3")[0] == 200
        assert call(f"{base}/{DAY}/episode.mp3")[0] == 404 and call(f"{base}/{DAY}/{DRAFT_FILE}")[0] == 404  # a draft is not public

        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as welcome:
            opener.open(f"{base}/review/?token={token}")
        assert welcome.value.code == 303 and welcome.value.headers["Location"] == "/review/"
        cookie = welcome.value.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        status, _, page = call(f"{base}/review/", headers={"Cookie": cookie.split(";")[0]})
        assert status == 200 and f'href="{DAY}/"' in page.decode() and "draft" in page.decode()


def test_on_loopback_the_desk_answers_only_to_a_loopback_host_and_changes_need_the_forgery_token(drafted):
    config, _, folder = drafted
    desk = Desk(folder.parent, config, "another-test-token-0123", needs_token=False)
    with serving(make_app(folder.parent, desk=desk)) as base:
        status, headers, page = call(f"{base}/review/{DAY}/")
        assert status == 200 and "国务院常务会议部署稳就业工作" in page.decode() and "Approve and publish" in page.decode()
        assert "script-src 'sha256-" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store" and "Access-Control-Allow-Origin" not in headers
        assert call(f"{base}/review/{DAY}/", headers={"Host": "evil.example:80"})[0] == 403  # DNS rebinding

        drop = {"action": "drop", "story": 3, "version": 1}
        assert call(f"{base}/review/{DAY}/change", "POST", drop)[0] == 403  # no token, no Origin
        assert call(f"{base}/review/{DAY}/change", "POST", drop, {CSRF_HEADER: desk.csrf, "Origin": "http://evil.example"})[0] == 403
        same = {CSRF_HEADER: desk.csrf, "Origin": base}
        assert call(f"{base}/review/{DAY}/change", "POST", drop, {"Origin": base})[0] == 403
        assert len(open_draft(folder, config).script.stories) == 3

        status, _, answer = call(f"{base}/review/{DAY}/change", "POST", drop, same)
        assert status == 200 and json.loads(answer) == {"version": 2}
        status, _, answer = call(f"{base}/review/{DAY}/change", "POST", {**drop, "story": 1}, same)
        assert status == 409 and "now version 2" in json.loads(answer)["error"]
        status, _, answer = call(f"{base}/review/{DAY}/change", "POST", {"action": "edit", "segment": 1, "text": "x", "version": 2}, same)
        assert status == 400 and "[wording]" in json.loads(answer)["error"]
        assert call(f"{base}/review/{DAY}/change", "POST", {"action": "rm", "version": 2}, same)[0] == 400
        assert call(f"{base}/review/{DAY}/change", "POST", {"action": "drop", "story": "x", "version": 2}, same)[0] == 400
        assert call(f"{base}/review/{DAY}/change", "POST", {"action": "drop", "story": 1}, same)[0] == 400  # no version
        from briefing.files import output_lock

        with output_lock(folder.parent):  # a daily run writing the folder: try again later
            status, _, answer = call(f"{base}/review/{DAY}/change", "POST", {"action": "drop", "story": 1, "version": 2}, same)
        assert status == 409 and "another briefing run" in json.loads(answer)["error"]

        assert feed_items(folder.parent) == []
        status, _, answer = call(f"{base}/review/{DAY}/publish", "POST", {}, same)
        # Dropping a story changes what the intro and the rundown say: those two segments are made, no other.
        assert status == 200 and json.loads(answer)["made"] == 2 and len(feed_items(folder.parent)) == 1
        assert call(f"{base}/{DAY}/episode.mp3")[0] == 200


def test_a_hostile_headline_or_link_is_shown_as_text_and_never_run(drafted):
    from dataclasses import replace

    from briefing.drafts import StoryLink, write_draft

    config, _, folder = drafted
    state = read_draft(folder)
    write_draft(folder, replace(state, links=(StoryLink("javascript:alert(1)"), *state.links[1:])))
    change_draft(folder, config, 1, "headline", story=2, title='<script>alert(1)</script>"><img src=x onerror=alert(2)>')
    desk = Desk(folder.parent, config, "hostile-test-token-012345", needs_token=False)
    with serving(make_app(folder.parent, desk=desk)) as base:
        page = call(f"{base}/review/{DAY}/")[2].decode()
    assert "javascript:" not in page and "<img" not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_listening_makes_one_segment_once_however_often_it_is_asked(drafted, isolated_cache: Path):
    config, _, folder = drafted
    segment = body_segment(folder, config, 1)
    change_draft(folder, config, 1, "edit", segment=segment, text="这是一句刚刚改过的话。")
    desk = Desk(folder.parent, config, "listen-test-token-012345", needs_token=False)
    with serving(make_app(folder.parent, desk=desk)) as base:
        same = {CSRF_HEADER: desk.csrf, "Origin": base}
        assert call(f"{base}/review/{DAY}/segment/{segment}.wav")[0] == 404
        answers = [json.loads(call(f"{base}/review/{DAY}/listen", "POST", {"segment": segment}, same)[2]) for _ in range(3)]
        assert len({a["job"] for a in answers}) == 1 and len(desk.jobs.jobs) == 1
        desk.jobs.jobs[answers[0]["job"]].result(60)
        assert call(f"{base}/review/jobs/nothing")[0] == 404
        assert json.loads(call(f"{base}/review/jobs/{answers[0]['job']}")[2])["state"] == "made"
        status, headers, audio = call(f"{base}/review/{DAY}/segment/{segment}.wav")
        assert status == 200 and headers["Content-Type"] == "audio/wav" and audio[:4] == b"RIFF" and len(audio) > 1000


# --- the command line -----------------------------------------------------------------------


def test_the_command_line_drafts_and_publishes(tmp_path: Path):
    from typer.testing import CliRunner

    from briefing.cli import app

    _, config_file = tone_programme(tmp_path)
    page = write_page(tmp_path, THREE_STORIES)
    runner = CliRunner()
    drafted = runner.invoke(app, ["daily", str(page), "--date", DAY.isoformat(), "--draft", "--config", str(config_file)])
    assert drafted.exit_code == 0, drafted.output
    assert f"review it at /review/{DAY}/" in drafted.output and f"briefing publish {DAY}" in drafted.output
    published = runner.invoke(app, ["publish", DAY.isoformat(), "--config", str(config_file)])
    assert published.exit_code == 0 and "0 segments synthesized" in published.output, published.output
    again = runner.invoke(app, ["publish", DAY.isoformat(), "--config", str(config_file)])
    assert again.exit_code == 0 and "already published; nothing to do" in again.output
    # With draft = true in the config, --no-draft publishes at once.
    config_file.write_text(config_file.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")
    other_day = (DAY + dt.timedelta(days=1)).isoformat()
    now = runner.invoke(app, ["daily", str(page), "--date", other_day, "--no-draft", "--config", str(config_file)])
    assert now.exit_code == 0 and "draft, not published" not in now.output, now.output
    assert len(feed_items(tmp_path / "output")) == 2
    missing = runner.invoke(app, ["publish", "2026-01-01", "--config", str(config_file)])
    assert missing.exit_code == 2 and "no draft for 2026-01-01" in missing.output and "briefing daily --draft" in missing.output


# --- the desk in a real browser -------------------------------------------------------------


@pytest.mark.slow
def test_an_editor_reviews_a_draft_in_chromium_on_a_phone_and_approves_it(drafted, tmp_path: Path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(chromium).exists(), "Debian's chromium")
    from PIL import Image, ImageStat
    from playwright.sync_api import expect, sync_playwright

    config, _, folder = drafted
    segment = body_segment(folder, config, 1)
    desk = Desk(folder.parent, config, "browser-test-token-01234", needs_token=False)
    shots = Path(os.environ.get("BRIEFING_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with serving(make_app(folder.parent, desk=desk)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{base.replace('127.0.0.1', 'localhost')}/review/")
        page.get_by_role("link", name=DAY.isoformat()).click()
        page.wait_for_selector("#story-3")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone

        # Edit a segment's text with the keyboard alone: its spoken form is derived and shown after the save.
        text = page.locator(f"#text-{segment}")
        text.fill("城镇新增就业1100万人，比去年多了5%。")
        text.press("Control+Enter")  # the page saves, then reloads: wait for what the reload shows, not for an event
        expect(page.locator(f"#spoken-{segment}")).to_have_value("城镇新增就业一千一百万人，比去年多了百分之五。")
        expect(page.locator("#status")).to_have_text("Saved.")

        # Listen to it: only that segment is made, and the player loads it.
        listen = page.locator(f"button[data-listen='{segment}']")
        listen.click()
        audio = page.locator(f"#audio-{segment}")
        expect(audio).to_have_attribute("src", re.compile(r"segment/"), timeout=60_000)  # the page runs under its CSP
        audio.evaluate("a => a.readyState >= 1 || new Promise(r => a.addEventListener('loadedmetadata', r, {once: true}))")
        assert audio.evaluate("a => a.duration") > 1.0
        expect(page.locator(f"#made-{segment}")).to_have_text(re.compile(r"· made$"))
        page.screenshot(path=str(shots / "desk-phone.png"), full_page=False)

        # Drop the third story; the rundown follows.
        page.locator("#story-3 button[data-action='drop']").click()
        expect(page.locator("#rundown li")).to_have_count(2)
        expect(page.locator("section.story")).to_have_count(2)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "desk-desktop.png"), full_page=False)
        assert feed_items(folder.parent) == []

        page.get_by_role("button", name="Approve and publish").click()
        expect(page.locator("header p")).to_contain_text("published", timeout=120_000)
        player = page.locator("audio")
        player.evaluate("a => a.readyState >= 1 || new Promise(r => a.addEventListener('loadedmetadata', r, {once: true}))")
        assert player.evaluate("a => a.duration") > 10
        page.screenshot(path=str(shots / "desk-published.png"), full_page=False)
        browser.close()

    manifest = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    assert manifest["stories"][0]["summary"].startswith("城镇新增就业1100万人，比去年多了5%。") and len(manifest["stories"]) == 2
    reviewed = json.loads((folder / REVIEWED_FILE).read_text(encoding="utf-8"))
    # The edited segment was made when it was heard; approving makes only what the drop changed
    # (the intro's story count and the rundown) and reuses every other segment.
    assert reviewed["made"] == 2 and reviewed["reused"] == manifest["segments"] - 2
    assert len(feed_items(folder.parent)) == 1
    for name in ("desk-phone.png", "desk-desktop.png"):
        with Image.open(shots / name) as image:
            assert ImageStat.Stat(image.convert("L")).stddev[0] > 20 and len(image.getcolors(1 << 16) or []) > 20


def test_saving_what_is_already_there_is_not_a_change(drafted):
    config, _, folder = drafted
    segment = body_segment(folder, config)
    text = open_draft(folder, config).script.segments[segment - 1].text
    draft = change_draft(folder, config, 1, "edit", segment=segment, text=text)
    assert draft.state.version == 1 and draft.state.history == ()


def test_draft_true_in_the_config_makes_every_daily_run_a_draft_and_status_tells_both_runs(tmp_path: Path):
    from briefing.runlog import read_runs
    from briefing.status import read_status

    config, _ = tone_programme(tmp_path, draft=True, alexa=True)
    root = config.paths.output_path
    assert config.review.draft
    pipeline.daily([write_page(tmp_path, THREE_STORIES)], config, DAY)
    assert read_draft(root / DAY.isoformat()) is not None and feed_items(root) == [] and not (root / "alexa.json").exists()

    pipeline.publish_draft(DAY, config)
    assert f"/{DAY}/" in (root / "alexa.json").read_text(encoding="utf-8")  # the approved episode, now on Alexa too
    runs = read_runs(root)
    assert [(r.command, r.status) for r in runs] == [("draft", "ok"), ("approve", "ok")] and runs[-1].segments_reused > 0
    assert read_status(config, "briefing.toml", root).last_run.command == "approve"


def test_the_desk_token_comes_from_the_environment_then_the_config_else_is_new_each_start(tmp_path: Path, monkeypatch):
    from briefing.desk import TOKEN_ENV, desk_token
    from briefing.errors import ConfigError

    config, _ = tone_programme(tmp_path, tables='[review]\ntoken = "from-the-config-0123456789"\n')
    assert desk_token(config) == "from-the-config-0123456789"
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment-0123456789")
    assert desk_token(config) == "from-the-environment-0123456789"
    monkeypatch.delenv(TOKEN_ENV)
    fresh = tone_programme(tmp_path / "fresh")[0]
    assert len(desk_token(fresh)) >= 24 and desk_token(fresh) != desk_token(fresh)
    with pytest.raises(ConfigError, match="at least 16 printable"):
        tone_programme(tmp_path / "short", tables='[review]\ntoken = "short"\n')
