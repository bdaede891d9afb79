"""Speakers: a real UPnP renderer, a local Cast v2 receiver, and contract stand-ins for Home Assistant and the Mi cloud."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from briefing.config import Config
from briefing.errors import ConfigError, SpeakerError
from briefing.mp3 import measure_loudness
from briefing.speakers import Media, episode_media, player_for, save_speaker_alias
from briefing.speakers.upnp import didl_metadata

from .conftest import EPISODE_DATE, EXAMPLE_PAGE, ROOT, briefing_serve, require, run_cli
from .fakes.cast_receiver import LocalCastReceiver
from .fakes.local_server import serving


@pytest.fixture(scope="module")
def out(episode_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("speakers") / "output"
    shutil.copytree(episode_root, copy)
    return copy


@pytest.fixture(scope="module")
def server(out: Path):
    with briefing_serve(out) as port:
        yield port


# --- UPnP: the real gmediarender -------------------------------------------------------------


def namespace_available() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.slow
def test_play_makes_a_real_upnp_renderer_play_the_episode(out: Path, tmp_path: Path):
    """Inside a private network namespace: gmediarender, a Cast receiver announced over mDNS, and briefing serve."""
    require(shutil.which("gmediarender") is not None, "Debian's gmediarender")
    if not namespace_available():
        pytest.skip(
            "LOUD SKIP: cannot make a private network namespace here (needs root and unshare -n); the real-renderer test did not run"
        )
    result = subprocess.run(
        [
            "unshare",
            "-n",
            "bash",
            str(ROOT / "tests" / "speakers" / "network-namespace.sh"),
            sys.executable,
            str(ROOT / "cli.py"),
            str(out),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    found = (tmp_path / "speakers.out").read_text(encoding="utf-8")
    assert "upnp   Kitchen Speaker" in found and "--to upnp:uuid:" in found  # SSDP discovery
    assert "cast   Living Room" in found and "--to cast:Living Room" in found  # mDNS discovery
    played = (tmp_path / "play.out").read_text(encoding="utf-8")
    assert (tmp_path / "play.rc").read_text().strip() == "0", played
    assert played.startswith("Kitchen Speaker (upnp) is playing: 每日新闻简报 2026年11月26日 (http://127.0.0.2:8765/")
    assert (tmp_path / "alias.out").read_text(encoding="utf-8").startswith("Kitchen Speaker (upnp) is playing")
    assert (tmp_path / "cast.out").read_text(encoding="utf-8").startswith("Living Room (cast) is playing: 每日新闻简报")
    cast = json.loads((tmp_path / "cast-loaded.json").read_text(encoding="utf-8"))
    assert cast["loaded"][0]["contentId"] == f"http://127.0.0.2:8765/{EPISODE_DATE}/episode.mp3" and cast["fetched"] == [
        [206, "audio/mpeg"]
    ]
    requests = (tmp_path / "serve.log").read_text(encoding="utf-8").splitlines()
    fetched = [line for line in requests if f"GET /{EPISODE_DATE}/episode.mp3" in line and "GStreamer" in line]
    assert len(fetched) >= 2 and all(" 200 " in line or " 206 " in line for line in fetched)  # the renderer fetched the MP3


class _RendererStillPlayingAnEarlierEpisode:
    """GetTransportInfo/GetPositionInfo answers of a renderer switching episodes: the first position
    read after Play is the earlier episode's (45 s), then the new episode's from 0."""

    def __init__(self) -> None:
        self.positions = iter(["0:00:45", "0:00:00", "0:00:01"])

    def action(self, name: str):
        answers = {
            "GetTransportInfo": lambda: {"CurrentTransportState": "PLAYING", "CurrentTransportStatus": "OK"},
            "GetPositionInfo": lambda: {"RelTime": next(self.positions)},
        }

        class Action:
            async def async_call(self, **_):
                return answers[name]()

        return Action()


def test_a_renderer_switching_from_an_earlier_episode_is_playing_once_the_new_position_moves():
    import asyncio

    from briefing.speakers.upnp import _PlayState

    state = _PlayState(_RendererStillPlayingAnEarlierEpisode(), "Kitchen")
    outcomes = [asyncio.run(state.check()) for _ in range(3)]
    assert outcomes[:2] == ["PLAYING", "PLAYING"]  # 45 s then 0 s: not yet moving on
    assert outcomes[2].position == 1.0


def test_didl_metadata_describes_the_episode():
    xml = didl_metadata(
        Media(
            url="http://192.0.2.5:8000/2026-11-26/episode.mp3",
            title="每日新闻简报 2026年11月26日",
            programme="每日新闻简报",
            duration=253.4,
            size=3086840,
            cover_url="http://192.0.2.5:8000/cover.png",
        )
    )
    assert 'protocolInfo="http-get:*:audio/mpeg:*"' in xml and 'duration="0:04:13"' in xml and 'size="3086840"' in xml
    assert "<dc:title>每日新闻简报 2026年11月26日</dc:title>" in xml and "<upnp:class>object.item.audioItem.musicTrack</upnp:class>" in xml


# --- the URL a speaker gets --------------------------------------------------------------------


@pytest.mark.slow
def test_a_loopback_feed_address_is_refused_with_advice(out: Path, tmp_path: Path):
    copy = tmp_path / "output"
    shutil.copytree(out, copy)
    assert run_cli("feed", "--out", str(copy), "--base-url", "http://127.0.0.1:8000").returncode == 0
    with pytest.raises(SpeakerError, match="loopback, which a speaker cannot reach.*serve --host 0.0.0.0"):
        episode_media(copy, "latest", Config())
    media = episode_media(copy, "latest", Config(), base_url="http://127.0.0.1:8000")  # the user said so
    assert media.url == f"http://127.0.0.1:8000/{EPISODE_DATE}/episode.mp3" and media.duration > 200
    assert run_cli("feed", "--out", str(copy), "--base-url", "http://192.168.1.20:8000").returncode == 0
    assert episode_media(copy, EPISODE_DATE, Config()).url.startswith("http://192.168.1.20:8000/")
    with pytest.raises(SpeakerError, match="No episode for 2020-01-01"):
        episode_media(copy, "2020-01-01", Config())


@pytest.mark.slow
def test_nothing_serving_the_episode_is_a_clear_error(out: Path):
    result = run_cli("play", "--out", str(out), "--to", "cast:127.0.0.1:9", "--base-url", "http://127.0.0.1:9")
    assert result.returncode == 1 and "Nothing answers at http://127.0.0.1:9/" in result.stderr and "briefing serve" in result.stderr


def test_aliases_are_saved_in_briefing_toml_and_resolved(tmp_path: Path):
    config = tmp_path / "briefing.toml"
    config.write_text('programme = "港闻早报"\n', encoding="utf-8")
    save_speaker_alias(config, "kitchen", "upnp:uuid:1234")
    save_speaker_alias(config, "living", "cast:192.168.1.30")
    save_speaker_alias(config, "kitchen", "ha:media_player.kitchen")  # replaced, not repeated
    loaded = Config.load(config)
    assert loaded.wording.programme == "港闻早报" and loaded.speakers == {
        "kitchen": "ha:media_player.kitchen",
        "living": "cast:192.168.1.30",
    }
    assert player_for("living", loaded).kind == "cast"
    with pytest.raises(ConfigError, match="plain alias"):
        save_speaker_alias(config, "bad alias", "upnp:x")


# --- Cast: a local receiver speaking Cast v2 over TLS --------------------------------------------


@pytest.mark.slow
def test_play_on_cast_loads_the_episode_on_the_default_media_receiver(out: Path, server: int, tmp_path: Path):
    with LocalCastReceiver(tmp_path) as receiver:
        result = run_cli(
            "play", "latest", "--out", str(out), "--to", f"cast:127.0.0.1:{receiver.port}", "--base-url", f"http://127.0.0.1:{server}"
        )
    assert result.returncode == 0, result.stderr
    assert "(cast) is playing: 每日新闻简报 2026年11月26日" in result.stdout
    assert ("urn:x-cast:com.google.cast.receiver", "LAUNCH") in receiver.messages
    media = receiver.loaded[0]
    assert media["contentId"] == f"http://127.0.0.1:{server}/{EPISODE_DATE}/episode.mp3" and media["contentType"] == "audio/mpeg"
    assert media["metadata"]["title"] == "每日新闻简报 2026年11月26日" and media["metadata"]["images"][0]["url"].endswith("/cover.png")
    assert receiver.fetched == [(206, "audio/mpeg")]  # the receiver fetched the MP3 from briefing serve


def test_a_cast_address_without_a_port_uses_the_cast_port():
    from briefing.speakers.cast import CAST_PORT, CastPlayer

    cast = CastPlayer("192.0.2.30")._connect(timeout=1)  # built, not yet connected
    assert (cast.cast_info.host, cast.cast_info.port) == ("192.0.2.30", CAST_PORT)


@pytest.mark.slow
def test_daily_then_play_on_cast(out: Path, server: int, tmp_path: Path):
    with LocalCastReceiver(tmp_path) as receiver:
        result = run_cli(
            "daily",
            str(EXAMPLE_PAGE),
            "--out",
            str(out),
            "--date",
            EPISODE_DATE,
            "--base-url",
            f"http://127.0.0.1:{server}",
            "--play",
            f"cast:127.0.0.1:{receiver.port}",
        )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout and "(cast) is playing" in result.stdout
    assert len(receiver.loaded) == 1


# --- Home Assistant: a stand-in that answers like the REST API -----------------------------------

HA_TOKEN = "long-lived-token"


def home_assistant(calls: list[dict]) -> web.Application:
    states = {
        "media_player.kitchen": {"entity_id": "media_player.kitchen", "state": "idle", "attributes": {"friendly_name": "Kitchen Nest"}}
    }

    def authorized(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {HA_TOKEN}"

    async def play_media(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        body = await request.json()
        calls.append(body)
        entity = states.get(body.get("entity_id"))
        if entity is None:
            return web.json_response(
                {"message": f"Referenced entities {body.get('entity_id')} are missing or not currently available"}, status=400
            )
        entity.update(
            state="playing", attributes={**entity["attributes"], "media_content_id": body["media_content_id"], "media_position": 0}
        )
        return web.json_response([entity])

    async def state(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.Response(status=401, text="401: Unauthorized")
        entity = states.get(request.match_info["entity"])
        return web.json_response(entity) if entity else web.json_response({"message": "Entity not found."}, status=404)

    app = web.Application()
    app.router.add_post("/api/services/media_player/play_media", play_media)
    app.router.add_get("/api/states/{entity}", state)
    return app


MEDIA = Media(
    url=f"http://192.168.1.20:8000/{EPISODE_DATE}/episode.mp3", title="每日新闻简报 2026年11月26日", programme="每日新闻简报", duration=253
)


def test_home_assistant_plays_through_media_player_play_media(monkeypatch: pytest.MonkeyPatch):
    calls: list[dict] = []
    with serving(home_assistant(calls)) as url:
        monkeypatch.setenv("HASS_SERVER", url)
        monkeypatch.setenv("HASS_TOKEN", HA_TOKEN)
        playback = player_for("ha:media_player.kitchen", Config()).play(MEDIA, timeout=5)
        assert playback.speaker == "Kitchen Nest" and playback.state == "PLAYING"
        assert calls == [{"entity_id": "media_player.kitchen", "media_content_id": MEDIA.url, "media_content_type": "music"}]
        with pytest.raises(SpeakerError, match="missing or not currently available"):
            player_for("ha:media_player.garage", Config()).play(MEDIA, timeout=5)
        monkeypatch.setenv("HASS_TOKEN", "expired")
        with pytest.raises(SpeakerError, match="refused the token \\(401\\).*HASS_TOKEN"):
            player_for("ha:media_player.kitchen", Config()).play(MEDIA, timeout=5)
    monkeypatch.delenv("HASS_TOKEN")
    with pytest.raises(SpeakerError, match="HASS_SERVER .* and HASS_TOKEN"):
        player_for("ha:media_player.kitchen", Config())


# --- Xiaomi: a stand-in for the Mi account service and the MiNA API ------------------------------

MI_USER, MI_PASS = "13800000000", "correct horse"


def mi_cloud(log: list[tuple[str, dict]], expire_after: int = -1) -> web.Application:
    """Answers like account.xiaomi.com/pass and api2.mina.mi.com: '&&&START&&&' JSON, the sign, the
    nonce/ssecurity handshake, a serviceToken cookie on the redirect, and MiNA's code/data envelope."""
    tokens: set[str] = set()
    served = {"mina": 0}

    def account(payload: dict) -> web.Response:
        return web.Response(text="&&&START&&&" + json.dumps(payload), content_type="application/json")

    async def service_login(request: web.Request) -> web.Response:
        log.append(("serviceLogin", dict(request.query)))
        return account(
            {"code": 70016, "qs": "%3Fsid%3Dmicoapi", "sid": "micoapi", "_sign": "s1gn", "callback": "https://api2.mina.mi.com/sts"}
        )

    async def login_auth(request: web.Request) -> web.Response:
        form = dict(await request.post())
        log.append(("serviceLoginAuth2", form))
        if (
            form.get("user") != MI_USER
            or form.get("hash") != hashlib.md5(MI_PASS.encode()).hexdigest().upper()
            or form.get("_sign") != "s1gn"
        ):
            return account({"code": 70016, "desc": "登录验证失败"})
        location = f"http://{request.host}/sts?d=1"
        return account({"code": 0, "userId": 42, "ssecurity": "c2VjdXJpdHk=", "nonce": 1234567, "passToken": "p", "location": location})

    async def sts(request: web.Request) -> web.Response:
        expected = base64.b64encode(hashlib.sha1(b"nonce=1234567&c2VjdXJpdHk=").digest()).decode()
        if request.query.get("clientSign") != expected:
            return web.Response(status=403, text="bad clientSign")
        token = f"token-{len(tokens)}"
        tokens.add(token)
        redirect = web.HTTPFound("https://api2.mina.mi.com/")
        redirect.set_cookie("serviceToken", token)
        raise redirect

    def mina_authorized(request: web.Request) -> bool:
        served["mina"] += 1
        if expire_after >= 0 and served["mina"] == expire_after + 1:
            tokens.clear()  # the session expires once, mid-run
        return request.cookies.get("serviceToken") in tokens and request.cookies.get("userId") == "42"

    async def device_list(request: web.Request) -> web.Response:
        if not mina_authorized(request):
            return web.Response(status=401, text="Unauthorized")
        return web.json_response(
            {
                "code": 0,
                "message": "Success",
                "data": [
                    {"deviceID": "d-kitchen-01", "name": "厨房小爱", "hardware": "LX06", "alias": "厨房"},
                    {"deviceID": "d-study-02", "name": "书房音箱", "hardware": "L05B", "alias": ""},
                ],
            }
        )

    async def ubus(request: web.Request) -> web.Response:
        if not mina_authorized(request):
            return web.Response(status=401, text="Unauthorized")
        form = dict(await request.post())
        log.append(("ubus", form))
        if form.get("method") == "player_play_url":
            return web.json_response({"code": 0, "message": "Success", "data": {"code": 0, "info": "{}"}})
        info = {"status": 1, "volume": 40, "play_song_detail": {"position": 1200, "duration": 253000}}
        return web.json_response({"code": 0, "message": "Success", "data": {"code": 0, "info": json.dumps(info)}})

    app = web.Application()
    app.router.add_get("/pass/serviceLogin", service_login)
    app.router.add_post("/pass/serviceLoginAuth2", login_auth)
    app.router.add_get("/sts", sts)
    app.router.add_get("/admin/v2/device_list", device_list)
    app.router.add_post("/remote/ubus", ubus)
    return app


@pytest.fixture
def mi_env(monkeypatch: pytest.MonkeyPatch):
    def start(app: web.Application, password: str = MI_PASS):
        context = serving(app)
        url = context.__enter__()
        monkeypatch.setenv("BRIEFING_XIAOMI_ACCOUNT_URL", f"{url}/pass")
        monkeypatch.setenv("BRIEFING_XIAOMI_MINA_URL", url)
        monkeypatch.setenv("MI_USER", MI_USER)
        monkeypatch.setenv("MI_PASS", password)
        started.append(context)

    started: list = []
    yield start
    for context in started:
        context.__exit__(None, None, None)


def test_xiaomi_logs_in_and_plays_the_url_over_ubus(mi_env):
    log: list[tuple[str, dict]] = []
    mi_env(mi_cloud(log))
    playback = player_for("xiaomi:厨房小爱", Config()).play(MEDIA, timeout=5)
    assert playback.speaker == "厨房小爱" and playback.state == "PLAYING" and playback.position == 1.2
    play = next(form for step, form in log if step == "ubus" and form["method"] == "player_play_url")
    assert play["deviceId"] == "d-kitchen-01" and play["path"] == "mediaplayer" and play["requestId"].startswith("app_ios_")
    assert json.loads(play["message"]) == {"url": MEDIA.url, "type": 2, "media": "app_ios", "duration": 253000}
    assert [step for step, _ in log][:2] == ["serviceLogin", "serviceLoginAuth2"]


def test_xiaomi_logs_in_again_when_the_session_expires(mi_env):
    log: list[tuple[str, dict]] = []
    mi_env(mi_cloud(log, expire_after=1))
    assert player_for("xiaomi:d-study-02", Config()).play(MEDIA, timeout=5).state == "PLAYING"
    assert [step for step, _ in log].count("serviceLoginAuth2") == 2


def test_xiaomi_errors_say_what_to_do(mi_env, monkeypatch: pytest.MonkeyPatch):
    mi_env(mi_cloud([]), password="wrong")
    with pytest.raises(SpeakerError, match="login failed \\(登录验证失败\\); check MI_USER and MI_PASS"):
        player_for("xiaomi:厨房小爱", Config()).play(MEDIA, timeout=5)
    monkeypatch.setenv("MI_PASS", MI_PASS)
    with pytest.raises(SpeakerError, match="No Xiaomi speaker '客厅' in this Mi account; its speakers: 厨房小爱, 书房音箱"):
        player_for("xiaomi:客厅", Config()).play(MEDIA, timeout=5)
    monkeypatch.delenv("MI_USER")
    with pytest.raises(SpeakerError, match="MI_USER and MI_PASS"):
        player_for("xiaomi:厨房小爱", Config())


# --- Alexa Flash Briefing -----------------------------------------------------------------------


@pytest.mark.slow
def test_alexa_flash_briefing_feed_and_clips(out: Path, tmp_path: Path):
    copy = tmp_path / "output"
    shutil.copytree(out, copy)
    config = tmp_path / "briefing.toml"
    config.write_text("alexa = true\n", encoding="utf-8")
    result = run_cli("feed", "--out", str(copy), "--config", str(config), "--base-url", "https://news.example.com/briefing")
    assert result.returncode == 0, result.stderr
    items = json.loads((copy / "alexa.json").read_text(encoding="utf-8"))
    manifest = json.loads((copy / EPISODE_DATE / "episode.json").read_text(encoding="utf-8"))
    stories = [c for c in manifest["chapters"] if c["story"] is not None]
    assert 1 <= len(items) <= 5 and [i["titleText"] for i in items] == [c["title"] for c in stories][:5]
    assert [i["updateDate"] for i in items] == sorted((i["updateDate"] for i in items), reverse=True)  # newest first
    for item, chapter in zip(items, stories):
        assert set(item) == {"uid", "updateDate", "titleText", "mainText", "streamUrl", "redirectionUrl"}
        assert item["updateDate"].endswith(".0Z") and item["streamUrl"].startswith("https://news.example.com/briefing/")
        clip = copy / item["streamUrl"].removeprefix("https://news.example.com/briefing/")
        loudness = measure_loudness(clip)
        assert abs(loudness.integrated_lufs - (-14.0)) <= 1.0 and loudness.true_peak_dbtp <= -2.0
        from mutagen.mp3 import MP3

        assert abs(MP3(clip).info.length - (chapter["end"] - chapter["start"])) < 0.5 and MP3(clip).info.length <= 600
    assert len({i["uid"] for i in items}) == len(items)
