"""The home dashboard: the figures a CX lead reads first, each a click from its page."""
