"""`python -m hxpulse` runs the command line."""

from hxpulse.cli.main import main

main()
