"""HTML pages: Surveys, NPS, and the public survey page `/s/{token}`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
