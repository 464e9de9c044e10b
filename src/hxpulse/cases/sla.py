"""SLA clocks, computed in this one place for the API, the pages, the CLI and the breach job.

A case has two metrics: first response (creation → the first public reply) and resolution
(creation → resolved). Each has a due time: its target (per priority, or the channel's own) in
business seconds of the team's calendar after creation. While the case waits on the customer
the running clocks pause; leaving `waiting` adds the paused business time to their due times.
A metric is *met* when fulfilled by its due time, *missed* (breached) otherwise; a breach is
stamped with the due time itself, whenever the job or a late fulfilment notices it. Resolving
freezes both; re-opening restarts the resolution clock from the moment of re-opening.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from hxpulse.cases import calendar
from hxpulse.cases.calendar import Calendar
from hxpulse.cases.models import ACTIVE
from hxpulse.config import CaseSettings

METRICS = ("first_response", "resolution")


def targets(settings: CaseSettings, priority: str, channel: str | None) -> tuple[float, float]:
    """(first response, resolution) targets in business seconds for a priority and channel."""
    base = settings.targets[priority]
    first, resolution = base.first_response_minutes, base.resolution_minutes
    own = settings.channels.get(channel or "")
    if own is not None:
        first = own.first_response_minutes or first
        resolution = own.resolution_minutes or resolution
    return first * 60.0, resolution * 60.0


def due_times(
    cal: Calendar, settings: CaseSettings, *, priority: str, channel: str | None, start: datetime
) -> tuple[datetime, datetime]:
    """When the first response and the resolution of a case opened at `start` are due."""
    first, resolution = targets(settings, priority, channel)
    return calendar.add(cal, start, first), calendar.add(cal, start, resolution)


def next_due(case: dict[str, Any]) -> datetime | None:
    """The earliest due time still running (None once resolved or closed)."""
    if case["status"] not in (*ACTIVE, "waiting"):
        return None
    dues = [case["resolution_due"]]
    if case["first_responded_at"] is None:
        dues.append(case["first_response_due"])
    earliest: datetime = min(dues)
    return earliest


def overdue(case: dict[str, Any], now: datetime) -> dict[str, datetime]:
    """The metrics whose due time has passed by `now` unfulfilled and unmarked, with the
    breach moment (= the due time). Paused clocks do not breach."""
    if case["status"] not in ACTIVE:
        return {}
    found: dict[str, datetime] = {}
    if (case["first_responded_at"] is None and case["first_response_breached_at"] is None
            and case["first_response_due"] <= now):  # fmt: skip
        found["first_response"] = case["first_response_due"]
    if case["resolution_breached_at"] is None and case["resolution_due"] <= now:
        found["resolution"] = case["resolution_due"]
    return found


def resume(cal: Calendar, case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The changes when a case stops waiting: the paused business time is added to the due
    times of the metrics still running (a breached one stays as it was)."""
    since = case["waiting_since"]
    paused = calendar.between(cal, since, now) if since is not None else 0.0
    changes: dict[str, Any] = {"waiting_since": None,
                               "paused_seconds": case["paused_seconds"] + paused}  # fmt: skip
    if case["first_responded_at"] is None:
        changes["response_paused_seconds"] = case["response_paused_seconds"] + paused
        if case["first_response_breached_at"] is None:
            changes["first_response_due"] = calendar.add(cal, case["first_response_due"], paused)
    if case["resolution_breached_at"] is None:
        changes["resolution_due"] = calendar.add(cal, case["resolution_due"], paused)
    return changes


def state(case: dict[str, Any], metric: str, now: datetime) -> str:
    """`met`, `missed`, `paused`, `running` or `overdue` (passed, not yet marked)."""
    done = case["first_responded_at"] if metric == "first_response" else (
        case["resolved_at"] if case["status"] in ("resolved", "closed") else None)  # fmt: skip
    breached = case[f"{metric}_breached_at"]
    if breached is not None:
        return "missed"
    if done is not None or case["status"] == "closed":
        return "met" if done is not None and done <= case[f"{metric}_due"] else "missed"
    if case["status"] == "waiting":
        return "paused"
    return "overdue" if case[f"{metric}_due"] <= now else "running"


def seconds_left(case: dict[str, Any], now: datetime) -> float | None:
    """Seconds until the next due time (negative: overdue); None when paused or done."""
    due: datetime | None = case.get("next_due_at")
    if due is None or case["status"] == "waiting":
        return None
    return (due - now).total_seconds()


def business_times(cal: Calendar, case: dict[str, Any]) -> dict[str, float | None]:
    """Business seconds to the first response and to the resolution, less the paused time."""
    start = case["created_at"]
    first = case["first_responded_at"]
    resolved = case["resolved_at"] if case["status"] in ("resolved", "closed") else None
    return {
        "first_response": None if first is None
        else max(calendar.between(cal, start, first) - case["response_paused_seconds"], 0.0),
        "resolution": None if resolved is None
        else max(calendar.between(cal, start, resolved) - case["paused_seconds"], 0.0),
    }  # fmt: skip


def report(
    cases: Iterable[dict[str, Any]],
    calendar_of: Callable[[int | None], Calendar],
    now: datetime,
    *,
    by_owner: bool = False,
) -> list[dict[str, Any]]:
    """Per team, priority, channel and metric (and owner, if `by_owner`): how many cases are
    decided (met or missed), the share met, and the median business time to fulfil it."""
    groups: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for case in cases:
        times = business_times(calendar_of(case["team_id"]), case)
        for metric in METRICS:
            verdict = state(case, metric, now)
            if verdict not in ("met", "missed", "overdue"):
                continue
            owner = (case.get("owner") or "") if by_owner else ""
            key = (case.get("team") or "", owner, case["priority"], case["channel"] or "", metric)
            group = groups.setdefault(key, {"count": 0, "met": 0, "times": []})
            group["count"] += 1
            group["met"] += verdict == "met"
            if times[metric] is not None:
                group["times"].append(times[metric])
    out = []
    for (team, owner, priority, channel, metric), g in sorted(groups.items()):
        median = statistics.median(g["times"]) if g["times"] else None
        out.append({"team": team or None, "owner": owner or None, "priority": priority,
                    "channel": channel or None,
                    "metric": metric, "count": g["count"], "met": g["met"],
                    "share_met": g["met"] / g["count"], "median_seconds": median})  # fmt: skip
    return out
