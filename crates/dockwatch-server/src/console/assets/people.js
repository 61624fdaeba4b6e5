// Members, teams (with their members) and repositories of the organization.
// API: GET /orgs/{org}/members, /teams, /teams/{team}/members, /repositories.

import { get, orgPath } from "./api.js";
import { badge, fill, h, heading, notice, table, when } from "./dom.js";

/** Teams whose member lists are fetched up front; beyond, a click shows them. */
const TEAM_MEMBERS_UP_FRONT = 50;

export async function render(view, ctx) {
  const [members, teams, repos] = await Promise.all([
    get(orgPath(ctx.org, "members")),
    get(orgPath(ctx.org, "teams")),
    get(orgPath(ctx.org, "repositories")),
  ]);
  if (!ctx.current()) return;
  const teamMembers = new Map(
    await Promise.all(
      teams.slice(0, TEAM_MEMBERS_UP_FRONT).map(async (t) => [t.name, await get(orgPath(ctx.org, "teams", t.name, "members"))]),
    ),
  );
  if (!ctx.current()) return;

  const teamCell = (t) => {
    const list = teamMembers.get(t.name);
    if (list) return list.map((m) => m.email).join(", ");
    const out = h("span", {});
    const button = h("button", { type: "button", class: "link" }, `show ${t.member_count}`);
    button.addEventListener("click", async () => {
      try {
        const got = await get(orgPath(ctx.org, "teams", t.name, "members"));
        fill(out, got.map((m) => m.email).join(", "));
      } catch (err) {
        fill(out, notice("error", err.message));
      }
    });
    return fill(out, button);
  };

  fill(
    view,
    heading(`Members (${members.length})`),
    table(
      [
        ["Email", (m) => m.email],
        ["Name", (m) => m.name],
        ["Role", (m) => badge(m.role)],
        ["Joined", (m) => when(m.joined_at), "nowrap"],
      ],
      members,
      { id: "member-table", empty: "No members." },
    ),
    heading(`Teams (${teams.length})`),
    table(
      [
        ["Team", (t) => t.name],
        ["Description", (t) => t.description],
        ["Members", teamCell],
        ["Created", (t) => when(t.created_at), "nowrap"],
      ],
      teams,
      { id: "team-table", empty: "No teams yet (dockwatch team create NAME)." },
    ),
    heading(`Repositories (${repos.length})`),
    table(
      [
        ["Repository", (r) => r.name],
        ["Visibility", (r) => badge(r.visibility)],
        ["Description", (r) => r.description],
        ["Last change", (r) => when(r.updated_at), "nowrap"],
      ],
      repos,
      { id: "repository-table", empty: "No repositories yet (dockwatch repo create NAME)." },
    ),
  );
}
