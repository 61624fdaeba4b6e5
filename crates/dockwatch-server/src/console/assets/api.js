// The one way the console talks to the server: same-origin fetch of the JSON API, the session
// cookie sent by the browser. Errors become ApiError with the server's message and field.

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(field ? `${message} (${field})` : message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Called on any 401, so the app can show the sign-in page. */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** The API path for an organization: orgPath("acme", "events") -> /api/v1/orgs/acme/events. */
export function orgPath(org, ...rest) {
  return `/api/v1/orgs/${[org, ...rest].map(encodeURIComponent).join("/")}`;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * Sends a request; answers {data, headers}. `body` is sent as JSON. A 401 (except on sign-in)
 * calls the unauthorized handler before throwing.
 */
export async function request(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network", `the server did not answer: ${e.message}`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    if (response.status === 401 && path !== "/api/v1/auth/signin") onUnauthorized();
    throw new ApiError(
      response.status,
      err.code || "http",
      err.message || `${method} ${path} answered ${response.status}`,
      err.field,
    );
  }
  return { data, headers: response.headers };
}

export const get = async (path) => (await request("GET", path)).data;
export const post = async (path, body) => (await request("POST", path, body)).data;
