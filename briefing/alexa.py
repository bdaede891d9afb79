"""Alexa Flash Briefing: a JSON feed of the newest episode's stories, each its own louder clip.

Amazon's rules for audio items: MP3, at most 10 minutes, -14 LUFS integrated, true peak at or
below -2 dBFS; the feed holds 1 to 5 items, newest first, and must be served over public HTTPS.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from urllib.parse import quote

from .episode import ALEXA_FILE, EPISODE_FILE, PublishedEpisode
from .errors import OutputError
from .files import write_atomically

CLIP_FOLDER = "alexa"
TARGET_LUFS = -14.0
MAX_TRUE_PEAK = -2.0
MAX_SECONDS = 600
MAX_ITEMS = 5


def write_flash_briefing(out_root: Path, episode: PublishedEpisode, base_url: str) -> Path:
    """Clips for the episode's first five stories (made once) and alexa.json pointing at them."""
    manifest = episode.manifest
    folder = out_root / episode.folder
    stories = manifest.story_chapters[:MAX_ITEMS]
    if not stories:
        raise OutputError(f"{folder}: the episode has no story chapters to make Flash Briefing items from")
    clips = folder / CLIP_FOLDER
    clips.mkdir(exist_ok=True)
    samples = None
    for chapter in stories:
        clip = clips / f"story-{chapter.story}.mp3"
        if clip.exists() and clip.stat().st_mtime >= (folder / EPISODE_FILE).stat().st_mtime:
            continue
        from .assemble import EPISODE_RATE, master_and_encode  # numpy and ffmpeg, only when a clip is made
        from .measure import decode

        if samples is None:
            samples = decode(folder / manifest.audio_file, EPISODE_RATE)
        start, end = chapter.start, min(chapter.end, chapter.start + MAX_SECONDS)
        master_and_encode(
            samples[int(start * EPISODE_RATE) : int(end * EPISODE_RATE)],
            EPISODE_RATE,
            clip,
            target_lufs=TARGET_LUFS,
            max_true_peak=MAX_TRUE_PEAK,
            bitrate="128k",
        )
    published = manifest.published_time.astimezone(dt.UTC)
    base = base_url.rstrip("/")
    items = []
    identity = manifest.guid or episode.date
    for order, chapter in enumerate(stories):
        # Alexa reads the newest item first: the first story gets the latest time.
        updated = published - dt.timedelta(seconds=order)
        items.append(
            {
                "uid": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{identity}/story/{chapter.story}')}",
                "updateDate": updated.strftime("%Y-%m-%dT%H:%M:%S.0Z"),
                "titleText": chapter.title,
                "mainText": "",
                "streamUrl": f"{base}/{quote(episode.folder)}/{CLIP_FOLDER}/story-{chapter.story}.mp3",
                "redirectionUrl": f"{base}/#{episode.date}",
            }
        )
    path = out_root / ALEXA_FILE
    write_atomically(path, json.dumps(items, ensure_ascii=False, indent=2).encode("utf-8"))
    return path
