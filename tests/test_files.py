"""Files: modes, the output lock, what killed runs leave behind, and a full disk: one line, nothing lost."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing import pipeline
from briefing.cli import app
from briefing.errors import OutputError
from briefing.files import FILE_MODE, FOLDER_MODE, LOCK_FILE, output_lock

from .conftest import EPISODE_DAY, TWO_STORIES, tone_programme, write_page


def test_written_files_get_the_umask_modes_and_another_user_can_read_them(tmp_path: Path):
    base = Path(tempfile.mkdtemp(prefix="briefing-modes-", dir="/tmp"))
    try:
        base.chmod(0o755)
        config, _ = tone_programme(base)
        pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY)
        root = config.paths.output_path
        written = [p for p in root.rglob("*") if not p.name.startswith(".")]
        assert written and all((p.stat().st_mode & 0o777) == (FOLDER_MODE if p.is_dir() else FILE_MODE) for p in written)
        if os.geteuid() != 0 or FILE_MODE & 0o004 == 0:
            return  # reading as another user needs root to switch users, and a umask that lets others read
        reader = "import sys; [open(p, 'rb').read(1) for p in sys.argv[1:]]"
        files = [str(root / "feed.xml"), str(root / "index.html"), str(root / EPISODE_DAY.isoformat() / "episode.mp3")]
        as_nobody = subprocess.run(
            ["/usr/bin/python3", "-c", reader, *files], preexec_fn=lambda: os.setuid(65534), capture_output=True, text=True
        )
        assert as_nobody.returncode == 0, as_nobody.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_next_run_removes_what_killed_runs_left(tmp_path: Path):
    config, _ = tone_programme(tmp_path)
    root = config.paths.output_path
    left = [root / ".2026-11-25-424242-abc123", root / ".2026-11-24-old-424242"]
    for folder in left:
        (folder / "big").mkdir(parents=True)
        (folder / "big" / "episode.mp3").write_bytes(b"\0" * 1000)
    (root / ".feed.xml.x1y2.part").write_bytes(b"<rss")
    (root / ".keep-me").mkdir()  # not briefing's: left alone
    pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY)
    assert not any(folder.exists() for folder in left) and not (root / ".feed.xml.x1y2.part").exists()
    assert (root / ".keep-me").exists()


def test_a_second_run_on_the_same_output_is_told_who_holds_it(tmp_path: Path):
    config, config_file = tone_programme(tmp_path)
    root = config.paths.output_path
    with output_lock(root):
        with pytest.raises(OutputError, match=f"another briefing run \\(pid {os.getpid()}\\) is writing"):
            pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY)
        result = CliRunner().invoke(app, ["daily", str(write_page(tmp_path)), "--config", str(config_file), "--date", "2026-11-26"])
        assert result.exit_code == 1 and "another briefing run" in result.output
    assert pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY).episode is not None
    (root / LOCK_FILE).write_text("999999")  # left by a run that was killed: free to take
    assert pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY).reused is not None


@pytest.mark.parametrize("where", ["MP3 encode", "ID3 tags"])
def test_a_full_disk_while_writing_the_episode_is_one_line_and_keeps_the_old_episode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
):
    config, config_file = tone_programme(tmp_path)
    first = pipeline.daily([write_page(tmp_path)], config, EPISODE_DAY)
    before = first.mp3.read_bytes()

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "MP3 encode":
        from briefing import mp3

        # An encoder on a full disk: it reads the audio, then cannot write the file.
        encoder = tmp_path / "ffmpeg-on-a-full-disk"
        encoder.write_text('#!/bin/sh\ncat > /dev/null\necho "Error writing trailer of episode.mp3: No space left on device" >&2\nexit 1\n')
        encoder.chmod(0o755)
        monkeypatch.setattr(mp3, "ffmpeg_exe", lambda: str(encoder))
    else:
        from mutagen.id3 import ID3

        monkeypatch.setattr(ID3, "save", full)
    changed = write_page(tmp_path, TWO_STORIES.replace("三千", "四千"))
    result = CliRunner().invoke(app, ["daily", str(changed), "--config", str(config_file), "--date", "2026-11-26"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and "the disk is full" in result.output.lower()
    assert first.mp3.read_bytes() == before
    assert not [p for p in config.paths.output_path.glob(".2026*")]
