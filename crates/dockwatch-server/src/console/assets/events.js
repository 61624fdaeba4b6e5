// The activity log: search (action, actor, target, text, time), newest first, a cursor
// "Load more", the detail of one event with its before/after (linkable: `event=SEQ` in the hash),
// and verifying the hash chain.
// API: GET /orgs/{org}/events (x-next-cursor), GET /orgs/{org}/events/feed?after=SEQ-1&limit=1
// (one event by its chain position), GET /orgs/{org}/events/verify.

import { get, orgPath, query, request } from "./api.js";
import { fill, h, heading, notice, show, table, when } from "./dom.js";

const FILTERS = [
  ["action", "Action", "team.* or member.role.changed"],
  ["actor", "Actor", "email, token name or id"],
  ["target", "Target", "name or id"],
  ["q", "Text", "words in the event"],
  ["since", "Since", "24h, 7d or 2025-06-01T00:00:00Z"],
  ["until", "Until", "24h, 7d or 2025-06-01T00:00:00Z"],
];

/** Events per page unless the hash says `limit=N`. */
const PAGE_SIZE = 50;

export async function render(view, ctx) {
  const verifyResult = h("div", { id: "verify-result" });
  const verify = h("button", { type: "button", id: "verify-chain" }, "Verify chain");
  verify.addEventListener("click", () => verifyChain(ctx, verify, verifyResult));

  const form = h(
    "form",
    { class: "filters", id: "event-search" },
    FILTERS.map(([name, label, hint]) =>
      h("label", {}, label, h("input", { name, id: `filter-${name}`, placeholder: hint, value: ctx.params[name] || "" })),
    ),
    h("div", { class: "buttons" },
      h("button", { type: "submit", id: "event-search-submit" }, "Search"),
      h("button", { type: "button", id: "event-search-clear", onclick: () => ctx.navigate({}) }, "Clear")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate({ ...Object.fromEntries(new FormData(form)), limit: ctx.params.limit });
  });

  const results = h("div", { id: "event-results" });
  const detail = h("aside", { id: "event-detail", class: "detail", hidden: true });
  const more = h("button", { type: "button", id: "load-more", hidden: true }, "Load more");
  fill(view, heading("Activity log", verify), verifyResult, form, h("div", { class: "split" }, h("div", {}, results, more), detail));

  const filters = Object.fromEntries(FILTERS.map(([name]) => [name, ctx.params[name]]));
  const limit = Math.min(Math.max(Number.parseInt(ctx.params.limit, 10) || PAGE_SIZE, 1), 1000);
  const rows = [];
  let cursor = null;
  const load = async () => {
    more.disabled = true;
    const { data, headers } = await request(
      "GET",
      orgPath(ctx.org, "events") + query({ ...filters, limit, cursor }),
    );
    if (!ctx.current()) return;
    rows.push(...data);
    cursor = headers.get("x-next-cursor");
    fill(results, eventTable(rows, (e) => {
      ctx.remember({ ...ctx.params, event: e.seq });
      showDetail(detail, e);
    }));
    more.hidden = !cursor;
    more.disabled = false;
  };
  more.addEventListener("click", () =>
    load().catch((err) => results.appendChild(notice("error", err.message))),
  );
  await Promise.all([load(), linked(ctx, detail)]);
}

/** The event named by `event=SEQ` in the hash, shown even when it is not on the first page. */
async function linked(ctx, detail) {
  const seq = Number.parseInt(ctx.params.event, 10);
  if (!(seq > 0)) return;
  const page = await get(orgPath(ctx.org, "events", "feed") + query({ after: seq - 1, limit: 1 }));
  if (!ctx.current()) return;
  const e = page.events[0];
  if (e && e.seq === seq) showDetail(detail, e);
  else fill(detail, notice("error", `There is no event #${seq} in ${ctx.org}.`)).hidden = false;
}

function eventTable(rows, select) {
  return table(
    [
      ["Time", (e) => when(e.time), "nowrap"],
      ["Action", (e) => h("code", {}, e.action)],
      ["Actor", (e) => e.actor.name || e.actor.id || e.actor.kind],
      ["Target", (e) => `${e.target.kind || ""} ${e.target.name || e.target.id || ""}`.trim()],
      ["What happened", (e) => e.sentence],
    ],
    rows,
    {
      id: "event-table",
      empty: "No event matches these filters.",
      onRow: (e, tr) => {
        for (const other of tr.parentNode.children) other.classList.toggle("selected", other === tr);
        select(e);
      },
    },
  );
}

/** The detail panel: who, what, when, the before/after of each field, the chain hashes. */
function showDetail(detail, e) {
  const d = e.details && typeof e.details === "object" ? e.details : { value: e.details };
  const { before, after, ...rest } = d;
  const field = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  fill(
    detail,
    h("div", { class: "heading" }, h("h3", {}, e.action),
      h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => (detail.hidden = true) }, "×")),
    h("p", { class: "sentence" }, e.sentence),
    h(
      "dl",
      {},
      field("When", when(e.time)),
      field("Actor", `${e.actor.name || ""} (${e.actor.kind || ""} ${e.actor.id || ""})`),
      e.actor.ip && field("From", e.actor.ip),
      e.actor.user_agent && field("User agent", e.actor.user_agent),
      field("Target", `${e.target.kind || ""} ${e.target.name || ""} (${e.target.id || ""})`),
      field("Event", `${e.id} · #${e.seq}`),
    ),
    (before !== undefined || after !== undefined) && [h("h4", {}, "Before and after"), changes(before, after)],
    Object.keys(rest).length > 0 && [h("h4", {}, "More"), h("pre", {}, JSON.stringify(rest, null, 2))],
    h("h4", {}, "Chain"),
    h("dl", { class: "hashes" }, field("Previous hash", h("code", {}, e.prev_hash)), field("Hash", h("code", {}, e.hash))),
  );
  detail.hidden = false;
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** One row per field of before/after, the changed ones marked. */
function changes(before, after) {
  if (!isObject(before ?? {}) || !isObject(after ?? {})) {
    return table([["Before", () => show(before)], ["After", () => show(after)]], [{}], { id: "event-changes" });
  }
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  const rows = keys.map((key) => ({
    key,
    before: before ? show(before[key]) : "",
    after: after ? show(after[key]) : "",
  }));
  const t = table(
    [["Field", (r) => r.key], ["Before", (r) => r.before], ["After", (r) => r.after]],
    rows,
    { id: "event-changes", empty: "No fields." },
  );
  rows.forEach((r, i) => {
    if (r.before !== r.after) t.querySelectorAll("tbody tr")[i]?.classList.add("changed");
  });
  return t;
}

async function verifyChain(ctx, button, out) {
  button.disabled = true;
  fill(out, notice("info", "Walking the chain..."));
  try {
    const v = await get(orgPath(ctx.org, "events", "verify"));
    const text = v.ok
      ? `The chain holds: ${v.events} events, head ${v.head_hash}.`
      : `The chain is BROKEN at event ${v.first_bad_id} (#${v.first_bad_seq}): ${v.message}`;
    fill(out, notice(v.ok ? "ok" : "error", text, "verify-message"));
  } catch (err) {
    fill(out, notice("error", err.message, "verify-message"));
  } finally {
    button.disabled = false;
  }
}
