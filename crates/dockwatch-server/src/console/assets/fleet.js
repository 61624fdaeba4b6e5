// Fleet compliance: counts by status, one row per machine with the settings that drifted (from
// what the policy requires to what the machine has), a status filter, the CSV export, and a
// machine's status history on click.
// API: GET /orgs/{org}/fleet/report (?status=, ?format=csv), /fleet/machines/{id}/history.

import { get, orgPath, query } from "./api.js";
import { badge, fill, h, heading, notice, show, table, whenMs } from "./dom.js";

const STATUSES = ["compliant", "non-compliant", "outdated", "no-policy", "unknown"];

export async function render(view, ctx) {
  const status = STATUSES.includes(ctx.params.status) ? ctx.params.status : "";
  const report = await get(orgPath(ctx.org, "fleet", "report") + query({ status }));
  if (!ctx.current()) return;

  const select = h(
    "select",
    { id: "fleet-status", name: "status" },
    h("option", { value: "" }, "every status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  select.addEventListener("change", () => ctx.navigate({ status: select.value }));
  const csv = h(
    "a",
    {
      class: "button",
      id: "fleet-csv",
      href: orgPath(ctx.org, "fleet", "report") + query({ status, format: "csv" }),
      download: `fleet-${ctx.org}${status ? `-${status}` : ""}.csv`,
    },
    "Export CSV",
  );
  const history = h("aside", { id: "machine-history", class: "detail", hidden: true });
  const s = report.summary || {};
  fill(
    view,
    heading("Fleet compliance", h("label", {}, "Status ", select), csv),
    h(
      "ul",
      { class: "summary", id: "fleet-summary" },
      h("li", {}, `${s.total ?? report.machines.length} machines`),
      STATUSES.map((st) => {
        const n = s[st.replace("-", "_")];
        return n ? h("li", {}, badge(st), ` ${n}`) : null;
      }),
    ),
    h(
      "div",
      { class: "split" },
      table(
        [
          ["Machine", (m) => m.hostname || m.machine_id],
          ["OS", (m) => m.os],
          ["Users", (m) => (m.users || []).join(", ")],
          ["Policy", (m) => (m.policy ? `${m.policy.name} v${m.policy.version?.number ?? m.policy.version}` : "")],
          ["Status", (m) => badge(m.status)],
          ["Drifted settings (required → found)", drifts],
          ["Last report", (m) => whenMs(m.last_report_at_ms), "nowrap"],
        ],
        report.machines,
        {
          id: "fleet-table",
          empty: status ? `No machine is ${status}.` : "No machine has enrolled yet (see docs/fleet.md).",
          onRow: (m) => showHistory(ctx, m, history),
        },
      ),
      history,
    ),
  );
}

/** What drifted, from what the policy requires to what the machine has. */
function drifts(m) {
  if (m.status === "outdated") {
    return `policy v${m.applied_version ?? "none"} installed, v${m.current_version} in force`;
  }
  if (!m.drifts || m.drifts.length === 0) return "";
  return h(
    "ul",
    { class: "drifts" },
    m.drifts.map((d) =>
      h(
        "li",
        {},
        h("code", {}, d.key),
        d.user ? ` (${d.user})` : "",
        ": ",
        h("span", { class: "required", title: "what the policy requires" }, show(d.required)),
        " → ",
        h("span", { class: "actual", title: "what the machine has" }, show(d.actual)),
      ),
    ),
  );
}

async function showHistory(ctx, m, panel) {
  fill(panel, h("h3", {}, m.hostname || m.machine_id), notice("info", "Loading history..."));
  panel.hidden = false;
  try {
    const changes = await get(orgPath(ctx.org, "fleet", "machines", m.machine_id, "history"));
    fill(
      panel,
      h("div", { class: "heading" }, h("h3", {}, m.hostname || m.machine_id),
        h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => (panel.hidden = true) }, "×")),
      h("p", {}, `Machine ${m.machine_id}`),
      table(
        [
          ["When", (c) => whenMs(c.time_ms), "nowrap"],
          ["Status", (c) => badge(c.status)],
        ],
        changes.slice().reverse(),
        { id: "machine-history-table", empty: "No status change recorded." },
      ),
    );
  } catch (err) {
    fill(panel, notice("error", err.message));
  }
}
