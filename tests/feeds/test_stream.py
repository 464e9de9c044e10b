"""The live feeds over a real `hxpulse serve`, followed by an SSE client (httpx-sse): a
customer's feed with its token, reconnection with Last-Event-ID, refusals, the team feed."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, connect_sse
from sqlalchemy import Engine

from hxpulse.audit.service import Who
from hxpulse.config import Settings
from hxpulse.db.engine import run_write
from hxpulse.feeds import actions
from hxpulse.feeds import service as feeds
from hxpulse.privacy import erasure
from tests.feeds.conftest import Served
from tests.feeds.helpers import context, customer, delivery, link

pytestmark = pytest.mark.slow  # a real server per test
CASE = {"title": "Your case is resolved", "message": "We refunded the order.",
        "data": {"case_id": 7}}  # fmt: skip
FEED_ONLY = {"preferences": {"notify_by": "feed"}}


class Listener:
    """Follows one stream in a thread; each event lands in `events` with when it arrived."""

    def __init__(self, client: httpx.Client, path: str, **kwargs: Any) -> None:
        self.events: queue.Queue[tuple[float, ServerSentEvent]] = queue.Queue()
        self.status: int | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(client, path, kwargs), daemon=True)
        self._client = client

    def _run(self, client: httpx.Client, path: str, kwargs: dict[str, Any]) -> None:
        try:
            with connect_sse(client, "GET", path, **kwargs) as source:
                self.status = source.response.status_code
                if self.status != 200:
                    self._ready.set()
                    return
                for event in source.iter_sse():
                    if event.retry is not None and not event.data:
                        self._ready.set()  # the stream's opening: it has its position
                        continue
                    self.events.put((time.monotonic(), event))
        except httpx.HTTPError:
            pass  # closed by the test
        finally:
            self._ready.set()

    def start(self) -> Listener:
        self._thread.start()
        assert self._ready.wait(10), "the stream did not open"
        return self

    def next(self, timeout: float = 5.0) -> tuple[float, ServerSentEvent]:
        return self.events.get(timeout=timeout)

    def nothing_more(self, wait: float = 0.6) -> bool:
        try:
            self.events.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@contextmanager
def listening(url: str | httpx.Client, path: str, **kwargs: Any) -> Iterator[Listener]:
    client = url if isinstance(url, httpx.Client) else httpx.Client(
        base_url=url, timeout=httpx.Timeout(10, read=30))  # fmt: skip
    try:
        yield Listener(client, path, **kwargs).start()
    finally:
        client.close()


def _token(served: Served, ref: str) -> dict[str, Any]:
    answer = httpx.post(f"{served.url}/api/customers/{ref}/feed-token",
                        headers={"authorization": f"Bearer {served.backend_key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _notify(engine: Engine, settings: Settings, customer_id: int, n: int = 0) -> float:
    told = delivery("notify", {**CASE, "title": f"message {n}"}, customer_id)
    before = time.monotonic()
    outcome = actions.handle_notify(context(engine, settings), told)
    assert outcome.ok, outcome.response
    return before


def test_a_subscribed_customer_hears_a_notification_at_once(
    served: Served, engine: Engine, settings: Settings
) -> None:
    cid = customer(engine, "ann@example.com", user_id="ann-1", traits=FEED_ONLY)
    issued = _token(served, "ann@example.com")
    assert issued["customer_id"] == cid and issued["url"].endswith(
        f"/api/customers/id:{cid}/feed?token={issued['token']}"
    )
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    with listening(
        served.url, f"/api/customers/id:{cid}/feed", params={"token": issued["token"]}
    ) as feed:
        assert feed.status == 200
        latencies = []
        for n in range(3):
            sent = _notify(engine, settings, cid, n)
            arrived, event = feed.next()
            latencies.append(arrived - sent)
            assert event.event == "notification" and event.json()["title"] == f"message {n}"
            assert event.json()["data"] == {"case_id": 7} and int(event.id) > 0
        assert max(latencies) < 1.0, latencies  # polled every 150 ms: typically 0.1-0.3 s
        other = customer(engine, "bob@example.com", user_id="bob-1", traits=FEED_ONLY)
        _notify(engine, settings, other)
        assert feed.nothing_more(), "another customer's message reached this feed"


def test_reconnecting_with_last_event_id_replays_exactly_the_missed(
    served: Served, engine: Engine, settings: Settings
) -> None:
    cid = customer(engine, "ann@example.com", user_id="ann-2", traits=FEED_ONLY)
    token = _token(served, f"id:{cid}")["token"]
    path, params = f"/api/customers/id:{cid}/feed", {"token": token}
    with listening(served.url, path, params=params) as feed:
        _notify(engine, settings, cid, 1)
        _, first = feed.next()
    for n in (2, 3):  # while away
        _notify(engine, settings, cid, n)
    with listening(served.url, path, params=params, headers={"Last-Event-ID": first.id}) as feed:
        replayed = [feed.next()[1] for _ in range(2)]
        assert [e.json()["title"] for e in replayed] == ["message 2", "message 3"]
        assert feed.nothing_more()
        _notify(engine, settings, cid, 4)
        assert feed.next()[1].json()["title"] == "message 4"
    with listening(served.url, path, params={**params, "last_event_id": replayed[0].id}) as feed:
        assert [feed.next()[1].json()["title"] for _ in range(2)] == ["message 3", "message 4"]


def test_a_token_expiring_ends_the_stream(served: Served, engine: Engine) -> None:
    cid = customer(engine, "ann@example.com", user_id="ann-3")
    short = feeds.token_for(served.secret, cid, now=datetime.now(UTC), ttl=timedelta(seconds=2))
    with listening(
        served.url, f"/api/customers/id:{cid}/feed", params={"token": short.token}
    ) as feed:
        _, event = feed.next(timeout=6)
        assert event.event == "token_expired"


def test_a_bad_token_is_refused(served: Served, engine: Engine) -> None:
    cid = customer(engine, "ann@example.com", user_id="ann-4")
    other = customer(engine, "bob@example.com", user_id="bob-4")
    now = datetime.now(UTC)
    tokens = {"forged": "abc.def", "missing": None,
              "expired": feeds.token_for(served.secret, cid, now=now - timedelta(hours=1)).token,
              "other customer": feeds.token_for(served.secret, other, now=now).token}  # fmt: skip
    statuses = {"forged": 401, "expired": 401, "other customer": 403, "missing": 401}
    for problem, token in tokens.items():
        params = {"token": token} if token else {}
        answer = httpx.get(f"{served.url}/api/customers/id:{cid}/feed", params=params, timeout=5)
        assert answer.status_code == statuses[problem], (problem, answer.text)
        assert answer.json()["message"].startswith("token"), problem
    unknown = feeds.token_for(served.secret, cid, now=now).token
    answer = httpx.get(f"{served.url}/api/customers/nobody@example.com/feed",
                       params={"token": unknown}, timeout=5)  # fmt: skip
    assert answer.status_code == 403  # not 404: a token's holder learns nothing of others


def test_issuing_a_token_needs_the_feed_token_permission(served: Served, engine: Engine) -> None:
    customer(engine, "ann@example.com", user_id="ann-5")
    url = f"{served.url}/api/customers/ann@example.com/feed-token"
    assert httpx.post(url).status_code == 401
    refused = httpx.post(url, headers={"authorization": f"Bearer {served.reader_key}"})
    assert refused.status_code == 403 and "feed:token" in refused.json()["message"]
    unknown = httpx.post(f"{served.url}/api/customers/nobody@example.com/feed-token",
                         headers={"authorization": f"Bearer {served.backend_key}"})  # fmt: skip
    assert unknown.status_code == 404


def test_the_team_feed_for_a_signed_in_person(
    served: Served, engine: Engine, settings: Settings
) -> None:
    ctx = context(engine, settings)

    def opened(n: int, team: str | None = None) -> None:
        made = delivery("feed", {"scope": "team", "team": team, "type": "case.opened",
                                 "data": {"case_id": n, "title": f"case {n}"}})  # fmt: skip
        assert actions.handle_feed(ctx, made).ok

    opened(1)  # before the page opened: not replayed without Last-Event-ID
    with listening(served.signed_in(), "/api/feed") as feed:
        assert feed.status == 200
        opened(2, team="billing")  # a team this person is not in
        opened(3)
        _, event = feed.next()
        assert event.event == "case.opened" and event.json()["case_id"] == 3
        assert feed.nothing_more()
    with listening(served.signed_in(), "/api/feed", params={"last_event_id": 0}) as feed:
        assert [feed.next()[1].json()["case_id"] for _ in range(2)] == [1, 3]
    person = served.signed_in()
    try:
        listed = person.get("/api/feed/messages")
    finally:
        person.close()
    assert [m["data"]["case_id"] for m in listed.json()["items"]] == [3, 1]


def test_the_team_feed_refuses_no_one(served: Served) -> None:
    assert httpx.get(f"{served.url}/api/feed", timeout=5).status_code == 401
    reader = {"authorization": f"Bearer {served.reader_key}"}
    assert httpx.get(f"{served.url}/api/feed/messages", headers=reader).status_code == 200


def test_the_team_feed_names_the_customer_when_it_sends(
    served: Served, engine: Engine, settings: Settings
) -> None:
    ctx = context(engine, settings)
    chloe = customer(engine, "chloe@example.com", user_id="chloe-9",
                     traits={"name": "Chloe Okafor"})  # fmt: skip
    dan = customer(engine, "dan@example.com", user_id="dan-9", traits={"name": "Dan Ruiz"})

    def fired(cid: int) -> None:
        made = delivery("feed", {"scope": "team", "type": "rule.fired",
                                 "data": {"customer_id": cid, "message": "at risk"}})  # fmt: skip
        assert actions.handle_feed(ctx, made).ok

    with listening(served.signed_in(), "/api/feed") as feed:
        fired(chloe)
        fired(dan)
        got = [feed.next()[1].json() for _ in range(2)]
    assert [(d["customer_id"], d["customer_name"]) for d in got] == [
        (chloe, "Chloe Okafor"), (dan, "Dan Ruiz")]  # fmt: skip
    link(engine, ("email", "dan@example.com"), ("user_id", "chloe-9"))  # Dan joins Chloe
    with listening(served.signed_in(), "/api/feed", params={"last_event_id": 0}) as feed:
        got = [feed.next()[1].json() for _ in range(2)]
    assert [(d["customer_id"], d["customer_name"]) for d in got] == [(chloe, "Dan Ruiz")] * 2
    who = Who("system", None, "test", None)
    run_write(engine, lambda conn: erasure.erase(conn, chloe, who=who, now=datetime.now(UTC)))
    with listening(served.signed_in(), "/api/feed", params={"last_event_id": 0}) as feed:
        got = [feed.next()[1].json() for _ in range(2)]
    assert [d["customer_name"] for d in got] == [f"Customer {chloe}"] * 2
    with engine.connect() as conn:  # never stored in the messages
        stored = feeds.since(conn, scope="team", after=0)
    assert [m["data"] for m in stored] == [{"customer_id": chloe, "message": "at risk"},
                                           {"customer_id": dan, "message": "at risk"}]  # fmt: skip
