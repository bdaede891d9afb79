"""`python -m briefing ...` runs the same app as the `briefing` command."""

from .cli import main

main()
