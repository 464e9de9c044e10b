// The team feed page: follows /api/feed (Server-Sent Events) and puts each message on top.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed in between.
(function () {
  "use strict";
  const list = document.getElementById("feed");
  if (!list) return;
  const status = document.getElementById("feed-status");
  const empty = document.getElementById("feed-empty");
  // EventSource hands a named event only to listeners of that name: the types the page shows
  const TYPES = (list.dataset.types || "").split(" ").filter(Boolean);
  const url = `${list.dataset.stream}?last_event_id=${encodeURIComponent(list.dataset.lastId)}`;
  const source = new EventSource(url);

  function text(data) {
    return data.title || data.message || data.reason || "";
  }

  function show(event) {
    if (list.querySelector(`li[data-id="${CSS.escape(event.lastEventId)}"]`)) return;
    let data = {};
    try { data = JSON.parse(event.data); } catch (_e) { data = {}; }
    const item = document.createElement("li");
    item.dataset.id = event.lastEventId;
    item.className = `feed-${event.type.replace(/\./g, "-")}`;
    const when = document.createElement("time");
    const now = new Date();
    when.dateTime = now.toISOString();
    when.textContent = now.toISOString().slice(0, 19).replace("T", " ");
    const kind = document.createElement("strong");
    kind.textContent = event.type;
    const said = document.createElement("span");
    said.textContent = text(data);
    item.append(when, " ", kind, " ", said);
    if (data.customer_id) {
      const link = document.createElement("a");
      link.href = `/customers/${encodeURIComponent(data.customer_id)}`;
      link.textContent = data.customer_name || `customer ${data.customer_id}`;
      item.append(" ", link);
    }
    list.prepend(item);
    if (empty) empty.hidden = true;
  }

  source.onopen = () => { status.textContent = "live"; };
  source.onerror = () => { status.textContent = "reconnecting…"; };
  source.onmessage = show; // messages without an event type
  for (const type of TYPES) source.addEventListener(type, show);
})();
