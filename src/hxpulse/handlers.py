"""What delivers each kind of outbox action, and the periodic jobs the dispatcher runs.

The one place, above the domains, where an action's kind meets the domain that carries it out
(like `app.py` for routers and `ingest.py` for the ingest steps). Each handler receives a
`outbox.dispatch.Delivery` (ids and the payload, never ORM objects) and opens its own
transactions; each job runs on its interval with the dispatcher's clock.
"""

from __future__ import annotations

from hxpulse.feeds import actions as feed_actions
from hxpulse.outbox.dispatch import Handler, Job

# kind -> handler(context, delivery) -> outcome; filled in by each domain's line below
HANDLERS: dict[str, Handler] = {}
# the people-facing channels: live feeds (SSE) and email (feeds/actions.py)
HANDLERS.update(feed=feed_actions.handle_feed, notify=feed_actions.handle_notify,
                email=feed_actions.handle_email)  # fmt: skip

# (name, seconds between runs, job(context) -> None)
JOBS: tuple[tuple[str, float, Job], ...] = ()
