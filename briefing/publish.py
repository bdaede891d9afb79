"""Publish: after an episode is made (or the base URL changes), rewrite what the output root shows
the world, in turn: the podcast feed, the listening page and, when configured, the Alexa feed."""

from __future__ import annotations

from pathlib import Path

from .alexa import write_flash_briefing
from .config import Config
from .episode import published_episodes
from .feed import FEED_FILE, feed_base_url, write_feed
from .page import write_page


def publish(out_root: Path, config: Config, base_url: str = "") -> Path:
    """Rebuild feed.xml, index.html (and alexa.json) from the finished episodes under `out_root`.

    The address is `base_url`, else the config's, else the one the feed on disk has. Returns the feed's path.
    """
    url = feed_base_url(out_root, config, base_url)
    episodes = published_episodes(out_root)
    feed = write_feed(out_root, episodes, config, url)
    write_page(out_root, episodes[: config.feed.feed_episodes], config, f"{url}/{FEED_FILE}")
    if config.feed.alexa and episodes:
        write_flash_briefing(out_root, episodes[0], url)
    return feed
