"""The `briefing` command line: each command parses its options, makes one library call and prints
the result. One error boundary (`_Commands.invoke`) turns every BriefingError into `Error:` lines."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from . import pipeline
from .build import Episode
from .config import CONFIG_FILE, PORT, Config
from .drafts import is_draft
from .errors import BriefingError, UsageError
from .files import describe_write_error
from .ingest import decode_page
from .normalize import Lexicon, to_spoken
from .plan import load_lexicon
from .report import episode_report, progress_bar
from .text import printable

EXIT_FAILURE = 1
EXIT_USAGE = 2  # as Typer exits for a bad option
EXIT_INTERRUPTED = 130


class _Commands(TyperGroup):
    """Every command runs inside this: a BriefingError is one `Error:` line per line of its message
    and exit code 1 (2 for a usage error); Ctrl+C is exit code 130 (finished segments are cached,
    so a rerun resumes)."""

    def invoke(self, ctx: Any) -> Any:  # Any: Typer types it with its vendored click Context
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _error(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        except BriefingError as exc:
            _error(str(exc))
            raise typer.Exit(EXIT_FAILURE) from None
        except OSError as exc:  # a write path that forgot to say what went wrong still gets one line
            _error(describe_write_error(Path(exc.filename or "?"), exc))
            raise typer.Exit(EXIT_FAILURE) from None
        except KeyboardInterrupt:
            _error("interrupted; finished segments are cached, run the same command again to resume")
            raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    cls=_Commands, add_completion=False, no_args_is_help=True, help="Turn a day's Chinese news into a spoken podcast episode."
)

PagesArgument = typer.Argument(..., help="Page text files (UTF-8 or GBK), Markdown articles, or folders of them.", show_default=False)
ConfigOption = typer.Option(None, "--config", help="Config file (default: ./briefing.toml if present).")
EngineOption = typer.Option(None, "--engine", help="TTS engine by name: offline or edge (uses that engine's preset).")
VoiceOption = typer.Option(None, "--voice", help="Voice preset from voices/ for the stories (default from config).")
HostVoiceOption = typer.Option(None, "--host-voice", help="Voice preset for intro, rundown, transitions and outro (two-voice layout).")
BaseUrlOption = typer.Option(
    None, "--base-url", help="Public address of the output folder for the feed's links (default: config, else the feed's own)."
)
StrictOption = typer.Option(False, "--strict", help="Fail instead of falling back to another voice when a segment cannot be made.")
ClusterOption = typer.Option(
    None, "--cluster", help="Synthesize on the workers of this Dask scheduler (tcp://host:8786); needs briefing[cluster]."
)


def _say(text: str, err: bool = False) -> None:
    """Print `text` with its control characters escaped: a headline or a file name must not drive the terminal."""
    typer.echo(printable(text), err=err)


def _error(message: str) -> None:
    for line in message.splitlines() or [""]:
        _say(f"Error: {line}", err=True)


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"invalid date '{value}': expected YYYY-MM-DD") from None


DateOption = typer.Option(
    None, "--date", parser=_parse_date, metavar="YYYY-MM-DD", help="Episode date, YYYY-MM-DD (default: today in the config's time zone)."
)


def _stdin_lines() -> list[str]:
    """Standard input as lines of text: UTF-8 or GBK, like a page; anything else is one clear error."""
    data = sys.stdin.buffer.read()
    return decode_page(data, "standard input").splitlines() if data.strip() else []


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        _say(f"Warning: {warning}", err=True)


def _report_problems(problems: tuple[str, ...]) -> None:
    """Inputs that could not be used: the command did its work with the rest, and exits 1 to say so."""
    if problems:
        _error("\n".join(problems))
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def ingest(
    inputs: list[str] = typer.Argument(
        ..., help="Page files (UTF-8 or GBK), Markdown articles, folders of them, or article page URLs.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the articles as JSON."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Show the articles found in page files, or on a news web page as a `kind = "web"` source reads it.

    Example: briefing ingest examples/newspaper-page.txt --json
    Example: briefing ingest https://news.example.cn/2026/11/30/story.html
    """
    ingested = pipeline.ingest_pages(inputs, require_articles=True, config=Config.load(config_path))
    if as_json:
        _say(json.dumps([a.to_dict() for a in ingested.articles], ensure_ascii=False, indent=2))
    else:
        for n, article in enumerate(ingested.articles, start=1):
            byline = f"  （{article.byline}）" if article.byline else ""
            _say(f"{n}. {article.title}{byline}  [{len(article.paragraphs)} paragraphs, {len(article.body)} characters]")
    _report_problems(ingested.problems)


@app.command()
def normalize(
    text: str | None = typer.Argument(None, help="Text to normalize; without it, standard input line by line."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Print the spoken form of a text, as the voice will say it.

    Example: briefing normalize "2019—2020年，增长22.6%，热线12345"
    """
    lexicon = load_lexicon(Config.load(config_path))
    for line in [text] if text is not None else _stdin_lines():
        _say(to_spoken(line, lexicon))


@app.command()
def pinyin(
    text: str | None = typer.Argument(None, help="Text to read; without it, standard input line by line."),
    raw: bool = typer.Option(
        False, "--raw", help="The dictionary reading of each Han character as written: no normalization, lexicon or tone sandhi."
    ),
    config_path: Path | None = ConfigOption,
) -> None:
    """Print the syllables the offline voice says, TONE3 with 5 for the neutral tone (zhong1 guo2).

    Example: briefing pinyin "银行行长说，还要重新调整利率"
    """
    lexicon = None if raw else load_lexicon(Config.load(config_path))
    for line in [text] if text is not None else _stdin_lines():
        _say(" ".join(_pronounce(line, lexicon, raw)))


def _pronounce(text: str, lexicon: Lexicon | None, raw: bool = False) -> list[str]:
    """The offline voice's syllables for `text`: normalized, lexicon and tone sandhi applied; with
    `raw`, the dictionary reading in context of each Han character of `text` as it is."""
    from .pinyin import dictionary_readings, spoken_syllables

    if raw:
        return dictionary_readings(text, rare=True)
    return spoken_syllables(to_spoken(text, lexicon))


@app.command()
def script(
    pages: list[Path] | None = typer.Argument(
        None, help="Page files or folders; without them, the [[sources]] in briefing.toml.", show_default=False
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for script.json and script.md (default: output/<date>/)."),
    date: dt.date | None = DateOption,
    config_path: Path | None = ConfigOption,
) -> None:
    """Write the reviewable spoken script (script.json, script.md) for page files, or for what the
    configured sources offer today (nothing is marked as told until `daily` tells it).

    Example: briefing script examples/newspaper-page.txt --out /tmp/review
    """
    written = pipeline.write_review_script(pages or [], Config.load(config_path), date, out)
    _say(str(written.path))
    _warn(written.warnings)
    _report_problems(written.problems)


@app.command()
def daily(
    pages: list[Path] | None = typer.Argument(
        None, help="Page files or folders; without them, the [[sources]] in briefing.toml.", show_default=False
    ),
    out: Path | None = typer.Option(None, "--out", help="Output root; the episode goes to OUT/<date>/ (default: output)."),
    date: dt.date | None = DateOption,
    engine: str | None = EngineOption,
    voice: str | None = VoiceOption,
    host_voice: str | None = HostVoiceOption,
    strict: bool = StrictOption,
    cluster: str | None = ClusterOption,
    base_url: str | None = BaseUrlOption,
    play_on: str | None = typer.Option(None, "--play", help="Then play the episode on this speaker (see briefing play)."),
    draft: bool | None = typer.Option(
        None,
        "--draft/--no-draft",
        help="Make a draft to review (briefing serve's /review/ desk) and approve with briefing publish; nothing is published "
        "(default: the config's draft).",
        show_default=False,
    ),
    config_path: Path | None = ConfigOption,
) -> None:
    """Make today's episode from page files, or from the configured sources: script, audio, MP3 with
    chapters and transcripts; then the feed (a draft waits for `briefing publish`).

    Example: briefing daily examples/newspaper-page.txt --date 2026-11-26
    """
    config = _on_cluster(pipeline.with_voice_choices(Config.load(config_path), engine, voice, host_voice, strict), cluster)
    draft = config.review.draft if draft is None else draft
    with progress_bar() as progress:
        result = pipeline.daily(pages or [], config, date, out, base_url or "", progress, draft=draft)
    _warn(result.warnings)
    if result.episode is not None:
        _report_episode(result.episode)
    else:
        segments = result.reused.segments if result.reused else 0
        _say(f"{result.mp3}\n  up to date: nothing changed since it was made (0 segments synthesized, {segments} reused)")
    if draft and is_draft(result.mp3.parent):
        day = result.mp3.parent.name
        _say(f"  draft, not published: review it at /review/{day}/ (briefing serve), or approve it with briefing publish {day}")
        if play_on:
            _say(f"  not played on {play_on}: a draft is heard on the review desk until it is approved", err=True)
        play_on = None
    if play_on:
        _play(out or config.paths.output_path, result.mp3.parent.name, play_on, config, base_url or "")
    _report_problems(result.problems)


@app.command()
def publish(
    date: dt.date = typer.Argument(..., parser=_parse_date, metavar="YYYY-MM-DD", help="The draft's date.", show_default=False),
    out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
    base_url: str | None = BaseUrlOption,
    config_path: Path | None = ConfigOption,
) -> None:
    """Approve a draft: make its episode from the script as edited (only changed segments are
    synthesized), then publish it in the feed, page and Alexa files and record its stories as told.

    Example: briefing publish 2026-11-26
    """
    config = Config.load(config_path)
    with progress_bar() as progress:
        published = pipeline.publish_draft(date, config, out, base_url or "", progress)
    if published.episode is None:
        _say(f"{published.folder} is already published; nothing to do")
        return
    _report_episode(published.episode)
    _say(f"  published: {published.feed}")
    _warn(published.warnings)


@app.command()
def sources(
    date: dt.date | None = DateOption,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {source, title, url, published, status, detail}."),
    out: Path | None = typer.Option(None, "--out", help="Output root whose told.sqlite says what earlier episodes told (default: output)."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Show what today's episode would take from the configured sources, without making it.

    Each item is new, duplicate (of another item), told (by an earlier episode), old (an earlier day), future (a later day) or error.

    Example: briefing sources --date 2026-11-26
    """
    config = Config.load(config_path)
    if not config.sources:
        raise UsageError(f"no [[sources]] in {config_path or CONFIG_FILE}; see the README's Sources section")
    from .choose import Status

    gathered = pipeline.gather(config, date or pipeline.today(config), out)
    choices = gathered.choices
    _warn(gathered.warnings)
    if as_json:
        _say(json.dumps([c.to_dict() for c in choices], ensure_ascii=False, indent=2))
    else:
        for c in choices:
            detail = f"  ({c.detail})" if c.detail else ""
            _say(f"{c.status:<9} {c.source:<12} {c.title or '-'}  {c.url}{detail}")
    if any(c.status == Status.ERROR for c in choices):
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def episode(
    script_file: Path = typer.Argument(..., help="A script.json, possibly edited.", show_default=False),
    out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
    engine: str | None = EngineOption,
    voice: str | None = VoiceOption,
    host_voice: str | None = HostVoiceOption,
    strict: bool = StrictOption,
    cluster: str | None = ClusterOption,
    config_path: Path | None = ConfigOption,
) -> None:
    """Make the episode from a reviewed script.json; only edited segments are synthesized again.

    Example: briefing episode output/2026-11-26/script.json
    """
    config = _on_cluster(pipeline.with_voice_choices(Config.load(config_path), engine, voice, host_voice, strict), cluster)
    with progress_bar() as progress:
        made = pipeline.episode_from_script(script_file, config, out, progress)
    _report_episode(made)


@app.command()
def batch(
    configs: list[Path] = typer.Argument(
        ..., help="One briefing.toml per programme (its sources, voice and output folder).", show_default=False
    ),
    date: dt.date | None = DateOption,
    cluster: str | None = ClusterOption,
) -> None:
    """Make several programmes' episodes in one run, sharing the segment cache and the synthesis workers.

    Example: briefing batch east.toml west.toml sports.toml --cluster tcp://10.0.0.5:8786
    """
    with progress_bar() as progress:
        result = pipeline.batch(configs, date, cluster or "", progress)
    for path, made, error in result.programmes:
        if made is None:
            _error(f"{path}: {error}")
        elif made.episode is None:
            _say(f"{path}: {made.mp3} is up to date")
        else:
            synthesis = made.episode.synthesis
            _say(
                f"{path}: {made.mp3}, {made.episode.stories} stories, {synthesis.synthesized} segments synthesized, {synthesis.reused} reused"
            )
        _warn(made.warnings if made else ())
    _say(f"all programmes: {result.synthesized} segments synthesized, {result.reused} reused from the shared cache")
    if any(made is None or made.problems for _, made, _ in result.programmes):
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def feed(
    out: Path | None = typer.Option(None, "--out", help="Output root holding the episode folders (default: output)."),
    base_url: str | None = BaseUrlOption,
    config_path: Path | None = ConfigOption,
) -> None:
    """Rebuild feed.xml and the listening page (index.html) from the episodes on disk.

    Example: briefing feed --base-url https://news.example.com/briefing
    """
    from .publish import publish
    from .runlog import logged_run

    config = Config.load(config_path)
    out_root = out or config.paths.output_path
    with logged_run(out_root, "publish"):
        _say(str(publish(out_root, config, base_url or "")))


@app.command()
def serve(
    out: Path | None = typer.Option(None, "--out", help="Output root to serve (default: output)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 for phones and speakers on the LAN."),
    port: int = typer.Option(PORT, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    base_url: str | None = BaseUrlOption,
    log: bool = typer.Option(False, "--log", help="Print one line per request (client, path, status, range, user agent) to stderr."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Serve the episodes, feed and listening page over HTTP (Range requests, for podcast apps and speakers).

    Example: briefing serve --host 0.0.0.0
    """
    from .serve import serve_and_publish

    config = Config.load(config_path)
    out_root = out or config.paths.output_path

    def announce(url: str, actual_port: int, desk_url: str) -> None:
        _say(f"Serving {out_root} on http://{host}:{actual_port}/ (Ctrl+C to stop)")
        _say(f"  page: {url}/\n  feed: {url}/feed.xml   <- subscribe to this in a podcast app")
        _say(f"  review desk: {desk_url}")
        sys.stdout.flush()

    try:
        serve_and_publish(out_root, config, host, port, base_url or "", announce, (lambda line: _say(line, err=True)) if log else None)
    except KeyboardInterrupt:
        _say("Stopped.", err=True)


@app.command()
def speakers(
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to listen for devices."),
    save: str | None = typer.Option(None, "--save", help="Save an alias in briefing.toml: ALIAS=TARGET."),
    config_path: Path | None = ConfigOption,
) -> None:
    """List the UPnP/DLNA renderers and Cast devices on the network, and the saved aliases.

    Example: briefing speakers --save kitchen=upnp:uuid:5b2f…
    """
    from .speakers import discover, save_speaker_alias

    if save:
        alias, _, target = save.partition("=")
        path = config_path or Path(CONFIG_FILE)
        save_speaker_alias(path, alias.strip(), target.strip())
        _say(f"Saved {alias.strip()} = {target.strip()} in {path}")
        return
    config = Config.load(config_path)
    for alias, target in config.speakers.items():
        _say(f"alias  {alias:<20} {target}")
    found = discover(timeout)
    for speaker in found:
        _say(f"{speaker.kind:<6} {speaker.name:<20} {speaker.address:<40} --to {speaker.target}")
    if not found:
        _say(f"No UPnP or Cast device answered within {timeout:.0f}s.", err=True)


@app.command()
def play(
    episode_name: str = typer.Argument("latest", help="'latest' or an episode date (YYYY-MM-DD)."),
    to: str = typer.Option(..., "--to", help="Speaker: an alias, a device name, or upnp:/cast:/ha:/xiaomi: target."),
    out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Address the speaker fetches from (default: the feed's)."),
    timeout: float = typer.Option(20.0, "--timeout", help="Seconds to wait for the speaker to start playing."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Play an episode on a speaker; `briefing serve --host 0.0.0.0` must be running for it to fetch from.

    Example: briefing play latest --to kitchen
    """
    config = Config.load(config_path)
    _play(out or config.paths.output_path, episode_name, to, config, base_url or "", timeout)


def _report_episode(made: Episode) -> None:
    report, fallbacks = episode_report(made)
    _say(report)
    if fallbacks:
        _say(f"Warning: {fallbacks}", err=True)


def _on_cluster(config: Config, cluster: str | None) -> Config:
    return config.with_synthesis(cluster=cluster) if cluster else config


def _play(out_root: Path, which: str, target: str, config: Config, base_url: str, timeout: float | None = None) -> None:
    from .speakers import PLAY_TIMEOUT, play_episode

    played = play_episode(out_root, which, target, config, base_url, timeout or PLAY_TIMEOUT)
    _say(
        f"{played.playback.speaker} ({played.kind}) is {played.playback.state.lower()}: {played.media.title} "
        f"({played.media.url}), at {played.playback.position:.0f}s"
    )


# The operator's commands live beside this module; importing it registers them on `app`.
from . import cli_admin  # noqa: E402, F401


def main() -> None:
    app()
