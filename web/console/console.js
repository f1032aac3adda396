// Upfront console: one page, no framework, no build step. Every view reads
// the same HTTP API a script would (docs/api.md) with the signed-in key; what
// the key's role may not call is not offered (GET /v1/whoami lists it).
import { sparkline, lineChart, barChart, forestPlot } from "./charts.js";
import { h, clear, fmtTime, fmtNum, fmtPct, fmtDuration, toast } from "./dom.js";

const KEY_STORAGE = "upfront.key";
const state = { key: sessionStorage.getItem(KEY_STORAGE) || "", who: null, timers: [], keyHandler: null };

// --- the API ---------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body, { text = false } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${state.key}` } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = typeof body === "string" ? "text/plain" : "application/json";
  }
  const res = await fetch(path, init);
  const raw = await res.text();
  if (!res.ok) {
    let message = raw;
    try { message = JSON.parse(raw).error?.message ?? raw; } catch { /* not JSON */ }
    if (res.status === 401 && path !== "/v1/whoami") signOut("Your key is no longer valid; sign in again.");
    throw new ApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
  }
  return text ? raw : (raw ? JSON.parse(raw) : null);
}

// May the signed-in role call this route ("POST /v1/review/{review_id}/approve")?
function may(route) { return state.who?.routes.includes(route) ?? false; }

// --- pages -----------------------------------------------------------------

const PAGES = [
  { id: "review", title: "Review queue", route: "GET /v1/review", render: renderReview },
  { id: "customer", title: "Customers", route: "GET /v1/customers/{id}/timeline", render: renderCustomer },
  { id: "live", title: "Live operations", route: "GET /v1/stats", render: renderLive },
  { id: "scorecard", title: "Scorecard", route: "GET /v1/scorecard", render: renderScorecard },
  { id: "policies", title: "Policies", route: "GET /v1/policies", render: renderPolicies },
];

function every(ms, fn) {
  const id = setInterval(fn, ms);
  state.timers.push(id);
}

function leavePage() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
  if (state.keyHandler) document.removeEventListener("keydown", state.keyHandler);
  state.keyHandler = null;
}

function onKeys(handler) {
  state.keyHandler = handler;
  document.addEventListener("keydown", handler);
}

async function route() {
  leavePage();
  const main = document.getElementById("main");
  if (!state.who) return renderSignIn(main);
  const [, pageId = "", ...rest] = location.hash.split("/");
  const allowed = PAGES.filter((p) => may(p.route));
  const page = allowed.find((p) => p.id === pageId) ?? allowed[0];
  renderNav(allowed, page);
  clear(main);
  if (!page) {
    main.append(h("p", {}, `The ${state.who.role} role has no console pages; it may only send events.`));
    return;
  }
  try {
    await page.render(main, rest.map(decodeURIComponent));
  } catch (err) {
    main.append(h("p", { class: "error" }, err.message));
  }
}

function renderNav(pages, current) {
  const nav = document.getElementById("nav");
  clear(nav);
  for (const p of pages) {
    nav.append(h("a", { href: `#/${p.id}`, class: p === current ? "active" : "", "data-page": p.id }, p.title));
  }
  const who = document.getElementById("who");
  clear(who);
  who.append(h("span", { "data-testid": "whoami" }, `${state.who.name} · ${state.who.role}`),
             h("button", { onclick: () => signOut() }, "Sign out"));
}

// --- sign-in -----------------------------------------------------------------

function renderSignIn(main) {
  clear(main);
  clear(document.getElementById("nav"));
  clear(document.getElementById("who"));
  const input = h("input", { type: "password", id: "key", autocomplete: "off", placeholder: "upk_…", "aria-label": "API key" });
  const error = h("p", { class: "error", id: "signin-error" });
  const form = h("form", { class: "panel signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Paste an API key (", h("code", {}, "upfront keys create --role agent"),
      "). It stays in this tab only."),
    input, error,
    h("button", { class: "primary", type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    state.key = input.value.trim();
    try {
      state.who = await api("GET", "/v1/whoami");
      sessionStorage.setItem(KEY_STORAGE, state.key);
      if (!location.hash || location.hash === "#/") location.hash = "#/";
      route();
    } catch (err) {
      state.key = "";
      error.textContent = err.status === 401 ? "That key is not valid (unknown or revoked)." : err.message;
    }
  });
  main.append(form);
  input.focus();
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = "";
  state.who = null;
  route();
  if (message) toast(message, true);
}

// --- review queue ------------------------------------------------------------

const ROW_HEIGHT = 60;
const REVIEW_REASONS = {
  sensitive: "the intervention is sensitive: a person always decides",
  low_confidence: "the engine is not confident enough to act alone",
};

async function renderReview(main) {
  const canAnswer = may("POST /v1/review/{review_id}/approve");
  let items = [];
  let selected = 0;
  let known = new Set();
  const count = h("span", { class: "badge info", "data-testid": "queue-count" }, "…");
  const list = h("div", { class: "queue panel", role: "listbox", tabindex: "0", "aria-label": "Pending review items",
                          "data-testid": "queue" });
  const rows = h("div", { class: "spacer-rows" });
  list.append(rows);
  const detail = h("section", { class: "panel detail", "aria-live": "polite", "data-testid": "review-detail" });
  main.append(
    h("div", { class: "toolbar" }, h("h1", {}, "Review queue"), count, h("span", { class: "spacer" }),
      h("span", { class: "keys" }, h("kbd", {}, "j"), "/", h("kbd", {}, "k"), " move · ",
        ...(canAnswer ? [h("kbd", {}, "e"), " edit · ", h("kbd", {}, "a"), " approve · ", h("kbd", {}, "r"), " reject · "] : []),
        h("kbd", {}, "Esc"), " back to the list")),
    h("div", { class: "grid two" }, list, detail));

  function renderRows() {
    rows.style.height = `${items.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_HEIGHT) - 5);
    const last = Math.min(items.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW_HEIGHT) + 5);
    clear(rows);
    for (let i = first; i < last; i++) {
      const item = items[i];
      const row = h("div", {
        class: `row${i === selected ? " selected" : ""}${item._fresh ? " fresh" : ""}`,
        role: "option", "aria-selected": String(i === selected), "data-review-id": item.review_id,
        onclick: () => select(i, true),
      },
        h("div", { class: "line1" }, h("strong", {}, item.customer),
          h("span", { class: "muted" }, `${item.intervention} · ${fmtNum(item.confidence, 2)}`)),
        h("div", { class: "line2" }, item.message || "(no message)"));
      row.style.top = `${i * ROW_HEIGHT}px`;
      rows.append(row);
    }
  }

  function select(i, fromClick = false) {
    if (items.length === 0) { selected = 0; renderRows(); renderDetail(); return; }
    selected = Math.max(0, Math.min(items.length - 1, i));
    const top = selected * ROW_HEIGHT;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_HEIGHT > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
    renderRows();
    renderDetail();
    if (fromClick) list.focus();
  }

  // The list holds summaries. The detail is drawn at once from the summary
  // (so the editor and buttons are there for the next key press), and the
  // evidence fills in when the full item arrives; a late answer for an item
  // no longer selected is dropped.
  const full = new Map();
  let detailToken = 0;
  function renderDetail() {
    const token = ++detailToken;
    clear(detail);
    const row = items[selected];
    if (!row) {
      detail.append(h("p", { class: "muted" }, "Nothing waiting for review. New items appear here as they arrive."));
      return;
    }
    const editor = h("textarea", { id: "edit-message", "aria-label": "Message to send", "data-testid": "edit-message" });
    editor.value = row.message ?? "";
    const reason = h("input", { id: "reject-reason", placeholder: "Why not? (required to reject)", "aria-label": "Reason to reject",
                                "data-testid": "reject-reason" });
    const why = h("dd", {}, "…");
    const more = h("div", { "data-testid": "review-evidence" }, h("p", { class: "muted" }, "Loading the evidence…"));
    detail.append(
      h("h2", {}, `${row.intervention} for `, h("a", { href: `#/customer/${encodeURIComponent(row.customer)}` }, row.customer)),
      h("dl", {},
        h("dt", {}, "Suggested"), h("dd", {}, `${row.channel ?? "?"}${row.step !== undefined ? ` · step ${row.step + 1}` : ""}`),
        h("dt", {}, "Confidence"), h("dd", {}, fmtNum(row.confidence, 2)),
        h("dt", {}, "Why review"), why,
        h("dt", {}, "Created"), h("dd", {}, fmtTime(row.created_at)),
        h("dt", {}, "Expires"), h("dd", {}, fmtTime(row.expires_at)),
        h("dt", {}, "Claimed by"), h("dd", {}, row.claimed_by ?? "nobody")),
      h("h3", {}, "Message"),
      canAnswer ? editor : h("p", { class: "message" }, row.message ?? ""));
    if (canAnswer) {
      detail.append(
        h("div", { class: "actions" },
          h("button", { class: "primary", "data-testid": "approve", onclick: () => answer(true) }, "Approve"),
          reason,
          h("button", { class: "danger", "data-testid": "reject", onclick: () => answer(false) }, "Reject")));
      editor.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); answer(true); }
        if (e.key === "Escape") { e.preventDefault(); list.focus(); }
      });
      reason.addEventListener("keydown", (e) => {
        if (e.key === "Enter") { e.preventDefault(); answer(false); }
        if (e.key === "Escape") { e.preventDefault(); list.focus(); }
      });
    }
    detail.append(more);
    const fill = (item) => {
      if (token !== detailToken) return;
      why.textContent = REVIEW_REASONS[item.reason] ?? item.reason ?? REVIEW_REASONS.sensitive;
      clear(more);
      const evidence = Object.entries(item.evidence ?? {});
      const scores = [...Object.entries(item.signals ?? {}).map(([n, x]) => h("span", { class: "badge" }, `${n} ${fmtNum(x.score, 2)}`)),
                      ...Object.entries(item.models ?? {}).map(([n, m]) => h("span", { class: "badge info" }, `${n} ${fmtNum(m.score, 2)}`))];
      more.append(
        item.explanation?.why ? h("p", { class: "why" }, item.explanation.why) : "",
        item.explanation?.benefit ? h("p", {}, "Benefit: ", item.explanation.benefit) : "",
        h("h3", {}, "Evidence"),
        evidence.length === 0 ? h("p", { class: "muted" }, "no signal evidence")
          : h("table", {}, h("tr", {}, h("th", {}, "Signal"), h("th", { class: "num" }, "Count"), h("th", {}, "Window"), h("th", {}, "Last event")),
            ...evidence.map(([name, e]) => h("tr", {}, h("td", {}, name), h("td", { class: "num" }, String(e.count)),
                                              h("td", {}, fmtDuration(e.window)), h("td", {}, e.last_event)))),
        scores.length ? h("h3", {}, "Signals and models") : "", scores.length ? h("p", {}, ...scores) : "");
    };
    const cached = full.get(row.review_id);
    if (cached) return fill(cached);
    api("GET", `/v1/review/${encodeURIComponent(row.review_id)}`).then((item) => {
      full.set(row.review_id, item);
      fill(item);
    }, (err) => {
      if (token === detailToken) { clear(more); more.append(h("p", { class: "error" }, err.message)); }
    });
  }

  async function answer(approve) {
    const item = items[selected];
    if (!item) return;
    const message = document.getElementById("edit-message")?.value ?? "";
    const reasonText = document.getElementById("reject-reason")?.value.trim() ?? "";
    if (!approve && !reasonText) {
      toast("A rejection needs a reason: type it, then Enter.", true);
      document.getElementById("reject-reason")?.focus();
      return;
    }
    const id = encodeURIComponent(item.review_id);
    try {
      await api("POST", `/v1/review/${id}/claim`);
      const body = approve ? (message !== (item.message ?? "") ? { message } : {}) : { reason: reasonText };
      await api("POST", `/v1/review/${id}/${approve ? "approve" : "reject"}`, body);
      toast(`${approve ? "Approved" : "Rejected"}: ${item.intervention} for ${item.customer}`);
      items.splice(selected, 1);
      known.delete(item.review_id);
      count.textContent = String(items.length);
      select(selected);
      list.focus();
    } catch (err) {
      toast(err.message, true);
    }
  }

  // Polls the cheap queue depth; the list is fetched again when it moved
  // (or every 30 s, for items answered and added in between).
  let fetchedAt = 0;
  async function poll() {
    const stats = await api("GET", "/v1/stats");
    if (stats.review_pending !== items.length || Date.now() - fetchedAt > 30000) await refresh();
  }
  async function refresh() {
    fetchedAt = Date.now();
    const latest = await api("GET", "/v1/review?status=pending&view=summary&limit=100000");
    const current = items[selected]?.review_id;
    const first = known.size === 0;
    for (const item of latest) item._fresh = !first && !known.has(item.review_id);
    known = new Set(latest.map((i) => i.review_id));
    // Keep what the agent is typing: re-render the detail only when the
    // selected item changed.
    items = latest;
    count.textContent = String(items.length);
    const index = current ? items.findIndex((i) => i.review_id === current) : 0;
    const keepDetail = index >= 0 && current !== undefined;
    selected = index >= 0 ? index : Math.min(selected, Math.max(0, items.length - 1));
    renderRows();
    if (!keepDetail || first) renderDetail();
  }

  list.addEventListener("scroll", renderRows);
  onKeys((e) => {
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement?.tagName);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const moves = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (e.key in moves) { e.preventDefault(); select(selected + moves[e.key]); return; }
    if (e.key === "Home") { e.preventDefault(); select(0); return; }
    if (e.key === "End") { e.preventDefault(); select(items.length - 1); return; }
    if (!canAnswer) return;
    if (e.key === "e") { e.preventDefault(); document.getElementById("edit-message")?.focus(); }
    if (e.key === "a") { e.preventDefault(); answer(true); }
    if (e.key === "r") { e.preventDefault(); document.getElementById("reject-reason")?.focus(); }
  });
  await refresh();
  list.focus();
  every(3000, () => poll().catch((err) => toast(err.message, true)));
}

// --- customer view -------------------------------------------------------------

async function renderCustomer(main, [id]) {
  const input = h("input", { id: "customer-search", placeholder: "customer id (user or anonymous id)", "aria-label": "Customer id",
                             value: id ?? "" });
  const form = h("form", { class: "toolbar" }, h("h1", {}, "Customer"), input, h("button", { class: "primary", type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim()) location.hash = `#/customer/${encodeURIComponent(input.value.trim())}`;
  });
  main.append(form);
  if (!id) {
    main.append(h("p", { class: "muted" }, "Search by id to see everything the system did for this person, and why."));
    input.focus();
    return;
  }
  const t = await api("GET", `/v1/customers/${encodeURIComponent(id)}/timeline`);
  const reading = t.reading ?? {};
  const prefs = t.preferences ?? {};
  const profile = t.profile ?? {};
  main.append(h("div", { class: "grid cards" },
    card("Segment", reading.segment ?? "default"),
    card("Events", String(t.events_total ?? t.events.length)),
    card("Decisions", String(t.decisions.length)),
    card("Ids", t.ids.join(", "))));

  // Signals, each with its score over time.
  const history = t.signal_history ?? { signals: [], points: [] };
  main.append(h("h2", {}, "Signals"));
  const signalGrid = h("div", { class: "signals" });
  for (const s of reading.signals ?? []) {
    const index = history.signals.indexOf(s.name);
    const series = index < 0 ? [] : history.points.map((p) => ({ t: Date.parse(p.at), v: p.scores[index] }));
    signalGrid.append(h("div", { class: "card", "data-signal": s.name },
      h("div", { class: "label" }, s.name),
      h("div", {}, h("strong", {}, fmtNum(s.score, 2)), h("span", { class: "muted" }, ` score · confidence ${fmtNum(s.confidence, 2)}`)),
      sparkline(series, { title: `${s.name} score over time` }),
      h("div", { class: "muted" }, s.evidence?.count ? `${s.evidence.count}× ${s.evidence.last_event ?? ""} within ${fmtDuration(s.evidence.window)}` : "no evidence")));
  }
  main.append(signalGrid);
  if ((reading.models ?? []).length) {
    main.append(h("h2", {}, "Models"), h("table", {},
      h("tr", {}, h("th", {}, "Model"), h("th", { class: "num" }, "Score"), h("th", { class: "num" }, "Confidence"), h("th", {}, "Top features")),
      ...reading.models.map((m) => h("tr", {}, h("td", {}, m.name), h("td", { class: "num" }, fmtNum(m.score, 3)),
        h("td", { class: "num" }, fmtNum(m.confidence, 2)),
        h("td", {}, (m.top_features ?? []).map((f) => `${f.feature} ${fmtNum(f.contribution, 2)}`).join(", "))))));
  }

  main.append(h("h2", {}, "Preferences and consent"), preferencesTable(prefs),
              h("h2", {}, "Profile"), h("pre", { class: "mono" }, JSON.stringify(profile.traits ?? {}, null, 1)));

  // One timeline, newest first: events, decisions, deliveries and feedback.
  // Many things share a millisecond, so ties keep the order they happened
  // in: events by log order, a decision right after the event that
  // triggered it, audit entries by their sequence.
  const entries = [];
  const eventOrder = new Map();
  t.events.forEach((e, i) => {
    const ev = e.event ?? {};
    if (ev.messageId) eventOrder.set(ev.messageId, i);
    entries.push({ at: Date.parse(ev.timestamp), order: i, kind: "event", badge: "", node: h("span", {}, ev.event ?? ev.type ?? "event",
      ev.properties ? h("span", { class: "muted mono" }, ` ${JSON.stringify(ev.properties)}`) : "") });
  });
  [...t.decisions].reverse().forEach((d, i) => {
    const trigger = eventOrder.get(d.trigger?.message_id);
    entries.push({ at: Date.parse(d.at), order: trigger !== undefined ? trigger + 0.5 : t.events.length + i, kind: "decision",
                   badge: d.action === "none" ? "warn" : "info", node: decisionNode(d) });
  });
  for (const a of t.audit) {
    if (a.action?.startsWith("decision")) continue;  // the decision itself is shown
    entries.push({ at: Date.parse(a.at), order: 1e9 + (a.seq ?? 0), kind: a.action,
                   badge: a.action?.includes("dead") || a.action?.includes("reject") ? "bad" : "good",
                   node: h("span", {}, a.subject ?? "", a.details ? h("span", { class: "muted mono" }, ` ${JSON.stringify(a.details)}`) : "") });
  }
  entries.sort((a, b) => (b.at - a.at) || (b.order - a.order));
  main.append(h("h2", {}, "Timeline"), h("ul", { class: "timeline", "data-testid": "timeline" },
    ...entries.map((x) => h("li", { "data-kind": x.kind }, h("span", { class: "when" }, fmtTime(x.at)),
      h("span", {}, h("span", { class: `badge ${x.badge}` }, x.kind)), x.node))));
}

function card(label, value) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

function decisionNode(d) {
  const blocked = d.blocked ?? [];
  return h("div", { class: "decision", "data-decision-id": d.decision_id },
    h("strong", {}, `${d.action ?? "none"}`, d.intervention ? ` · ${d.intervention}` : "", d.channel ? ` · ${d.channel}` : "",
      d.cohort && d.cohort !== "treatment" ? ` · ${d.cohort}` : ""),
    d.message ? h("div", { class: "message" }, d.message) : "",
    d.explanation?.why ? h("div", { class: "why", "data-testid": "explanation" }, d.explanation.why) : "",
    d.explanation?.benefit ? h("div", { class: "muted" }, `So that you can ${d.explanation.benefit}.`) : "",
    d.confidence !== undefined && d.confidence !== null ? h("div", { class: "muted" }, `confidence ${fmtNum(d.confidence, 2)}`) : "",
    blocked.length ? h("div", {}, "Blocked: ", ...blocked.map((b) => h("span", { class: "badge bad", title: b.detail ?? "" },
      `${b.intervention ? b.intervention + ": " : ""}${b.reason}`))) : "");
}

function preferencesTable(p) {
  const rows = [];
  for (const [purpose, c] of Object.entries(p.consent ?? {})) {
    rows.push(["consent: " + purpose, `${c.status ?? JSON.stringify(c)}${c.expires ? ` until ${fmtTime(c.expires)}` : ""}`]);
  }
  for (const [channel, on] of Object.entries(p.channels ?? {})) rows.push(["channel: " + channel, String(on)]);
  for (const [k, v] of Object.entries(p)) {
    if (k === "consent" || k === "channels") continue;
    rows.push([k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
  }
  if (rows.length === 0) return h("p", { class: "muted" }, "no preferences recorded");
  return h("table", { "data-testid": "preferences" }, ...rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))));
}

// --- live operations -------------------------------------------------------------

async function renderLive(main) {
  const rate = [];
  const body = h("div", {});
  main.append(h("div", { class: "toolbar" }, h("h1", {}, "Live operations"), h("span", { class: "muted", id: "live-updated" }, "")), body);
  async function refresh() {
    const s = await api("GET", "/v1/stats");
    rate.push({ t: Date.now(), v: s.events_per_second });
    if (rate.length > 90) rate.shift();
    clear(body);
    const actions = s.decisions?.actions ?? {};
    const blocked = s.decisions?.blocked ?? {};
    // actions: {channel: {deliver|ask_confirm|review: n}}
    const byChannel = {};
    for (const [channel, kinds] of Object.entries(actions)) {
      byChannel[channel] = typeof kinds === "number" ? kinds : Object.values(kinds).reduce((a, b) => a + b, 0);
    }
    body.append(
      h("div", { class: "grid cards", "data-testid": "live-cards" },
        card("Events/s", fmtNum(s.events_per_second, 0)),
        card("Events accepted", String(s.events?.accepted ?? 0)),
        card("Rejected / late", `${s.events?.rejected ?? 0} / ${s.events?.late ?? 0}`),
        card("Decision points", String(s.decisions?.points ?? 0)),
        card("Review queue", String(s.review_pending ?? 0)),
        card("Nudges pending", String(s.nudges_pending ?? 0)),
        card("Webhooks pending", String(s.webhooks?.pending ?? 0)),
        card("Webhook failures", `${s.webhooks?.failed_attempts ?? 0} failed · ${s.webhooks?.dead ?? 0} dead`)),
      h("h2", {}, "Events per second"), lineChart([rate], { height: 140, title: "events per second, last 3 minutes" }),
      h("div", { class: "grid two" },
        h("div", {}, h("h2", {}, "Actions by channel (delivered, confirmations, reviews)"), barChart(byChannel, { title: "actions by channel" })),
        h("div", {}, h("h2", {}, "Blocks by reason"), barChart(blocked, { title: "guardrail blocks by reason" }))),
      h("h2", {}, "Model drift"),
      (s.drift ?? []).length === 0 ? h("p", { class: "muted" }, "no models") :
        h("table", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Version"), h("th", { class: "num" }, "PSI"), h("th", {}, "Level")),
          ...s.drift.map((d) => h("tr", {}, h("td", {}, d.model), h("td", { class: "mono" }, d.version),
            h("td", { class: "num" }, fmtNum(d.psi, 3)),
            h("td", {}, h("span", { class: `badge ${d.level === "stable" ? "good" : d.level === "moderate" ? "warn" : "bad"}` }, d.level))))),
      h("p", { class: "muted" }, `Policy ${s.policy?.version ?? ""} (v${s.policy?.number ?? "?"})`));
    document.getElementById("live-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }
  await refresh();
  every(2000, () => refresh().catch((err) => toast(err.message, true)));
}

// --- scorecard ------------------------------------------------------------------

async function renderScorecard(main) {
  const windowSelect = h("select", { id: "scorecard-window", "aria-label": "Window" },
    ...["two-weeks", "all", "day", "week"].map((w) => h("option", { value: w }, w)));
  const body = h("div", {});
  main.append(h("div", { class: "toolbar" }, h("h1", {}, "Scorecard"), h("label", {}, "window ", windowSelect)), body);
  async function load() {
    clear(body);
    body.append(h("p", { class: "muted" }, "Computing…"));
    const card = await api("GET", `/v1/scorecard?window=${encodeURIComponent(windowSelect.value)}`);
    clear(body);
    renderScorecardBody(body, card);
  }
  windowSelect.addEventListener("change", () => load().catch((err) => toast(err.message, true)));
  await load();
}

const VERDICT_BADGE = { better: "good", worse: "bad", no_clear_difference: "", not_enough_data: "warn" };

// Values in the metric's unit: shares as percentages (differences in
// percentage points), NPS in points, LTV in currency units, hours.
function fmtValue(v, unit) {
  if (v === null || v === undefined) return "—";
  if (unit === "share") return fmtPct(v);
  if (unit === "hours") return `${fmtNum(v, 1)} h`;
  return fmtNum(v, unit === "points" ? 1 : 2);
}
function fmtDiff(v, unit) {
  if (v === null || v === undefined) return "—";
  return unit === "share" ? `${fmtNum(v * 100, 1)} pp` : fmtValue(v, unit);
}

function resultCells(r, unit) {
  return [
    h("td", { class: "num" }, fmtValue(r.treatment, unit)), h("td", { class: "num" }, fmtValue(r.control, unit)),
    h("td", { class: "num" }, r.relative_lift === null || r.relative_lift === undefined ? "—" : fmtPct(r.relative_lift)),
    h("td", { class: "num" }, `${fmtDiff(r.difference, unit)} [${fmtDiff(r.ci_low, unit)}, ${fmtDiff(r.ci_high, unit)}]`),
    h("td", { class: "num" }, fmtNum(r.p_value, 3)), h("td", { class: "num" }, `${r.n_treatment ?? 0} / ${r.n_control ?? 0}`),
    h("td", {}, h("span", { class: `badge ${VERDICT_BADGE[r.verdict] ?? ""}` }, (r.verdict ?? "").replaceAll("_", " "))),
  ];
}

function resultHeader(first) {
  return h("tr", {}, h("th", {}, first), h("th", { class: "num" }, "Treatment"), h("th", { class: "num" }, "Control"),
    h("th", { class: "num" }, "Lift"), h("th", { class: "num" }, "Difference [95% CI]"), h("th", { class: "num" }, "p"),
    h("th", { class: "num" }, "n (t / c)"), h("th", {}, "Verdict"));
}

// A lift as % of the control's value, so metrics of any unit share one axis.
function liftRow(label, r) {
  const base = Math.abs(r.control ?? 0);
  const rel = (v) => (base > 0 && Number.isFinite(v) ? (v / base) * 100 : NaN);
  return { label, estimate: rel(r.difference), low: rel(r.ci_low), high: rel(r.ci_high), significant: r.called };
}

function renderScorecardBody(body, card) {
  for (const w of card.warnings ?? []) body.append(h("p", { class: "error" }, `⚠ ${w.message}`));
  body.append(h("p", { "data-testid": "scorecard-summary" }, card.summary ?? ""));
  const headline = card.headline ?? [];
  body.append(h("div", { class: "grid cards", "data-testid": "headline" }, ...headline.map((m) =>
    h("div", { class: "card", "data-metric": m.metric },
      h("div", { class: "label" }, m.label ?? m.metric),
      h("div", { class: "value" }, fmtValue(m.treatment, m.unit)),
      h("div", { class: "muted" }, `holdout ${fmtValue(m.control, m.unit)} · lift ${m.relative_lift === null || m.relative_lift === undefined ? "—" : fmtPct(m.relative_lift)}`),
      h("div", { class: "muted" }, `difference ${fmtDiff(m.difference, m.unit)}, 95% CI [${fmtDiff(m.ci_low, m.unit)}, ${fmtDiff(m.ci_high, m.unit)}] · p ${fmtNum(m.p_value, 3)}`),
      h("span", { class: `badge ${VERDICT_BADGE[m.verdict] ?? ""}` }, (m.verdict ?? "").replaceAll("_", " "))))));
  body.append(h("h2", {}, "Headline and guardrails, treatment vs holdout"),
    h("table", { "data-testid": "headline-table" }, resultHeader("Metric"),
      ...[...headline, ...(card.guardrails ?? [])].map((m) => h("tr", {}, h("td", {}, m.label ?? m.metric), ...resultCells(m, m.unit)))));
  body.append(h("h2", {}, "Lift by comparison (difference as % of control, 95% interval)"));
  for (const c of card.comparisons ?? []) {
    const rows = Object.entries(c.metrics ?? {}).filter(([, m]) => m.overall).map(([name, m]) => liftRow(name, m.overall));
    body.append(h("h3", {}, c.label ?? c.id), forestPlot(rows, { title: `${c.label ?? c.id}: lifts`, unit: "%" }));
  }
  const series = card.series;
  if (series?.weeks?.length) {
    body.append(h("h2", {}, `Weekly, by cohort (${series.bucket ?? "week"})`), h("p", { class: "muted" }, "treatment in blue, holdout in grey"));
    const grid = h("div", { class: "grid cards" });
    for (const [name, arms] of Object.entries(series.metrics ?? {})) {
      const pts = (values) => (values ?? []).map((v, i) => ({ t: Date.parse(series.weeks[i].from), v })).filter((p) => Number.isFinite(p.v));
      grid.append(h("div", { class: "card" }, h("div", { class: "label" }, name),
        lineChart([pts(arms.treatment), pts(arms.holdout)], { width: 300, height: 120, title: `${name} by week` })));
    }
    body.append(grid);
  }
  const unitOf = Object.fromEntries((card.metrics ?? []).map((m) => [m.name, m.unit]));
  const cohort = (card.comparisons ?? []).find((c) => c.id === "cohort");
  if (cohort) {
    for (const [dimension, title] of [["by_segment", "By segment"], ["by_channel", "By channel"]]) {
      const rows = [];
      for (const [name, m] of Object.entries(cohort.metrics ?? {})) {
        for (const [key, r] of Object.entries(m[dimension] ?? {})) rows.push(h("tr", {}, h("td", {}, `${name} · ${key}`), ...resultCells(r, unitOf[name])));
      }
      if (rows.length) body.append(h("h2", {}, title), h("table", { "data-testid": dimension }, resultHeader("Metric · " + dimension.slice(3)), ...rows));
    }
  }
  if ((card.targets ?? []).length) {
    body.append(h("h2", {}, "Targets"), h("table", {},
      h("tr", {}, h("th", {}, "Target"), h("th", { class: "num" }, "Actual"), h("th", { class: "num" }, "Goal"), h("th", {}, "Status")),
      ...card.targets.map((t) => h("tr", {}, h("td", {}, t.key ?? t.metric), h("td", { class: "num" }, fmtNum(t.actual, 2)),
        h("td", { class: "num" }, fmtNum(t.goal, 2)), h("td", {}, h("span", { class: `badge ${t.met ? "good" : "warn"}` }, t.status ?? ""))))));
  }
}

// --- policies -------------------------------------------------------------------

async function renderPolicies(main) {
  const versions = await api("GET", "/v1/policies");
  const canApprove = may("POST /v1/policies/{version}/approve");
  const canActivate = may("POST /v1/policies/{version}/activate");
  const canRollback = may("POST /v1/policies/{version}/rollback");
  const diffBox = h("div", { class: "panel", "data-testid": "policy-diff" }, h("p", { class: "muted" }, "Pick two versions to compare."));
  const from = h("select", { id: "diff-from", "aria-label": "From version" }, ...versions.map((v) => h("option", { value: v.number }, `v${v.number}`)));
  const to = h("select", { id: "diff-to", "aria-label": "To version" }, ...versions.map((v) => h("option", { value: v.number }, `v${v.number}`)));
  if (versions.length) {
    to.value = String(versions[versions.length - 1].number);
    from.value = String(versions[Math.max(0, versions.length - 2)].number);
  }
  async function showDiff() {
    const d = await api("GET", `/v1/policies/${from.value}/diff/${to.value}`);
    clear(diffBox);
    const pre = h("pre", { class: "diff" });
    const lines = (d.diff || "").split("\n");
    for (const line of lines) {
      const cls = line.startsWith("@@") ? "hunk" : line.startsWith("+") && !line.startsWith("+++") ? "add"
        : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
      pre.append(h("span", { class: cls }, line + "\n"));
    }
    diffBox.append(h("h3", {}, `v${d.from} → v${d.to}`), d.diff ? pre : h("p", { class: "muted" }, "The two versions are the same."));
  }
  async function act(verb, v) {
    try {
      await api("POST", `/v1/policies/${v.number}/${verb}`);
      toast(`Policy v${v.number}: ${verb} done`);
      route();
    } catch (err) {
      toast(err.message, true);
    }
  }
  main.append(h("h1", {}, "Policies"), h("table", { "data-testid": "policies" },
    h("tr", {}, h("th", {}, "Version"), h("th", {}, "Name"), h("th", {}, "Status"), h("th", {}, "Uploaded"),
      h("th", {}, "Approved"), h("th", {}, "Activated"), h("th", {}, "")),
    ...versions.map((v) => h("tr", { "data-version": v.number },
      h("td", {}, `v${v.number}`), h("td", {}, v.name), h("td", {}, h("span", { class: `badge ${v.status === "active" ? "good" : ""}` }, v.status)),
      h("td", {}, `${v.uploaded_by} · ${fmtTime(v.uploaded_at)}`),
      h("td", {}, v.approved_by ? `${v.approved_by} · ${fmtTime(v.approved_at)}` : "—"),
      h("td", {}, v.activated_at ? fmtTime(v.activated_at) : "—"),
      h("td", {},
        canApprove && !v.approved_by ? h("button", { "data-action": "approve", onclick: () => act("approve", v) }, "Approve") : "",
        canActivate && v.approved_by && v.status !== "active" && !v.activated_at ? h("button", { "data-action": "activate", onclick: () => act("activate", v) }, "Activate") : "",
        canRollback && v.activated_at && v.status !== "active" ? h("button", { "data-action": "rollback", onclick: () => act("rollback", v) }, "Roll back to this") : "")))),
    h("h2", {}, "Diff"), h("div", { class: "toolbar" }, from, "→", to, h("button", { onclick: () => showDiff().catch((e) => toast(e.message, true)) }, "Compare")),
    diffBox);
  if (versions.length > 1) await showDiff();
}

// --- start ------------------------------------------------------------------------

window.addEventListener("hashchange", route);
(async () => {
  if (state.key) {
    try { state.who = await api("GET", "/v1/whoami"); } catch { state.key = ""; sessionStorage.removeItem(KEY_STORAGE); }
  }
  route();
})();
