"""Feed: the podcast RSS (Apple's tags and the Podcasting 2.0 namespace) built from the episodes on disk."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from .config import Config
from .episode import CHAPTERS_FILE, COVER_FILE, FEED_FILE, SRT_FILE, VTT_FILE, Manifest, PublishedEpisode, clock
from .errors import ConfigError, OutputError
from .files import write_atomically
from .sections import BASE_URL_RE, DEFAULT_BASE_URL

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# Apple's limits: titles and descriptions longer than these are cut by the directory anyway.
MAX_TITLE = 255
MAX_DESCRIPTION = 4000
TRANSCRIPTS = ((VTT_FILE, "text/vtt"), (SRT_FILE, "application/x-subrip"))


def podcast_guid(feed_url: str) -> str:
    """Podcasting 2.0 GUID: UUIDv5 of the feed URL without its scheme and trailing slash."""
    parts = urlsplit(feed_url)
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, (parts.netloc + parts.path).rstrip("/") + (f"?{parts.query}" if parts.query else "")))


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters ending in an ellipsis, cut after a sentence when one ends near."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    stop = max(head.rfind(mark) for mark in "。！？\n")
    return (head[: stop + 1] if stop > limit * 0.6 else head) + "…"


def build_feed(episodes: list[PublishedEpisode], config: Config, base_url: str) -> bytes:
    base = quote(base_url.rstrip("/"), safe=":/%?=&@[]")
    feed_url = f"{base}/{FEED_FILE}"
    zone = ZoneInfo(config.wording.timezone)
    generator = FeedGenerator()
    generator.load_extension("podcast")
    generator.register_extension("podcastindex", _PodcastIndex, _PodcastIndexEntry, atom=False)
    generator.title(cut(config.wording.programme, MAX_TITLE))
    generator.description(cut(config.feed.description, MAX_DESCRIPTION))
    generator.link(href=feed_url, rel="self")
    generator.link(href=config.feed.website or f"{base}/", rel="alternate")
    generator.language("zh-cn")
    generator.generator("briefing")
    generator.image(url=f"{base}/{COVER_FILE}", title=cut(config.wording.programme, MAX_TITLE), link=config.feed.website or f"{base}/")
    generator.podcast.itunes_image(f"{base}/{COVER_FILE}")
    generator.podcast.itunes_category("News", "Daily News")
    generator.podcast.itunes_author(config.feed.author)
    generator.podcast.itunes_type("episodic")
    generator.podcastindex.settings(
        guid=podcast_guid(feed_url), locked=config.feed.locked, owner=config.feed.author, owner_email=config.feed.owner_email
    )
    for episode in reversed(episodes[: config.feed.feed_episodes]):  # feedgen prepends: oldest first gives newest on top
        manifest = episode.manifest
        folder = f"{base}/{quote(episode.folder)}"
        entry = generator.add_entry()
        entry.title(cut(manifest.title, MAX_TITLE))
        entry.guid(manifest.guid or f"{podcast_guid(feed_url)}/{episode.date}", permalink=False)
        entry.enclosure(f"{folder}/{quote(manifest.audio_file)}", str(manifest.audio_bytes), "audio/mpeg")
        entry.pubDate(manifest.published_time.astimezone(zone))
        entry.description(cut(episode_description(manifest), MAX_DESCRIPTION))
        entry.link(href=f"{base}/#{episode.date}")
        entry.podcast.itunes_duration(str(round(manifest.duration)))
        entry.podcast.itunes_episode(manifest.number)
        entry.podcast.itunes_episode_type("full")
        entry.podcastindex.files(
            transcripts=[(f"{folder}/{name}", kind) for name, kind in TRANSCRIPTS], chapters=f"{folder}/{CHAPTERS_FILE}"
        )
    xml = generator.rss_str(pretty=True, encoding="UTF-8")
    check_feed(xml)
    return xml


def episode_description(manifest: Manifest) -> str:
    """The story list with chapter times, as podcast apps show it."""
    lines = [f"{manifest.programme}，{len(manifest.stories)}条新闻："]
    lines += [f"{clock(chapter.start)} {chapter.title}" for chapter in manifest.story_chapters]
    return "\n".join(lines)


def check_feed(xml: bytes) -> None:
    """Refuse a feed that podcast apps would reject; raised before it can replace the old one."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        raise OutputError(f"The feed is not well-formed XML ({exc}); the previous feed is kept") from None
    ns = {"itunes": ITUNES, "podcast": PODCAST}
    required = [
        "channel/title",
        "channel/description",
        "channel/link",
        "channel/language",
        "channel/itunes:image/@href",
        "channel/itunes:category/@text",
        "channel/itunes:explicit",
        "channel/itunes:author",
        "channel/podcast:guid",
    ]
    missing = [path for path in required if not root.xpath(path, namespaces=ns)]
    for n, item in enumerate(root.xpath("channel/item")):
        for path in ("title", "guid", "enclosure/@url", "enclosure/@length", "enclosure/@type", "pubDate", "itunes:duration"):
            if not item.xpath(path, namespaces=ns):
                missing.append(f"item {n + 1}: {path}")
        if not str(item.xpath("string(enclosure/@url)")).startswith(("http://", "https://")):
            missing.append(f"item {n + 1}: an absolute enclosure URL")
    if root.tag != "rss" or missing:
        raise OutputError(f"The feed lacks {', '.join(missing) or 'an <rss> root'}; the previous feed is kept")


def feed_base_url(out_root: Path, config: Config, override: str = "", default: str = DEFAULT_BASE_URL) -> str:
    """--base-url, else `base_url` in the config, else the address the feed on disk already has, else `default`."""
    if override or config.feed.base_url:
        url = (override or config.feed.base_url).rstrip("/")
        if not BASE_URL_RE.match(url):
            raise ConfigError(f"invalid base URL {url!r}: expected http://host[:port][/path] or https://...")
        return url
    try:
        links = etree.parse(str(out_root / FEED_FILE)).xpath("/rss/channel/atom:link[@rel='self']/@href", namespaces={"atom": ATOM})
    except (OSError, etree.XMLSyntaxError):
        links = []
    if links and str(links[0]).endswith(f"/{FEED_FILE}"):
        return str(links[0])[: -len(FEED_FILE) - 1]
    return default


def write_feed(out_root: Path, episodes: list[PublishedEpisode], config: Config, base_url: str) -> Path:
    """Write feed.xml atomically; a feed that fails the check never replaces the old one."""
    path = out_root / FEED_FILE
    write_atomically(path, build_feed(episodes, config, base_url))
    return path


class _PodcastIndex(BaseExtension):
    """Channel tags feedgen lacks or writes in an older form: podcast:guid, podcast:locked,
    itunes:explicit as Apple's true/false, and itunes:owner with the e-mail optional."""

    def __init__(self) -> None:
        self._guid = ""
        self._locked = False
        self._owner = ""
        self._owner_email = ""

    def settings(self, guid: str, locked: bool, owner: str, owner_email: str) -> None:
        self._guid, self._locked, self._owner, self._owner_email = guid, locked, owner, owner_email

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        # feedgen 1.0 only writes yes/no/clean; Apple now documents true/false.
        xml_elem(f"{{{ITUNES}}}explicit", channel).text = "false"
        owner = xml_elem(f"{{{ITUNES}}}owner", channel)
        xml_elem(f"{{{ITUNES}}}name", owner).text = self._owner
        if self._owner_email:
            xml_elem(f"{{{ITUNES}}}email", owner).text = self._owner_email
        xml_elem(f"{{{PODCAST}}}guid", channel).text = self._guid
        locked = xml_elem(f"{{{PODCAST}}}locked", channel)
        locked.text = "yes" if self._locked else "no"
        if self._owner_email:
            locked.attrib["owner"] = self._owner_email
        return rss_feed


class _PodcastIndexEntry(BaseEntryExtension):
    """Item tags: podcast:transcript per transcript file and podcast:chapters."""

    def __init__(self) -> None:
        self._transcripts: list[tuple[str, str]] = []
        self._chapters = ""

    def files(self, transcripts: list[tuple[str, str]], chapters: str) -> None:
        self._transcripts, self._chapters = transcripts, chapters

    def extend_rss(self, entry):
        for url, kind in self._transcripts:
            transcript = xml_elem(f"{{{PODCAST}}}transcript", entry)
            transcript.attrib.update({"url": url, "type": kind, "language": "zh-cn", "rel": "captions"})
        if self._chapters:
            chapters = xml_elem(f"{{{PODCAST}}}chapters", entry)
            chapters.attrib.update({"url": self._chapters, "type": "application/json+chapters"})
        return entry
