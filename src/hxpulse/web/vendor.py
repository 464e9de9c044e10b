"""Plotly's JavaScript, served from the plotly package (never a CDN), and what it needs to run
under the pages' Content-Security-Policy without `'unsafe-inline'` styles.

Plotly creates one empty `<style>` element and fills it through the CSSOM (which CSP allows):
the policy allows exactly an empty inline style by its hash (`EMPTY_STYLE`). Its bundled map
library also injects its own stylesheet at load unless an element with that stylesheet's id is
already on the page; the pages draw no maps, so they carry such an element (`style_guard_id`)
and that stylesheet is never injected.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

PLOTLY_JS = Path(str(files("plotly") / "package_data"))
EMPTY_STYLE = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # SHA-256 of ""
_GUARDED = re.compile(
    rb'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@lru_cache(maxsize=1)
def style_guard_id() -> str | None:
    """The id whose presence stops plotly.min.js from injecting its map stylesheet, if any."""
    found = _GUARDED.search((PLOTLY_JS / "plotly.min.js").read_bytes())
    return found.group(1).decode() if found else None
