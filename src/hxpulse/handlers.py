"""What delivers each kind of outbox action, and the periodic jobs the dispatcher runs.

The one place, above the domains, where an action's kind meets the domain that carries it out
(like `app.py` for routers and `ingest.py` for the ingest steps). Each handler receives a
`outbox.dispatch.Delivery` (ids and the payload, never ORM objects) and opens its own
transactions; each job runs on its interval with the dispatcher's clock.
"""

from __future__ import annotations

from hxpulse.cases import jobs as cases
from hxpulse.feeds import actions as feed_actions
from hxpulse.offers import actions as offer_actions
from hxpulse.outbox.dispatch import Handler, Job
from hxpulse.rules import actions as rule_actions
from hxpulse.rules import decay as rule_decay
from hxpulse.webhooks import sender as webhooks

# kind -> handler(context, delivery) -> outcome; filled in by each domain's line below
HANDLERS: dict[str, Handler] = {
    "survey.invite": rule_actions.invite_survey,  # a rule's invitation (fatigue-guarded)
    "investment": rule_actions.record_investment,  # a rule's outreach, counted in the pulse
    "case.open": cases.open_case,  # cases: open a case, once per outbox key
    "webhook": webhooks.deliver,  # signed POSTs (Standard Webhooks)
    # the people-facing channels: live feeds (SSE) and email (feeds/actions.py)
    "feed": feed_actions.handle_feed,
    "notify": feed_actions.handle_notify,
    "email": feed_actions.handle_email,
    "offer.send": offer_actions.send_offer,  # offers: the next best offer, picked at delivery
}

# (name, seconds between runs, job(context) -> None)
JOBS: tuple[tuple[str, float, Job], ...] = (
    ("rules.decay", rule_decay.INTERVAL, rule_decay.job),  # pulses that decayed below a rule's
    ("cases.breaches", 5.0, cases.breaches),  # cases: SLA breaches at their due times
)
