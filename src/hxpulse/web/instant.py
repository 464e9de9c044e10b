"""A moment in a response model, written as the API has always written moments.

FastAPI writes a returned `datetime` with `isoformat()` (`2026-01-01T12:00:00+00:00`), while a
Pydantic model writes UTC as `Z`. Response models declare moments as `Instant`, so that naming
a model does not change a single byte clients already parse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

Instant = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
