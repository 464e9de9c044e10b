"""JSON routes: surveys, invitations, answers, NPS/CSAT/CES reports and themes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["surveys"])
