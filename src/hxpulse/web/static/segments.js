// The segment builder: shows the inputs each condition needs, adds rows, and keeps a live count
// by posting the definition (built exactly as segments/forms.py builds it) to /api/segments/count.
(function () {
  "use strict";
  const form = document.getElementById("segment-form");
  if (!form) return;
  const box = document.getElementById("conditions");
  const shown = document.getElementById("live-count");
  const problem = document.getElementById("count-error");
  const FIELD_OPS = {
    stage: ["eq", "ne", "in", "lt", "lte", "gt", "gte"], band: ["eq", "ne", "in"],
    pulse: ["lt", "lte", "gt", "gte"], open_negatives: ["eq", "ne", "in", "lt", "lte", "gt", "gte"],
    detractor: ["eq", "ne"], lapsed: ["eq", "ne"], at_risk: ["eq", "ne"],
    created_at: ["lt", "lte", "gt", "gte"], last_return_at: ["lt", "lte", "gt", "gte", "exists"],
    name: ["eq", "ne", "in", "contains", "exists"],
    clv: ["lt", "lte", "gt", "gte", "exists"], p_alive: ["lt", "lte", "gt", "gte", "exists"],
    trait: ["eq", "ne", "in", "lt", "lte", "gt", "gte", "contains", "exists"],
    identity: ["exists", "eq", "ends_with"],
  };
  const KIND = { pulse: "number", clv: "number", p_alive: "number", open_negatives: "integer", detractor: "bool", lapsed: "bool",
    at_risk: "bool", created_at: "moment", last_return_at: "moment" };
  const TRUE = ["true", "yes", "1", "on", "y"], FALSE = ["false", "no", "0", "off", "n"];
  let timer = null, serial = 0;

  const part = (row, name) => row.querySelector(`[data-part="${name}"]`);
  const group = (subject) => (subject in FIELD_OPS && !["trait", "identity"].includes(subject)
    ? "field" : subject);

  function bool(text) {
    const low = text.toLowerCase();
    return TRUE.includes(low) ? true : FALSE.includes(low) ? false : text;
  }
  function number(text) {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? n : text;
  }
  function loose(text) {
    try { return JSON.parse(text); } catch (_) { return text; }
  }
  function moment(text) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:d|days?)?\s*(?:ago)?\s*$/i.exec(text);
    return m ? { days_ago: Number(m[1]) } : text;
  }
  function value(subject, op, text) {
    if (op === "exists") return text ? bool(text) : true;
    if (op === "in") return text.split(",").map((t) => t.trim()).filter(Boolean)
      .map((t) => value(subject, "eq", t));
    if (subject === "trait") return loose(text);
    const kind = KIND[subject];
    if (kind === "number" || kind === "integer") return number(text);
    if (kind === "bool") return bool(text);
    if (kind === "moment") return moment(text);
    return text;
  }
  const int = (text) => (text.trim() === "" ? null : number(text));

  function condition(row) {
    const subject = part(row, "subject").value;
    let op = part(row, "op").value || "eq";
    const text = part(row, "value").value.trim();
    const key = part(row, "key").value.trim();
    let c;
    if (subject === "trait") c = { trait: key, op: op, value: value(subject, op, text) };
    else if (subject === "consent") c = { consent: key, status: text || "granted" };
    else if (subject === "identity") {
      if (!["exists", "eq", "ends_with"].includes(op)) op = "exists";
      c = { identity: key || "email", op: op, value: op === "exists" ? value(subject, op, text) : text };
    } else if (subject === "event") {
      const types = key.split(",").map((t) => t.trim()).filter(Boolean);
      const e = { type: types.length > 1 ? types : (types[0] || null),
        channel: part(row, "channel").value || null, within_days: int(part(row, "days").value),
        min_count: int(part(row, "min").value), max_count: int(part(row, "max").value) };
      if (e.min_count === null) e.min_count = e.max_count === 0 ? 0 : 1;
      c = { event: Object.fromEntries(Object.entries(e).filter(([, v]) => v !== null)) };
    } else {
      c = { field: subject, op: op, value: value(subject, op, text) };
      if (op === "exists" && !text) delete c.value;
    }
    return row.querySelector('input[type="checkbox"]').checked ? { not: c } : c;
  }

  function definition() {
    const rows = [...box.querySelectorAll("[data-row]")].filter((r) => part(r, "subject").value);
    if (!rows.length) return null;
    return { [form.elements.match.value]: rows.map(condition) };
  }

  function shape(row) {
    const subject = part(row, "subject").value;
    const kind = group(subject);
    row.querySelectorAll("[data-for]").forEach((cell) => {
      cell.hidden = !subject || !cell.dataset.for.split(" ").includes(kind);
    });
    const ops = FIELD_OPS[subject];
    const select = part(row, "op");
    [...select.options].forEach((o) => { o.hidden = !!ops && !ops.includes(o.value); });
    if (ops && !ops.includes(select.value)) select.value = ops[0];
  }

  async function recount() {
    const mine = ++serial;
    const draft = definition();
    problem.textContent = "";
    if (!draft) { shown.textContent = "—"; return; }
    shown.textContent = "…";
    try {
      const answer = await fetch("/api/segments/count", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": form.dataset.csrf },
        body: JSON.stringify({ definition: draft }),
      });
      const body = await answer.json();
      if (mine !== serial) return;
      if (answer.ok) { shown.textContent = body.count.toLocaleString("en"); return; }
      shown.textContent = "—";
      const first = (body.errors || [])[0];
      problem.textContent = first ? `${first.field}: ${first.message}` : body.message;
    } catch (err) {
      if (mine === serial) { shown.textContent = "—"; problem.textContent = String(err); }
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(recount, 300);
  }

  const MAX_ROWS = 30; // as many as segments/forms.py reads

  function addRow() {
    const rows = box.querySelectorAll("[data-row]");
    if (rows.length >= MAX_ROWS) return;
    const copy = rows[rows.length - 1].cloneNode(true);
    const n = rows.length;
    copy.querySelector("legend").textContent = `Condition ${n + 1}`;
    copy.querySelectorAll("[name]").forEach((el) => {
      el.name = el.name.replace(/^c\d+\./, `c${n}.`);
      if (el.type === "checkbox") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else el.value = "";
    });
    box.appendChild(copy);
    shape(copy);
    add.hidden = n + 1 >= MAX_ROWS;
  }

  box.querySelectorAll("[data-row]").forEach(shape);
  form.addEventListener("change", (ev) => {
    const row = ev.target.closest("[data-row]");
    if (row && ev.target.dataset.part === "subject") shape(row);
    later();
  });
  form.addEventListener("input", later);
  const add = document.getElementById("add-condition");
  add.hidden = false;
  add.addEventListener("click", addRow);
  recount();
})();
