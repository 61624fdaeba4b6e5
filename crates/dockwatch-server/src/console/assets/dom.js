// Building the page from data without ever parsing strings as HTML: every value goes through
// textContent or an attribute, so server data cannot inject markup (the CSP's Trusted Types
// setting would refuse any HTML-parsing sink anyway).

/** An element: h("a", {href: "#/", class: "x", onclick: fn}, "text", child...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table: columns are [header, row => cell content, optional class]; `onRow` makes rows
 * clickable (and keyboard-activatable).
 */
export function table(columns, rows, { id, empty = "Nothing to show.", onRow } = {}) {
  if (rows.length === 0) return h("p", { class: "empty", id }, empty);
  const head = h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)));
  const body = rows.map((row) => {
    const tr = h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(row))));
    if (onRow) {
      tr.classList.add("clickable");
      tr.tabIndex = 0;
      tr.addEventListener("click", () => onRow(row, tr));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter") onRow(row, tr);
      });
    }
    return tr;
  });
  return h("table", { id }, h("thead", {}, head), h("tbody", {}, body));
}

/** A value for display: strings as they are, everything else as compact JSON. */
export function show(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** An RFC 3339 time in the viewer's locale, the exact value in the tooltip. */
export function when(rfc3339) {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return h("time", { datetime: rfc3339, title: rfc3339 }, d.toLocaleString());
}

/** Milliseconds since the epoch, as `when` does. */
export function whenMs(ms) {
  return ms ? when(new Date(ms).toISOString()) : "";
}

/** A status word as a coloured badge (the class is the status). */
export function badge(status) {
  return h("span", { class: `badge status-${String(status).replace(/[^a-z-]/g, "")}` }, status);
}

/** A one-line message: kind is "ok", "error" or "info". */
export function notice(kind, text, id) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status", id }, text);
}

/** A section heading with optional controls on the right. */
export function heading(title, ...controls) {
  return h("div", { class: "heading" }, h("h2", {}, title), h("div", { class: "controls" }, controls));
}
