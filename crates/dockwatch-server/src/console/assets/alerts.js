// Alerts: channels (settings shown redacted, as the API gives them), rules, and the delivery log
// with a status/channel filter and "Redeliver" for dead-lettered deliveries.
// API: GET /orgs/{org}/alerts/channels, /alerts/rules, /alerts/deliveries (?channel=&status=),
// POST /alerts/channels/{channel}/test, POST /alerts/deliveries/{id}/redeliver.

import { get, orgPath, post, query } from "./api.js";
import { badge, fill, h, heading, notice, show, table, when } from "./dom.js";

const DELIVERY_STATUSES = ["pending", "delivered", "dead"];

export async function render(view, ctx) {
  const status = DELIVERY_STATUSES.includes(ctx.params.status) ? ctx.params.status : "";
  const channel = ctx.params.channel || "";
  const [channels, rules] = await Promise.all([
    get(orgPath(ctx.org, "alerts", "channels")),
    get(orgPath(ctx.org, "alerts", "rules")),
  ]);
  if (!ctx.current()) return;

  const message = h("div", { id: "alerts-message" });
  const deliveries = h("div", { id: "deliveries" });
  const statusSelect = h(
    "select",
    { id: "delivery-status" },
    h("option", { value: "" }, "every status"),
    DELIVERY_STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  const channelSelect = h(
    "select",
    { id: "delivery-channel" },
    h("option", { value: "" }, "every channel"),
    channels.map((c) => h("option", { value: c.name, selected: c.name === channel }, c.name)),
  );
  const refilter = () => ctx.navigate({ status: statusSelect.value, channel: channelSelect.value });
  statusSelect.addEventListener("change", refilter);
  channelSelect.addEventListener("change", refilter);
  const refresh = h("button", { type: "button", id: "deliveries-refresh" }, "Refresh");

  const loadDeliveries = async () => {
    const rows = await get(orgPath(ctx.org, "alerts", "deliveries") + query({ status, channel, limit: 200 }));
    if (!ctx.current()) return;
    fill(deliveries, deliveryTable(ctx, rows, message, loadDeliveries));
  };
  refresh.addEventListener("click", () => loadDeliveries().catch((e) => fill(message, notice("error", e.message))));

  fill(
    view,
    message,
    heading(`Channels (${channels.length})`),
    table(
      [
        ["Channel", (c) => c.name],
        ["Kind", (c) => c.kind],
        ["Settings", (c) => h("code", { class: "config" }, settingsSummary(c.config))],
        ["Created", (c) => when(c.created_at), "nowrap"],
        ["", (c) => ctx.atLeast("editor") && testButton(ctx, c, message)],
      ],
      channels,
      { id: "channel-table", empty: "No channels (dockwatch alert channel add ...)." },
    ),
    heading(`Rules (${rules.length})`),
    table(
      [
        ["Rule", (r) => r.name],
        ["Matches", (r) => r.match.join(", ")],
        ["Channels", (r) => r.channels.join(", ")],
        ["Only", (r) => [r.repository && `repository ${r.repository}`, r.team && `team ${r.team}`,
          r.min_severity && `severity ≥ ${r.min_severity}`].filter(Boolean).join(", ")],
        ["Created", (r) => when(r.created_at), "nowrap"],
      ],
      rules,
      { id: "rule-table", empty: "No rules (dockwatch alert rule add ...)." },
    ),
    heading("Delivery log", h("label", {}, "Status ", statusSelect), h("label", {}, "Channel ", channelSelect), refresh),
    deliveries,
  );
  await loadDeliveries();
}

/** The redacted settings as `key=value` pairs, `kind` left out (it has its own column). */
function settingsSummary(config) {
  if (!config || typeof config !== "object") return show(config);
  return Object.entries(config)
    .filter(([k]) => k !== "kind")
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(" ");
}

function testButton(ctx, c, message) {
  const button = h("button", { type: "button", class: "small", dataset: { channel: c.name } }, "Test");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const r = await post(orgPath(ctx.org, "alerts", "channels", c.name, "test"));
      const text = `${c.name}: ${r.delivered ? "delivered" : "not delivered"}` +
        `${r.status ? ` (HTTP ${r.status})` : ""} in ${r.latency_ms} ms. ${r.response_excerpt || ""}`;
      fill(message, notice(r.delivered ? "ok" : "error", text));
    } catch (err) {
      fill(message, notice("error", err.message));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function deliveryTable(ctx, rows, message, reload) {
  return table(
    [
      ["Queued", (d) => when(d.created_at), "nowrap"],
      ["Channel", (d) => d.channel || "(removed)"],
      ["Status", (d) => badge(d.status)],
      ["Attempts", (d) => d.attempts, "number"],
      ["Last answer", (d) => [d.last_status ? `HTTP ${d.last_status} ` : "", d.last_excerpt || ""]],
      ["Why", (d) => d.reason || (d.next_attempt_at ? ["next try ", when(d.next_attempt_at)] : "")],
      ["Events", (d) => d.event_ids.length],
      ["", (d) => d.status === "dead" && ctx.atLeast("editor") && redeliverButton(ctx, d, message, reload)],
    ],
    rows,
    { id: "delivery-table", empty: "No deliveries match." },
  );
}

function redeliverButton(ctx, d, message, reload) {
  const button = h("button", { type: "button", class: "small redeliver", dataset: { delivery: d.id } }, "Redeliver");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await post(orgPath(ctx.org, "alerts", "deliveries", d.id, "redeliver"));
      fill(message, notice("ok", `Delivery ${d.id} is queued again (same id).`, "redeliver-message"));
      await reload();
    } catch (err) {
      fill(message, notice("error", err.message, "redeliver-message"));
      button.disabled = false;
    }
  });
  return button;
}
