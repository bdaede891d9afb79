"""Pipeline: the use cases a command line or a library caller runs, each one call that returns
what it did: `daily`, `gather` (what the sources offer), `episode_from_script`,
`write_review_script`, `publish_draft` and `batch` (in `batch`). What an episode says is planned in `plan`; the episode folder
is made in `build`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .batch import BatchResult as BatchResult
from .batch import batch as batch
from .build import Episode, finished_episode, inputs_fingerprint, load_mastering, make_episode, read_voices, synthesis_places
from .build import with_voice_choices as with_voice_choices  # for library callers too
from .choose import record_told
from .config import Config
from .dedup import TOLD_SIDECAR, sidecar_bytes
from .drafts import DRAFT_FILE, new_draft, reusable_episode
from .drafts import publish_draft as publish_draft
from .episode import AUDIO_FILE, Manifest
from .errors import InputError, UsageError
from .fetch import Fetcher
from .files import output_lock, remove_stale_staging
from .ingest import Ingested, read_inputs
from .plan import load_lexicon, plan_script
from .publish import publish
from .retention import old_episode_folders, remove_folders
from .runlog import Run, SourceOutcome, logged_run
from .script import read_script, write_script

if TYPE_CHECKING:
    from .choose import Gathered
    from .synthesize import ProgressCallback


@dataclass(frozen=True)
class DailyResult:
    """What `daily` did: the episode it made (None when the one on disk was already made from the
    same inputs), the feed it rewrote, and the inputs it could not use."""

    mp3: Path
    episode: Episode | None
    reused: Manifest | None
    feed: Path
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # what the script left out, and why


@dataclass(frozen=True)
class ReviewScript:
    path: Path
    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def today(config: Config) -> dt.date:
    return dt.datetime.now(ZoneInfo(config.wording.timezone)).date()


def ingest_pages(inputs: Sequence[Path | str], require_articles: bool = False, config: Config | None = None) -> Ingested:
    """Read every page file, folder and article page URL (fetched as a `kind = "web"` source is,
    through `config`'s HTTP cache); a bad one is reported and the rest are still used. With
    `require_articles`, no article at all is an InputError listing every problem."""
    from .sources import is_url, read_article_pages

    urls = [str(i) for i in inputs if is_url(str(i))]
    ingested = read_inputs([Path(i) for i in inputs if not is_url(str(i))])
    if urls:
        with _fetcher(config or Config()) as fetcher:
            articles, problems = read_article_pages(urls, fetcher)
        ingested = Ingested(ingested.articles + articles, ingested.problems + problems)
    if require_articles and not ingested.articles:
        raise InputError("\n".join(ingested.problems) or "no article in the inputs")
    return ingested


def _fetcher(config: Config) -> Fetcher:
    return Fetcher(config.paths.cache_path / "http", max_cache_bytes=config.retention.http_cache_max_mb * 1_000_000)


def daily(
    pages: list[Path],
    config: Config,
    date: dt.date | None = None,
    out_root: Path | None = None,
    base_url: str = "",
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
    draft: bool | None = None,
) -> DailyResult:
    """Make the day's episode unless the one on disk was made from the same inputs, then rewrite the
    feed and the page. The stories come from `pages`, or without pages from the configured sources,
    told once across sources and days. Inputs that cannot be read are reported in the result, and
    the run in the output folder's run log. A `draft` (default: the config's `draft`) is made but
    not published, for `publish_draft` or the review desk to approve (see `drafts`)."""
    out_root = out_root or config.paths.output_path
    draft = config.review.draft if draft is None else draft
    with logged_run(out_root, "draft" if draft else "daily") as run:
        return _daily(pages, config, date or today(config), out_root, base_url, progress, executor, run, draft)


def _daily(
    pages: list[Path],
    config: Config,
    day: dt.date,
    out_root: Path,
    base_url: str,
    progress: ProgressCallback | None,
    executor: Executor | None,
    run: Run,
    draft: bool = False,
) -> DailyResult:
    run.date = day.isoformat()
    with output_lock(out_root):  # from the start: gathering brings the history of told stories up to date
        with run.stage("gather"):
            ingested, gathered = _day_articles(pages, config, day, out_root, for_run=True)
            if gathered is not None:
                run.sources = [SourceOutcome(*outcome) for outcome in gathered.outcomes([s.name for s in config.sources])]
        voices = read_voices(config)
        fingerprint = inputs_fingerprint(ingested.articles, config, voices, day)
        remove_stale_staging(out_root)
        reused = reusable_episode(out_root / day.isoformat(), finished_episode(out_root, day, fingerprint), draft)
        episode: Episode | None = None
        warnings = gathered.warnings if gathered else ()
        if reused is None:
            load_mastering()
            with synthesis_places(config, voices, executor) as places:
                with run.stage("plan"):
                    planned = plan_script(ingested.articles, config, day)
                told = gathered.told(planned.articles) if gathered else []
                with run.stage("build"):
                    sidecars = {TOLD_SIDECAR: sidecar_bytes(told)} if gathered else {}
                    if draft:
                        sidecars = {DRAFT_FILE: new_draft(planned, gathered, ingested.articles)}
                    episode = make_episode(planned.script, config, out_root, voices, places, progress, fingerprint, sidecars)
            warnings += planned.warnings
            if gathered is not None and not draft:
                warnings += tuple(w for w in [record_told(out_root, day, told, config.stories.dedup_days)] if w)
        remove_folders(old_episode_folders(out_root, config.retention.keep_days, day))  # never this run's own
        with run.stage("publish"):
            feed = publish(out_root, config, base_url)  # a draft is not in it
    result = DailyResult(out_root / day.isoformat() / AUDIO_FILE, episode, reused, feed, ingested.problems, warnings)
    _log_result(run, result)
    return result


def _log_result(run: Run, result: DailyResult) -> None:
    run.up_to_date, run.warnings, run.problems = result.episode is None, list(result.warnings), list(result.problems)
    if result.episode is not None:
        run.made(result.episode)
    elif result.reused is not None:
        run.stories, run.seconds_of_audio = len(result.reused.stories), result.reused.duration


def _day_articles(pages: list[Path], config: Config, day: dt.date, out_root: Path, for_run: bool) -> tuple[Ingested, Gathered | None]:
    """The day's articles: from `pages` when given, else the new stories of the configured sources."""
    if pages:
        return ingest_pages(pages, require_articles=True, config=config), None
    if not config.sources:
        raise UsageError("no pages given and no [[sources]] in briefing.toml: pass page files, or configure sources (see the README)")
    gathered = gather(config, day, out_root, for_run)
    if not gathered.articles:
        from .choose import Status

        counts = [f"{n} {status}" for status in Status if (n := sum(c.status == status for c in gathered.choices))]
        summary = f"no new story in the sources for {day.isoformat()} ({', '.join(counts)}); see briefing sources"
        raise InputError("\n".join([*gathered.warnings, *gathered.problems, summary]))
    return Ingested(gathered.articles, gathered.problems), gathered


def gather(config: Config, date: dt.date, out_root: Path | None = None, for_run: bool = False) -> Gathered:
    """Read every configured source and choose the day's stories (see `choose`); only the HTTP cache
    is written. `daily` (`for_run`) tells the new ones, and brings the history of what was told up to date first."""
    import sqlite3

    from .choose import Gathered, choose
    from .dedup import TOLD_FILE, ToldStories
    from .sources import read_sources

    out_root = out_root or config.paths.output_path
    with _fetcher(config) as fetcher:
        results = read_sources(config.sources, fetcher)
    told, warnings = None, list[str]()
    try:
        if for_run:
            told, warnings = ToldStories.for_run(out_root, date - dt.timedelta(days=config.stories.dedup_days))
        elif (out_root / TOLD_FILE).exists():
            told = ToldStories(out_root / TOLD_FILE, read_only=True)
    except sqlite3.Error as exc:
        warnings.append(f"{out_root / TOLD_FILE} cannot be read ({exc}); stories told earlier may be told again")
    try:
        choices = choose(results, date, ZoneInfo(config.wording.timezone), told, config.stories.dedup_days)
    finally:
        if told:
            told.close()
    return Gathered(tuple(choices), tuple(warnings))


def episode_from_script(
    script_file: Path,
    config: Config,
    out_root: Path | None = None,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> Episode:
    """Make the episode from a reviewed script.json (only edited segments are synthesized again), then the feed."""
    out_root = out_root or config.paths.output_path
    script = read_script(script_file, load_lexicon(config))
    voices = read_voices(config)
    with output_lock(out_root):
        remove_stale_staging(out_root)
        with synthesis_places(config, voices, executor) as places:
            episode = make_episode(script, config, out_root, voices, places, progress)
        publish(out_root, config)
    return episode


def write_review_script(
    pages: list[Path], config: Config, date: dt.date | None = None, folder: Path | None = None, out_root: Path | None = None
) -> ReviewScript:
    """script.json and script.md for page files, or without them for what the sources offer today (as
    `daily` would take it, nothing marked as told), to review and edit before `episode_from_script`."""
    day = date or today(config)
    out_root = out_root or config.paths.output_path
    ingested, gathered = _day_articles(pages, config, day, out_root, for_run=False)
    planned = plan_script(ingested.articles, config, day)
    path = write_script(planned.script, folder or out_root / day.isoformat())
    return ReviewScript(path, ingested.problems, (gathered.warnings if gathered else ()) + planned.warnings)
