"""The `hxpulse` command line."""
