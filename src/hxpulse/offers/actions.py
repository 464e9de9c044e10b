"""The rule action "send next best offer" (`offer.send`): picked at delivery, sent onwards.

When the action is delivered (not when the rule fired), the customer's best eligible offer is
picked (`serving.recommend`, n = 1, recorded as shown) with the trigger's event type as the
context, and an outbox row passes it on: `notify` (their live feed, and email by their
preference and consent) or `webhook` (type `offer.sent`). All in one transaction keyed by the
delivery: a redelivery finds the onward row and picks nothing twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from hxpulse.db.engine import run_write
from hxpulse.errors import HXError
from hxpulse.offers.serving import recommend
from hxpulse.outbox import service as outbox
from hxpulse.outbox.dispatch import Context, Delivery, Outcome
from hxpulse.outbox.models import OutboxRow
from hxpulse.rules.evaluate import short


def send_offer(context: Context, delivery: Delivery) -> Outcome:
    """Pick the customer's next best offer now and pass it on (module doc)."""
    if delivery.customer_id is None:
        return Outcome(ok=False, response="no customer to send an offer to", final=True)
    customer_id = delivery.customer_id
    p = delivery.payload
    onward = short(f"{delivery.key}:sent")

    def work(conn: Connection) -> str:
        done = conn.execute(select(OutboxRow.__table__.c.key)
                            .where(OutboxRow.__table__.c.key == onward)).first()  # fmt: skip
        if done is not None:
            return "already sent"
        ctx = p.get("context")
        got = recommend(conn, context.settings, customer_id, now=context.now, n=1,
                        context=ctx if isinstance(ctx, str) else None)  # fmt: skip
        if not got["offers"]:
            return "no eligible offer"
        offer = got["offers"][0]
        data: dict[str, Any] = {"offer": offer["key"], "name": offer["name"],
                                "kind": offer["kind"], "exposure_id": offer["exposure_id"],
                                "arm": got["arm"], "reason": offer["reason"],
                                "rule": (p.get("data") or {}).get("rule")}  # fmt: skip
        if p.get("via") == "webhook":
            action = outbox.Action("webhook", onward, {"endpoint": p.get("webhook"),
                                                       "type": "offer.sent", "data": data},
                                   customer_id=customer_id, cause=delivery.key)  # fmt: skip
        else:
            message = offer["description"] or offer["name"]
            action = outbox.Action("notify", onward, {"title": p.get("title") or offer["name"],
                                                      "message": message, "data": data},
                                   customer_id=customer_id, cause=delivery.key)  # fmt: skip
        outbox.enqueue(conn, [action], now=context.now)
        return f"offer {offer['key']} (exposure {offer['exposure_id']}, {got['arm']} arm)"

    try:
        said = run_write(context.engine, work)
    except HXError as exc:  # the customer is gone: retrying cannot help
        return Outcome(ok=False, status=exc.status_code, response=str(exc), final=True)
    return Outcome(ok=True, response=said)
