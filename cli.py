"""Thin entry point: `python cli.py ...` runs the same app as the `briefing` console script."""

from briefing.cli import main

if __name__ == "__main__":
    main()
