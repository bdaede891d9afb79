"""briefing: turn a day's Chinese news into a spoken podcast episode."""

__version__ = "0.1.0"
