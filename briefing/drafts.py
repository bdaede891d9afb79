"""Drafts: a day's episode made for review before it airs, and its approval.

A draft is an episode folder like any other (script, segments made, MP3) that also holds DRAFT_FILE:
each story's link, the day's other candidates, and the history of the editor's changes. Nothing
publishes a draft: the feed, page and Alexa skip it, the public server does not serve it, and its
stories are not recorded as told. `publish_draft` builds the episode from the script as edited
(only changed segments are synthesized), drops DRAFT_FILE, records what was told and publishes.
The names start with a dot, so neither file is ever served.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .episode import DRAFT_FILE, Manifest, finished_manifest, read_manifest
from .errors import UsageError
from .files import write_atomically
from .ingest import Article

if TYPE_CHECKING:
    from datasketch import MinHash

    from .build import Episode
    from .choose import Gathered
    from .config import Config
    from .plan import PlannedScript
    from .script import Script
    from .synthesize import ProgressCallback

REVIEWED_FILE = ".reviewed.json"  # in a folder published from a draft: the edits it had, and when it was approved


@dataclass(frozen=True)
class StoryLink:
    """Where a story came from: its page's address, and the signature `told.json` records for it."""

    url: str = ""
    signature: str = ""  # base64 MinHash; empty for stories from page files (they are not recorded as told)


@dataclass(frozen=True)
class Candidate:
    """A story of the day the draft leaves out, with why; the desk can add it."""

    title: str
    source: str
    why: str
    article: dict[str, Any]
    link: StoryLink = StoryLink()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(**{**data, "link": StoryLink(**data["link"])})


@dataclass(frozen=True)
class Edit:
    """One change to a draft, and what the draft was before it (so the last one can be undone)."""

    time: str
    action: str  # one of review.ACTIONS: edit, headline, drop, move, add, reading
    story: int | None
    segment: int | None  # 1-based, in the script before the change
    old: str
    new: str
    before: dict[str, Any] = field(repr=False)  # the script, links and candidates before the change


@dataclass(frozen=True)
class DraftState:
    """DRAFT_FILE: `links` follows the script's stories in order; `version` counts the changes."""

    links: tuple[StoryLink, ...]
    candidates: tuple[Candidate, ...] = ()
    history: tuple[Edit, ...] = ()
    version: int = 1

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> DraftState:
        raw = json.loads(data)
        return cls(
            links=tuple(StoryLink(**link) for link in raw["links"]),
            candidates=tuple(Candidate.from_dict(c) for c in raw["candidates"]),
            history=tuple(Edit(**edit) for edit in raw["history"]),
            version=int(raw["version"]),
        )

    def told(self, script: Script) -> list[tuple[str, str, MinHash]]:
        """What the script as it stands tells, as told.json records it: its stories that came from
        sources, under their headlines."""
        from .dedup import decode_signature

        return [
            (story.title, link.url, decode_signature(link.signature)) for story, link in zip(script.stories, self.links) if link.signature
        ]


def read_draft(folder: Path) -> DraftState | None:
    """The draft state in `folder`, or None when it holds no draft (a damaged one is a UsageError)."""
    try:
        return DraftState.from_bytes((folder / DRAFT_FILE).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{folder / DRAFT_FILE} cannot be read ({exc}); delete the folder and draft the day again") from None


def write_draft(folder: Path, state: DraftState) -> None:
    write_atomically(folder / DRAFT_FILE, state.to_bytes())


def is_draft(folder: Path) -> bool:
    return (folder / DRAFT_FILE).exists()


def new_draft(planned: PlannedScript, gathered: Gathered | None, articles: tuple[Article, ...]) -> bytes:
    """The first DRAFT_FILE of a day: the link of each story `planned` tells, and every other story of
    the day (of `articles`, and what the sources did not choose) as a candidate, with why."""
    from .choose import Status
    from .dedup import encode_signature

    def link(choice: Any) -> StoryLink:
        return StoryLink(choice.url, encode_signature(choice.signature) if choice.signature else "")

    # Articles are known by their paragraphs: planning may shorten a headline.
    choices = {c.item.article.paragraphs: c for c in gathered.choices if c.item is not None} if gathered else {}
    links = tuple(link(choices[a.paragraphs]) if a.paragraphs in choices else StoryLink() for a in planned.articles)
    told = {a.paragraphs for a in planned.articles}
    candidates = []
    for article in articles:
        if article.paragraphs not in told:
            why = next((w.split(":")[0] for w in planned.warnings if f"《{article.title}》" in w), "left out when the script was planned")
            candidates.append(
                Candidate(
                    article.title,
                    article.source,
                    why,
                    article.to_dict(),
                    link(choices[article.paragraphs]) if article.paragraphs in choices else StoryLink(),
                )
            )
    for choice in gathered.choices if gathered else ():
        if choice.item is not None and choice.status not in (Status.NEW, Status.ERROR):
            why = f"{choice.status}: {choice.detail}"
            candidates.append(Candidate(choice.title, choice.source, why, choice.item.article.to_dict(), StoryLink(choice.url)))
    return DraftState(links, tuple(candidates)).to_bytes()


def article_from_dict(data: dict[str, Any]) -> Article:
    return Article(**{**data, "paragraphs": tuple(data["paragraphs"]), "headings": tuple(data.get("headings", ()))})


def reusable_episode(folder: Path, made_from_same_inputs: Manifest | None, draft: bool) -> Manifest | None:
    """What `daily` may keep of the day's folder instead of making the episode: the one made from
    the same inputs, and always one published after review or a draft the editor has changed (the
    editor's work is never replaced). Without `draft` a draft is made again as a published episode;
    with it, an episode already published is not replaced by a draft. Raises UsageError when the run
    would replace either."""
    state = read_draft(folder)
    edits = len(state.history) if state else 0
    if (folder / REVIEWED_FILE).exists() or (edits and draft):
        return finished_manifest(folder)
    if edits:
        raise UsageError(
            f"{folder} is a draft with {edits} edits from the review desk; approve it with "
            f"briefing publish {folder.name}, or delete the folder to draft the day again"
        )
    if draft and state is None and made_from_same_inputs is None and finished_manifest(folder) is not None:
        raise UsageError(f"{folder} is already published; a draft does not replace it (delete the folder to draft the day again)")
    if made_from_same_inputs is not None and state is not None and not draft:
        return None  # the unchanged draft is made again, now to publish
    return made_from_same_inputs


@dataclass(frozen=True)
class PublishedDraft:
    """What approving a draft did: the episode it built (None when the day was already published)."""

    folder: Path
    episode: Episode | None
    feed: Path | None
    warnings: tuple[str, ...] = ()


def publish_draft(
    date: dt.date,
    config: Config,
    out_root: Path | None = None,
    base_url: str = "",
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> PublishedDraft:
    """Approve the day's draft: build the episode from its script as edited (only changed segments
    are synthesized), record its stories as told, and publish the feed, page and Alexa files. A
    failure leaves the draft as it was. Publishing a published day does nothing."""
    from .build import make_episode, read_voices, synthesis_places
    from .choose import record_told
    from .dedup import TOLD_SIDECAR, sidecar_bytes
    from .files import output_lock, remove_stale_staging
    from .plan import load_lexicon
    from .publish import publish
    from .runlog import logged_run
    from .script import read_script

    out_root = out_root or config.paths.output_path
    folder = out_root / date.isoformat()
    with logged_run(out_root, "approve") as run, output_lock(out_root):
        run.date = date.isoformat()
        state = read_draft(folder)
        if state is None:
            if finished_manifest(folder) is None:
                raise UsageError(f"no draft for {date.isoformat()} in {out_root}: make one with briefing daily --draft")
            return PublishedDraft(folder, None, None)
        script = read_script(folder / "script.json", load_lexicon(config))
        told = state.told(script)
        approved = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        sidecars = {REVIEWED_FILE: _reviewed(state, approved)}  # in the folder from the start: it marks the editor's work
        if told:
            sidecars[TOLD_SIDECAR] = sidecar_bytes(told)
        remove_stale_staging(out_root)
        voices = read_voices(config)
        drafted = read_manifest(folder)
        if drafted is None:
            raise UsageError(f"the draft in {folder} has no episode.json; draft the day again with briefing daily --draft")
        with synthesis_places(config, voices, executor) as places:
            episode = make_episode(script, config, out_root, voices, places, progress, drafted.inputs, sidecars)
        write_atomically(folder / REVIEWED_FILE, _reviewed(state, approved, episode))
        run.made(episode)
        warnings = [record_told(out_root, date, told, config.stories.dedup_days)] if told else []
        feed = publish(out_root, config, base_url)
    return PublishedDraft(folder, episode, feed, tuple(w for w in warnings if w))


def _reviewed(state: DraftState, approved: str, episode: Episode | None = None) -> bytes:
    """REVIEWED_FILE: when the draft was approved, its changes, and what approving it made."""
    record: dict[str, Any] = {"approved": approved, "edits": [asdict(e) | {"before": None} for e in state.history]}
    if episode is not None:
        synthesis = episode.synthesis
        record |= {"made": synthesis.synthesized, "reused": synthesis.reused, "duration": episode.duration}
        record["lufs"] = episode.loudness.integrated_lufs
    return json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")
