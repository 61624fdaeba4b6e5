// The console shell: who is signed in, which organization, which page. Pages live in their own
// modules and draw themselves from the API; the location hash holds the page and its filters
// (#/orgs/acme/events?action=team.*) so every view can be bookmarked and shared.

import { ApiError, get, post, setUnauthorizedHandler } from "./api.js";
import { fill, h, notice } from "./dom.js";
import * as events from "./events.js";
import * as people from "./people.js";
import * as fleet from "./fleet.js";
import * as alerts from "./alerts.js";

const PAGES = [
  { id: "events", title: "Activity log", module: events, least: "owner" },
  { id: "people", title: "Members, teams, repositories", module: people, least: "member" },
  { id: "fleet", title: "Fleet compliance", module: fleet, least: "member" },
  { id: "alerts", title: "Alerts", module: alerts, least: "member" },
];

const RANK = { member: 1, editor: 2, owner: 3 };

/** Whether `role` is at least `least`. */
export function atLeast(role, least) {
  return (RANK[role] || 0) >= (RANK[least] || 0);
}

const main = document.getElementById("main");
let me = null;
let renderToken = 0;

/** {org, page, params} from the location hash. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, q = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(q));
  if (parts[0] === "orgs" && parts[1]) return { org: parts[1], page: parts[2] || "", params };
  return { org: "", page: parts[0] || "", params };
}

/** The hash for a page of an organization with filters. */
export function link(org, page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#/orgs/${encodeURIComponent(org)}/${page}${s ? `?${s}` : ""}`;
}

function showSignIn(message) {
  me = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("org-picker").hidden = true;
  document.getElementById("sign-out").hidden = true;
  fill(document.getElementById("who"));
  const form = document.getElementById("signin-template").content.cloneNode(true);
  fill(main, form);
  const error = document.getElementById("signin-error");
  if (message) error.textContent = message;
  document.getElementById("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const data = new FormData(e.target);
    try {
      await post("/api/v1/auth/signin", { email: data.get("email"), password: data.get("password") });
      await route();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  document.getElementById("signin-email").focus();
}

async function signOut() {
  try {
    await post("/api/v1/auth/signout");
  } finally {
    // replaceState fires no hashchange, so the message is not redrawn away.
    history.replaceState(null, "", "#/");
    showSignIn("Signed out.");
  }
}

function drawChrome(org, pageId) {
  const role = me.organizations.find((o) => o.name === org)?.role || "";
  const nav = document.getElementById("nav");
  fill(
    nav,
    PAGES.map((p) =>
      h("a", { href: link(org, p.id), class: p.id === pageId ? "current" : "", id: `nav-${p.id}`,
        "aria-current": p.id === pageId ? "page" : false }, p.title),
    ),
  );
  nav.hidden = false;
  const select = document.getElementById("org-select");
  fill(select, me.organizations.map((o) => h("option", { value: o.name, selected: o.name === org }, o.name)));
  select.onchange = () => (location.hash = link(select.value, pageId));
  document.getElementById("org-picker").hidden = me.organizations.length < 2;
  const who = me.user ? me.user.email : "organization token";
  fill(document.getElementById("who"), `${who} · ${role}`);
  document.getElementById("sign-out").hidden = false;
  return role;
}

/** Draws the page the hash names, signing in first when needed. */
async function route() {
  const token = ++renderToken;
  if (!me) {
    try {
      me = await get("/api/v1/user");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showSignIn();
      return fill(main, notice("error", `Could not reach the server: ${err.message}`));
    }
  }
  if (me.organizations.length === 0) {
    return fill(main, notice("info", "You are not a member of any organization yet."));
  }
  let { org, page, params } = parseHash();
  const known = me.organizations.find((o) => o.name === org);
  if (!known) {
    const first = me.organizations[0];
    const landing = atLeast(first.role, "owner") ? "events" : "people";
    location.replace(link(first.name, landing));
    return;
  }
  const spec = PAGES.find((p) => p.id === page);
  if (!spec) {
    location.replace(link(org, atLeast(known.role, "owner") ? "events" : "people"));
    return;
  }
  const role = drawChrome(org, page);
  document.title = `${spec.title} · ${org} · Dockwatch`;
  const view = h("section", { class: "page", id: `page-${page}` });
  fill(main, view);
  if (!atLeast(role, spec.least)) {
    fill(view, notice("info", `${spec.title} needs the ${spec.least} role; you act as ${role} in ${org}.`));
    return;
  }
  const ctx = {
    org,
    role,
    params,
    atLeast: (least) => atLeast(role, least),
    // Replaces the filters in the hash (a new history entry), which redraws the page.
    navigate: (next) => (location.hash = link(org, page, next)),
    // Records filters in the address without redrawing (a shareable link to what is shown).
    remember: (next) => history.replaceState(null, "", link(org, page, next)),
    current: () => token === renderToken,
  };
  try {
    await spec.module.render(view, ctx);
  } catch (err) {
    if (token === renderToken) view.appendChild(notice("error", err.message));
  }
}

setUnauthorizedHandler(() => showSignIn("Your session has ended; sign in again."));
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
route();
