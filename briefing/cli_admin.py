"""The operator's commands of the `briefing` command line: status, caches and voices."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .cli import EXIT_FAILURE, ConfigOption, _say, app
from .config import CONFIG_FILE, Config
from .voices import list_presets


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    out: Path | None = typer.Option(None, "--out", help="Output root (default: output)."),
    config_path: Path | None = ConfigOption,
) -> None:
    """What an operator reads after a bad morning: the last run, each source, disk and caches, voices.

    Exits 1 when the last run failed or a source has failed on 3 runs in a row.

    Example: briefing status --json
    """
    from .status import read_status, status_lines

    config = Config.load(config_path)
    config_name = str(config_path or CONFIG_FILE) if (config_path or Path(CONFIG_FILE)).exists() else "defaults (no briefing.toml)"
    found = read_status(config, config_name, out or config.paths.output_path)
    for line in [json.dumps(found.to_dict(), ensure_ascii=False, indent=2)] if as_json else status_lines(found):
        _say(line)
    if not found.healthy:
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def cache(
    prune: bool = typer.Option(False, "--prune", help="Trim the segment cache to cache_max_mb now (least recently used first)."),
    config_path: Path | None = ConfigOption,
) -> None:
    """Show what each cache holds: entries, size, and when the least recently used one was last used.

    Example: briefing cache --prune
    """
    from .retention import prune_segments
    from .status import cache_lines, cache_uses

    config = Config.load(config_path)
    if prune:
        removed, freed = prune_segments(config.paths.cache_path / "segments", config.retention.cache_max_mb * 1_000_000)
        _say(f"removed {removed} segments, {freed / 1_000_000:.1f} MB")
    for line in cache_lines(cache_uses(config)):
        _say(line)


@app.command()
def voices(
    online: bool = typer.Option(False, "--online", help="List the online service's Chinese voices instead (needs internet)."),
    config_path: Path | None = ConfigOption,
) -> None:
    """List the voice presets in voices/ (* marks the default), or the online service's Chinese voices.

    Example: briefing voices --online
    """
    config = Config.load(config_path)
    if online:
        from .engines.edge import chinese_voices

        for voice in chinese_voices():
            _say(f"{voice['ShortName']:<32} {voice['Gender']:<7} {voice['Locale']:<7} {voice['FriendlyName']}")
        return
    for preset in list_presets(config.paths.voices_path):
        marker = "*" if preset.name == config.synthesis.voice else " "
        fallback = f" (fallback: {preset.fallback})" if preset.fallback else ""
        _say(f"{marker} {preset.name:<10} engine={preset.engine:<8} voice={preset.engine_voice:<22} {preset.description}{fallback}")
