"""The `briefing` command line: parses arguments, calls the pipeline, prints errors as one line."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import typer

from . import pipeline
from .config import CONFIG_FILE, Config, save_speaker_alias
from .engines import engine_class
from .errors import BriefingError
from .normalize import to_spoken
from .script import Script, read_script, write_script
from .voices import list_presets, preset_for_engine

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Turn a day's Chinese news into a spoken podcast episode.")
T = TypeVar("T")
PLAY_TIMEOUT = 20.0  # seconds a speaker gets to start playing

PagesArgument = typer.Argument(..., help="Page text files (UTF-8 or GBK), Markdown articles, or folders of them.", show_default=False)
ConfigOption = typer.Option(None, "--config", help="Config file (default: ./briefing.toml if present).")
EngineOption = typer.Option(None, "--engine", help="TTS engine by name: offline or edge (uses that engine's preset).")
VoiceOption = typer.Option(None, "--voice", help="Voice preset from voices/ for the stories (default from config).")
HostVoiceOption = typer.Option(None, "--host-voice", help="Voice preset for intro, rundown, transitions and outro (two-voice layout).")
BaseUrlOption = typer.Option(None, "--base-url", help="Public address of the output folder for the feed's links (default: config, else the feed's own).")
StrictOption = typer.Option(False, "--strict", help="Fail instead of falling back to another voice when a segment cannot be made.")


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)


def _run(action: Callable[[], T]) -> T:
    """Turn a BriefingError into one `Error:` line and exit code 1."""
    try:
        return action()
    except BriefingError as exc:
        _fail(str(exc))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _fail("interrupted; finished segments are cached, run the same command again to resume")
        raise typer.Exit(130) from None


def _config(path: Path | None) -> Config:
    return _run(lambda: Config.load(path))


def _date(value: str | None, config: Config) -> dt.date:
    if not value:
        return pipeline.today(config)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"invalid date '{value}': expected YYYY-MM-DD")
        raise typer.Exit(2) from None


def _ingest_or_exit(pages: list[Path]) -> pipeline.Ingested:
    ingested = pipeline.ingest_pages(pages)
    for problem in ingested.problems:
        _fail(problem)
    if not ingested.articles:
        raise typer.Exit(1)
    return ingested


@app.command()
def ingest(pages: list[Path] = PagesArgument, as_json: bool = typer.Option(False, "--json", help="Print the articles as JSON.")) -> None:
    """Show the articles found in page files.

    Example: briefing ingest examples/newspaper-page.txt --json
    """
    ingested = _ingest_or_exit(pages)
    if as_json:
        typer.echo(json.dumps([a.to_dict() for a in ingested.articles], ensure_ascii=False, indent=2))
    else:
        for n, article in enumerate(ingested.articles, start=1):
            byline = f"  （{article.byline}）" if article.byline else ""
            typer.echo(f"{n}. {article.title}{byline}  [{len(article.paragraphs)} paragraphs, {len(article.body)} characters]")
    if ingested.problems:
        raise typer.Exit(1)


@app.command()
def normalize(text: str | None = typer.Argument(None, help="Text to normalize; without it, standard input line by line."),
              config_path: Path | None = ConfigOption) -> None:
    """Print the spoken form of a text, as the voice will say it.

    Example: briefing normalize "2019—2020年，增长22.6%，热线12345"
    """
    config = _config(config_path)
    lexicon = _run(lambda: pipeline.load_lexicon(config))
    lines = [text] if text is not None else sys.stdin.read().splitlines()
    for line in lines:
        typer.echo(to_spoken(line, lexicon))


@app.command()
def pinyin(text: str | None = typer.Argument(None, help="Text to read; without it, standard input line by line."),
           raw: bool = typer.Option(False, "--raw", help="The dictionary reading of each Han character as written: no normalization, lexicon or tone sandhi."),
           config_path: Path | None = ConfigOption) -> None:
    """Print the syllables the offline voice says, TONE3 with 5 for the neutral tone (zhong1 guo2).

    Example: briefing pinyin "银行行长说，还要重新调整利率"
    """
    config = _config(config_path)
    lexicon = None if raw else _run(lambda: pipeline.load_lexicon(config))
    lines = [text] if text is not None else sys.stdin.read().splitlines()
    for line in lines:
        typer.echo(" ".join(pipeline.pronounce(line, lexicon, raw)))


@app.command()
def script(pages: list[Path] = PagesArgument,
           out: Path | None = typer.Option(None, "--out", help="Folder for script.json and script.md (default: output/<date>/)."),
           date: str | None = typer.Option(None, "--date", help="Episode date, YYYY-MM-DD (default: today)."),
           config_path: Path | None = ConfigOption) -> None:
    """Write the reviewable spoken script (script.json, script.md) for page files.

    Example: briefing script examples/newspaper-page.txt --out /tmp/review
    """
    config = _config(config_path)
    day = _date(date, config)
    ingested = _ingest_or_exit(pages)
    made = _run(lambda: pipeline.make_script(ingested.articles, config, day))
    path = _run(lambda: write_script(made, out or Path(config.output_dir) / day.isoformat()))
    typer.echo(str(path))
    if ingested.problems:
        raise typer.Exit(1)


@app.command()
def daily(pages: list[Path] = PagesArgument,
          out: Path | None = typer.Option(None, "--out", help="Output root; the episode goes to OUT/<date>/ (default: output)."),
          date: str | None = typer.Option(None, "--date", help="Episode date, YYYY-MM-DD (default: today)."),
          engine: str | None = EngineOption,
          voice: str | None = VoiceOption,
          host_voice: str | None = HostVoiceOption,
          strict: bool = StrictOption,
          base_url: str | None = BaseUrlOption,
          play_on: str | None = typer.Option(None, "--play", help="Then play the episode on this speaker (see briefing play)."),
          config_path: Path | None = ConfigOption) -> None:
    """Make today's episode from page files: script, audio, MP3 with chapters and transcripts; then the feed.

    Example: briefing daily examples/newspaper-page.txt --date 2026-11-26
    """
    config = _voice_config(_config(config_path), engine, voice, host_voice, strict)
    day = _date(date, config)
    ingested = _ingest_or_exit(pages)
    out_root = out or Path(config.output_dir)
    fingerprint = _run(lambda: pipeline.inputs_fingerprint(ingested.articles, config, day))
    finished = pipeline.finished_episode(out_root, day, fingerprint)
    if finished is not None:
        typer.echo(f"{out_root / day.isoformat() / 'episode.mp3'}\n  up to date: nothing changed since it was made "
                   f"(0 segments synthesized, {finished.get('segments', 0)} reused)")
    else:
        made = _run(lambda: pipeline.make_script(ingested.articles, config, day))
        _build(made, config, out_root, fingerprint)
    _write_feed(out_root, config, base_url)
    if play_on:
        _play(out_root, day.isoformat(), play_on, config, base_url, PLAY_TIMEOUT)
    if ingested.problems:
        raise typer.Exit(1)


@app.command()
def episode(script_file: Path = typer.Argument(..., help="A script.json, possibly edited.", show_default=False),
            out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
            engine: str | None = EngineOption,
            voice: str | None = VoiceOption,
            host_voice: str | None = HostVoiceOption,
            strict: bool = StrictOption,
            config_path: Path | None = ConfigOption) -> None:
    """Make the episode from a reviewed script.json; only edited segments are synthesized again.

    Example: briefing episode output/2026-11-26/script.json
    """
    config = _voice_config(_config(config_path), engine, voice, host_voice, strict)
    lexicon = _run(lambda: pipeline.load_lexicon(config))
    made = _run(lambda: read_script(script_file, lexicon))
    out_root = out or Path(config.output_dir)
    _build(made, config, out_root)
    _write_feed(out_root, config, None)


@app.command()
def feed(out: Path | None = typer.Option(None, "--out", help="Output root holding the episode folders (default: output)."),
         base_url: str | None = BaseUrlOption,
         config_path: Path | None = ConfigOption) -> None:
    """Rebuild feed.xml and the listening page (index.html) from the episodes on disk.

    Example: briefing feed --base-url https://news.example.com/briefing
    """
    config = _config(config_path)
    path = _write_feed(out or Path(config.output_dir), config, base_url)
    typer.echo(str(path))


@app.command()
def serve(out: Path | None = typer.Option(None, "--out", help="Output root to serve (default: output)."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 for phones and speakers on the LAN."),
          port: int = typer.Option(8000, "--port", help="Port to listen on (0: any free port)."),
          base_url: str | None = BaseUrlOption,
          log: bool = typer.Option(False, "--log", help="Print one line per request (client, path, status, range, user agent) to stderr."),
          config_path: Path | None = ConfigOption) -> None:
    """Serve the episodes, feed and listening page over HTTP (Range requests, for podcast apps and speakers).

    Example: briefing serve --host 0.0.0.0
    """
    from . import serve as server

    config = _config(config_path)
    out_root = out or Path(config.output_dir)
    if not out_root.is_dir():
        _fail(f"{out_root}: no such folder; make an episode first with briefing daily")
        raise typer.Exit(1)

    def ready(actual_port: int) -> None:
        url = base_url or config.base_url or _run(lambda: server.public_base_url(host, actual_port))
        _write_feed(out_root, config, url)
        typer.echo(f"Serving {out_root} on http://{host}:{actual_port}/ (Ctrl+C to stop)")
        typer.echo(f"  page: {url.rstrip('/')}/\n  feed: {url.rstrip('/')}/feed.xml   <- subscribe to this in a podcast app")
        sys.stdout.flush()

    def serve_until_interrupted() -> None:
        try:
            server.run(out_root, host, port, ready, (lambda line: typer.echo(line, err=True)) if log else None)
        except KeyboardInterrupt:
            typer.echo("Stopped.", err=True)

    _run(serve_until_interrupted)


@app.command()
def speakers(timeout: float = typer.Option(5.0, "--timeout", help="Seconds to listen for devices."),
             save: str | None = typer.Option(None, "--save", help="Save an alias in briefing.toml: ALIAS=TARGET."),
             config_path: Path | None = ConfigOption) -> None:
    """List the UPnP/DLNA renderers and Cast devices on the network, and the saved aliases.

    Example: briefing speakers --save kitchen=upnp:uuid:5b2f…
    """
    from .speakers import discover

    if save:
        alias, _, target = save.partition("=")
        path = config_path or Path(CONFIG_FILE)
        _run(lambda: save_speaker_alias(path, alias.strip(), target.strip()))
        typer.echo(f"Saved {alias.strip()} = {target.strip()} in {path}")
        return
    config = _config(config_path)
    for alias, target in config.speakers.items():
        typer.echo(f"alias  {alias:<20} {target}")
    found = discover(timeout)
    for speaker in found:
        typer.echo(f"{speaker.kind:<6} {speaker.name:<20} {speaker.address:<40} --to {speaker.target}")
    if not found:
        typer.echo(f"No UPnP or Cast device answered within {timeout:.0f}s.", err=True)


@app.command()
def play(episode_name: str = typer.Argument("latest", help="'latest' or an episode date (YYYY-MM-DD)."),
         to: str = typer.Option(..., "--to", help="Speaker: an alias, a device name, or upnp:/cast:/ha:/xiaomi: target."),
         out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
         base_url: str | None = typer.Option(None, "--base-url", help="Address the speaker fetches from (default: the feed's)."),
         timeout: float = typer.Option(PLAY_TIMEOUT, "--timeout", help="Seconds to wait for the speaker to start playing."),
         config_path: Path | None = ConfigOption) -> None:
    """Play an episode on a speaker; `briefing serve --host 0.0.0.0` must be running for it to fetch from.

    Example: briefing play latest --to kitchen
    """
    config = _config(config_path)
    _play(out or Path(config.output_dir), episode_name, to, config, base_url, timeout)


def _play(out_root: Path, which: str, target: str, config: Config, base_url: str | None, timeout: float) -> None:
    from .speakers import check_reachable, episode_media, player_for

    media = _run(lambda: episode_media(out_root, which, config, base_url or ""))
    _run(lambda: check_reachable(media))
    player = _run(lambda: player_for(target, config))
    playback = _run(lambda: player.play(media, timeout))
    typer.echo(f"{playback.speaker} ({player.kind}) is {playback.state.lower()}: {media.title} ({media.url}), at {playback.position:.0f}s")


def _write_feed(out_root: Path, config: Config, base_url: str | None) -> Path:
    from .feed import feed_base_url, write_feed

    return _run(lambda: write_feed(out_root, config, feed_base_url(out_root, config, base_url or "")))


def _voice_config(config: Config, engine: str | None, voice: str | None, host_voice: str | None, strict: bool) -> Config:
    """The config with the command line's voice choices applied."""
    if engine and not voice:
        default_voice = _run(lambda: engine_class(engine, must_be_available=False)).default_voice
        voice = _run(lambda: preset_for_engine(engine, config.voices_path, default_voice)).name
        host_voice = host_voice or voice
    changes: dict[str, object] = {"strict": strict or config.strict}
    if voice:
        changes["voice"] = voice
    if host_voice:
        changes["host_voice"] = host_voice
    return replace(config, **changes)


def _build(made: Script, config: Config, out_root: Path, fingerprint: str = "") -> None:
    with _progress_bar(len(made.segments)) as progress:
        result = _run(lambda: pipeline.make_episode(made, config, out_root, progress, fingerprint))
    synthesis = result.synthesis
    typer.echo(
        f"{result.mp3}\n"
        f"  {len(made.stories)} stories, {result.duration / 60:.1f} min, {result.master.after.integrated_lufs:.1f} LUFS, "
        f"true peak {result.master.after.true_peak_dbtp:.1f} dBTP; "
        f"{synthesis.synthesized} segments synthesized, {synthesis.reused} reused from the cache\n"
        f"  voices: {', '.join(f'{name} {count}' for name, count in synthesis.segments_per_voice.items())} segments"
    )
    if synthesis.fallbacks:
        reasons = "; ".join(dict.fromkeys(f.reason for f in synthesis.fallbacks))
        moved = ", ".join(f"{f.segment + 1} ({f.voice} -> {f.fallback})" for f in synthesis.fallbacks)
        typer.echo(f"Warning: {len(synthesis.fallbacks)} segments used a fallback voice: {moved}. Why: {reasons[:500]}", err=True)


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int, int, float], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (TextColumn("synthesizing"), BarColumn(), MofNCompleteColumn(), TextColumn("segments"),
               TextColumn("{task.fields[audio]:.0f}s audio"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("synthesize", total=total, audio=0.0)

        def update(done: int, all_segments: int, audio_seconds: float) -> None:
            bar.update(task, completed=done, total=all_segments, audio=audio_seconds)

        yield update


@app.command()
def voices(online: bool = typer.Option(False, "--online", help="List the online service's Chinese voices instead (needs internet)."),
           config_path: Path | None = ConfigOption) -> None:
    """List the voice presets in voices/ (* marks the default), or the online service's Chinese voices.

    Example: briefing voices --online
    """
    config = _config(config_path)
    if online:
        from .engines.edge import chinese_voices

        for voice in _run(chinese_voices):
            typer.echo(f"{voice['ShortName']:<32} {voice['Gender']:<7} {voice['Locale']:<7} {voice['FriendlyName']}")
        return
    for preset in _run(lambda: list_presets(config.voices_path)):
        marker = "*" if preset.name == config.voice else " "
        fallback = f" (fallback: {preset.fallback})" if preset.fallback else ""
        typer.echo(f"{marker} {preset.name:<10} engine={preset.engine:<8} voice={preset.voice:<22} {preset.description}{fallback}")


def main() -> None:
    app()

