"""briefing: turn a day's Chinese news into a spoken podcast episode.

from briefing import Config, daily

result = daily([Path("page.txt")], Config.load())
print(result.mp3, result.episode.duration if result.episode else "up to date")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BriefingError", "Config", "DailyResult", "daily", "episode_from_script"]

if TYPE_CHECKING:
    from .config import Config
    from .errors import BriefingError
    from .pipeline import DailyResult, daily, episode_from_script

# Loaded on first use, so a synthesis worker that imports one stage does not load them all.
_PUBLIC = {
    "BriefingError": "errors",
    "Config": "config",
    "DailyResult": "pipeline",
    "daily": "pipeline",
    "episode_from_script": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'briefing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
