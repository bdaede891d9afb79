"""Publish: after an episode is made (or the base URL changes), rewrite what the output root shows
the world, in turn: the podcast feed, the listening page and, when configured, the Alexa feed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .config import Config
from .episode import ALEXA_FILE, COVER_FILE, FEED_FILE, PAGE_FILE
from .files import source_digest, write_atomically

PUBLISHED_FILE = ".published"  # what the files were last published from


def publish(out_root: Path, config: Config, base_url: str = "") -> Path:
    """Rebuild feed.xml, index.html (and alexa.json) from the finished episodes under `out_root`.

    The address is `base_url`, else the config's, else the one the feed on disk has. When nothing
    they are made from has changed since they were last written, they are left as they are (a
    podcast app polling the feed sees the same bytes). Returns the feed's path.
    """
    record = out_root / PUBLISHED_FILE
    if record.exists() and record.read_text(encoding="utf-8") == _published_from(out_root, config, base_url):
        return out_root / FEED_FILE
    # The writers need lxml, feedgen and segno: loaded only when something is written.
    from .alexa import write_flash_briefing
    from .episode import published_episodes
    from .feed import feed_base_url, write_feed
    from .page import write_page

    url = feed_base_url(out_root, config, base_url)
    episodes = published_episodes(out_root)
    feed = write_feed(out_root, episodes, config, url)
    write_page(out_root, episodes[: config.feed.feed_episodes], config, f"{url}/{FEED_FILE}")
    if config.feed.alexa and episodes:
        write_flash_briefing(out_root, episodes[0], url)
    write_atomically(record, _published_from(out_root, config, base_url).encode("utf-8"))
    return feed


def _published_from(out_root: Path, config: Config, base_url: str) -> str:
    """A digest of everything publishing reads and writes: the settings, the address, briefing's
    own code, and the name, size and time of each file in the episode folders and of each
    published file (so one deleted or edited by hand is written again)."""
    digest = hashlib.sha256(json.dumps([config.to_dict(), base_url], sort_keys=True, ensure_ascii=False).encode("utf-8"))
    digest.update(source_digest())
    folders = sorted(p for p in out_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [out_root / name for name in (FEED_FILE, PAGE_FILE, ALEXA_FILE, COVER_FILE)]
    for path in [*files, *(f for folder in folders for f in sorted(folder.iterdir()))]:
        try:
            stat = path.stat()
            digest.update(f"{path.relative_to(out_root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            digest.update(f"{path.relative_to(out_root)}\0missing\n".encode())
    return digest.hexdigest()
