"""Synthesis on a real Dask cluster (a LocalCluster of two worker processes started here): the same
episode as on one machine, a worker killed mid-run loses nothing, and a batch shares its segments."""

import datetime as dt
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing import pipeline
from briefing.cli import app
from briefing.cluster import cluster_executor
from briefing.config import Config
from briefing.errors import SynthesisError
from briefing.synthesize import SegmentCache, SynthesisSettings, synthesize_all
from briefing.voices import VoicePreset
from briefing.workers import JobPlaces

from .conftest import EXAMPLE_PAGE, tone_programme
from .test_synthesize import TONE, segments

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow
DAY = dt.date(2026, 11, 26)
SLOW = VoicePreset(name="slow", engine="tone", engine_voice="slow")
STORIES = {
    "rail": "# 全国铁路客流创新高\n全国铁路今天预计发送旅客一千三百五十万人次，计划加开旅客列车一千二百列。铁路部门提醒旅客合理安排行程。\n",
    "school": "# 三所新建学校投入使用\n我市新建的三所公办学校正式投入使用，共新增学位三千六百个。明年还将开工建设五所学校。\n",
    "metro": "# 地铁五号线开通\n地铁五号线一期工程今天开通初期运营，线路全长二十二公里，共设车站十六座。\n",
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as running:
        yield running


def test_segments_made_on_the_cluster_are_the_ones_made_here(cluster, tmp_path: Path):
    texts = [f"第{n}条新闻，今天发布。" for n in range(8)]
    here_audio, here = synthesize_all(segments(*texts), [(TONE,)] * 8, SegmentCache(tmp_path / "here"), SynthesisSettings(workers=1))
    with cluster_executor(cluster.scheduler_address) as executor:
        there_audio, there = synthesize_all(
            segments(*texts), [(TONE,)] * 8, SegmentCache(tmp_path / "there"), SynthesisSettings(), places=JobPlaces(executor=executor)
        )
    assert there.synthesized == 8 and [len(a.samples) for a in there_audio] == [len(a.samples) for a in here_audio]


def test_a_worker_killed_mid_run_loses_no_segment(cluster, tmp_path: Path):
    texts = [f"第{n}条新闻。" for n in range(16)]
    report: list = []
    with cluster_executor(cluster.scheduler_address) as executor:
        run = threading.Thread(
            target=lambda: report.append(
                synthesize_all(
                    segments(*texts), [(SLOW,)] * 16, SegmentCache(tmp_path), SynthesisSettings(), places=JobPlaces(executor=executor)
                )
            )
        )
        run.start()
        cache = tmp_path / "segments"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list(cache.rglob("*.wav")):
            time.sleep(0.1)  # until the first segment is back
        with distributed.Client(cluster.scheduler_address) as client:
            victim = next(iter(client.run(os.getpid).values()))
        os.kill(victim, signal.SIGKILL)
        run.join(120)
    assert report and report[0][1].synthesized == 16 and all(a.duration > 0 for a in report[0][0])


def _programme(tmp_path: Path, name: str, stories: list[str], cluster: str = "", cache: str = "") -> Path:
    folder = tmp_path / name
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "page.txt").write_text("".join(STORIES[s] for s in stories), encoding="utf-8")
    settings = {"programme": f"{name}新闻", "cache_dir": cache or str(folder / "cache"), "workers": 0}
    if cluster:
        settings["cluster"] = cluster
    return tone_programme(folder, tables=f'[[sources]]\npath = "{folder / "pages"}"\n', **settings)[1]


def test_an_episode_made_on_the_cluster_is_the_one_made_here(cluster, tmp_path: Path):
    local = pipeline.daily([], Config.load(_programme(tmp_path / "local", "本地", ["rail", "school"])), DAY)
    remote = pipeline.daily([], Config.load(_programme(tmp_path / "remote", "本地", ["rail", "school"], cluster.scheduler_address)), DAY)
    assert local.episode and remote.episode
    mine, theirs = (json.loads((r.mp3.parent / "episode.json").read_text(encoding="utf-8")) for r in (local, remote))
    assert abs(mine["duration"] - theirs["duration"]) < 1152 / 44100  # within one MP3 frame
    assert [round(c["start"], 2) for c in mine["chapters"]] == [round(c["start"], 2) for c in theirs["chapters"]]


def test_a_batch_of_programmes_shares_its_segments(cluster, tmp_path: Path):
    configs = [
        _programme(tmp_path, "东区", ["rail", "school"]),
        _programme(tmp_path, "西区", ["rail", "metro"]),
        _programme(tmp_path, "南区", ["rail", "school", "metro"]),
    ]
    result = pipeline.batch(configs, DAY, cluster.scheduler_address)
    assert [error for _, _, error in result.programmes] == ["", "", ""]
    episodes = [made.episode for _, made, _ in result.programmes if made and made.episode]
    assert len(episodes) == 3 and all(e.directory.parent.parent.name in ("东区", "西区", "南区") for e in episodes)
    # The rail story (and the school and metro stories the third programme repeats) come from the cache.
    assert episodes[1].synthesis.reused > 0 and episodes[2].synthesis.reused > episodes[1].synthesis.reused
    assert result.synthesized + result.reused == sum(e.synthesis.synthesized + e.synthesis.reused for e in episodes)


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch):
    from briefing import cluster as cluster_module

    monkeypatch.setattr(cluster_module, "CONNECT_SECONDS", 1)
    with pytest.raises(SynthesisError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"), cluster_executor("tcp://127.0.0.1:9"):
        pass


def test_briefing_batch_on_this_machine_reports_what_it_shared(tmp_path: Path):
    from typer.testing import CliRunner

    from briefing.cli import app

    configs = [str(_programme(tmp_path, name, ["rail", "metro"])) for name in ("北区", "中区")]
    result = CliRunner().invoke(app, ["batch", *configs, "--date", "2026-11-26"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{configs[0]}: ") and "0 reused" in lines[0]
    assert lines[1].startswith(f"{configs[1]}: ") and "0 reused" not in lines[1]
    assert lines[-1].startswith("all programmes: ") and lines[-1].endswith("reused from the shared cache")


def test_a_cluster_lost_mid_run_hands_the_rest_to_this_machine(tmp_path: Path):
    texts = [f"第{n}条新闻。" for n in range(12)]
    report: list = []
    places = JobPlaces(workers=2)
    lost_cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster_executor(lost_cluster.scheduler_address) as executor:
        places.executor = executor
        run = threading.Thread(
            target=lambda: report.append(
                synthesize_all(segments(*texts), [(SLOW,)] * 12, SegmentCache(tmp_path), SynthesisSettings(), places)
            )
        )
        run.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not list((tmp_path / "segments").rglob("*.wav")):
            time.sleep(0.1)  # until the first segment is back
        lost_cluster.close()  # the scheduler and its worker go away mid-run
        run.join(180)
    audio, made = report[0]
    assert made.synthesized == 12 and all(a.duration > 0 for a in audio) and "came back from the cluster unmade" in places.lost


def test_an_address_that_is_not_a_dask_scheduler_is_one_line(tmp_path: Path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_like_a_web_server() -> None:
        connection, _ = listener.accept()
        connection.recv(1000)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + b"\xff" * 64)
        time.sleep(1)
        connection.close()

    threading.Thread(target=answer_like_a_web_server, daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    result = CliRunner().invoke(app, ["daily", str(EXAMPLE_PAGE), "--out", str(tmp_path), "--cluster", address])
    listener.close()
    assert (
        result.exit_code == 1 and result.output == f"Error: {address} is not a Dask scheduler (MemoryError); check the address and port\n"
    )
