"""Alexa Flash Briefing: a JSON feed of the newest episode's stories, each its own louder clip.

Amazon's rules for audio items: MP3, at most 10 minutes, -14 LUFS integrated, true peak at or
below -2 dBFS; the feed holds 1 to 5 items, newest first, and must be served over public HTTPS.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .episode import ALEXA_FILE, EPISODE_FILE, PublishedEpisode
from .errors import AssemblyError, OutputError
from .files import describe_write_error, write_atomically

if TYPE_CHECKING:  # numpy, scipy and ffmpeg load only when a clip is made
    import numpy as np

    from .mastering import Loudness

CLIP_FOLDER = "alexa"
TARGET_LUFS = -14.0
MAX_TRUE_PEAK = -2.0
MAX_SECONDS = 600
MAX_ITEMS = 5
CLIP_BITRATE = "128k"


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
        from .mix import EPISODE_RATE
        from .mp3 import decode

        if samples is None:
            samples = decode(folder / manifest.audio_file, EPISODE_RATE)
        start, end = chapter.start, min(chapter.end, chapter.start + MAX_SECONDS)
        master_and_encode(
            samples[int(start * EPISODE_RATE) : int(end * EPISODE_RATE)],
            EPISODE_RATE,
            clip,
            target_lufs=TARGET_LUFS,
            max_true_peak=MAX_TRUE_PEAK,
            bitrate=CLIP_BITRATE,
        )
    path = out_root / ALEXA_FILE
    write_atomically(path, json.dumps(flash_briefing_items(episode, base_url), ensure_ascii=False, indent=2).encode("utf-8"))
    return path


def flash_briefing_items(episode: PublishedEpisode, base_url: str) -> list[dict[str, str]]:
    """The feed's items: one per story of the episode's first five, the first story newest."""
    manifest = episode.manifest
    published = manifest.published_time.astimezone(dt.UTC)
    base = base_url.rstrip("/")
    items = []
    identity = manifest.guid or episode.date
    for order, chapter in enumerate(manifest.story_chapters[:MAX_ITEMS]):
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
    return items


@dataclass(frozen=True)
class Master:
    """Loudness of the master before encoding and of the MP3 after."""

    before: Loudness
    after: Loudness


def master_and_encode(
    samples: np.ndarray,
    sample_rate: int,
    destination: Path,
    target_lufs: float = TARGET_LUFS,
    max_true_peak: float = MAX_TRUE_PEAK,
    bitrate: str = CLIP_BITRATE,
) -> Master:
    """Master a whole clip to `target_lufs` and encode mono 44.1 kHz CBR MP3 with its true peak at or
    under `max_true_peak`, as ffmpeg measures it in the MP3. (The episode itself is levelled segment
    by segment as it is synthesized, by `mix.EpisodeWriter`.)

    The limiter works on sample peaks; when a meter finds the true peak too high (in the master,
    which must stay 0.5 dB under the MP3's limit to leave room for the encoder, or in the MP3), the
    ceiling drops by the excess and the audio is mastered again with the limiter watching true
    peaks (oversampled: slower, so only when needed).
    """
    try:
        return _master_and_encode(samples, sample_rate, destination, target_lufs, max_true_peak, bitrate)
    except OSError as exc:  # the MP3 could not be written: a full disk, most often
        raise OutputError(describe_write_error(destination, exc)) from None


def _master_and_encode(
    samples: np.ndarray, sample_rate: int, destination: Path, target_lufs: float, max_true_peak: float, bitrate: str
) -> Master:
    from .mastering import ENCODER_HEADROOM_DB, LOUDNESS_TOLERANCE, MAX_TRUE_PEAK_MP3, MAX_TRUE_PEAK_WAV, Loudness, master, true_peak_db
    from .mp3 import Mp3Encoder, measure_loudness

    ceiling_db = max_true_peak - ENCODER_HEADROOM_DB
    max_true_peak_master = max_true_peak - (MAX_TRUE_PEAK_MP3 - MAX_TRUE_PEAK_WAV)
    aim, corrected, true_peak = target_lufs, False, False
    for _ in range(6):
        mastered = master(samples, sample_rate, aim, ceiling_db=ceiling_db, true_peak=true_peak)
        before = Loudness(round(float(mastered.loudness), 1), round(true_peak_db(mastered.samples, sample_rate), 1))
        if before.true_peak_dbtp > max_true_peak_master:
            # Lowering a sample-peak ceiling does not always lower the true peak of heavily
            # limited audio; from here the limiter watches the true peak itself.
            ceiling_db -= before.true_peak_dbtp - max_true_peak_master + 0.1
            true_peak = True
            continue
        with Mp3Encoder(destination, sample_rate, bitrate) as encoder:
            encoder.write(mastered.samples)
            encoder.finish()
        after = measure_loudness(destination)
        if after.true_peak_dbtp > max_true_peak:
            ceiling_db -= after.true_peak_dbtp - max_true_peak + 0.1
            true_peak = True
            continue
        if abs(after.integrated_lufs - target_lufs) <= LOUDNESS_TOLERANCE or corrected:
            return Master(before, after)
        # Heavy limiting and the encoder move the measured loudness; aim off by the miss, once.
        aim, corrected = aim + target_lufs - after.integrated_lufs, True
    raise AssemblyError(f"{destination}: could not bring the true peak under {max_true_peak} dBTP")
