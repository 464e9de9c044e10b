"""What delivers each kind of outbox action, and the periodic jobs the dispatcher runs.

The one place, above the domains, where an action's kind meets the domain that carries it out
(like `app.py` for routers and `ingest.py` for the ingest steps). Each handler receives a
`outbox.dispatch.Delivery` (ids and the payload, never ORM objects) and opens its own
transactions; each job runs on its interval with the dispatcher's clock.
"""

from __future__ import annotations

from hxpulse.outbox.dispatch import Handler, Job
from hxpulse.webhooks import sender as webhooks

# kind -> handler(context, delivery) -> outcome; filled in by each domain's line below
HANDLERS: dict[str, Handler] = {
    "webhook": webhooks.deliver,  # signed POSTs (Standard Webhooks)
}

# (name, seconds between runs, job(context) -> None)
JOBS: tuple[tuple[str, float, Job], ...] = ()
