// Every call the console makes: same origin, the operator's key as X-API-Key, JSON both ways. The key lives
// in this tab's session storage only (gone when the tab closes; never a cookie, never local storage), and
// nothing else about the operator is kept.

const KEY_NAME = "leadenrich.console.apiKey";

// The page is served at `<base>/console`: the API's routes sit beside it (`<base>` is "" on the `$default`
// stage, as deployed and locally; a named stage would be "/stage").
export const BASE = location.pathname.replace(/\/console\/?$/, "");

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_NAME);
  },
  save(key) {
    sessionStorage.setItem(KEY_NAME, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_NAME);
  },
};

export class ApiError extends Error {
  constructor(status, message, field = null, retryAfter = null) {
    super(message);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
  }

  /** The key is missing (401) or refused (403): the console signs out. */
  get refusedKey() {
    return this.status === 401 || this.status === 403;
  }
}

const listeners = new Set();

/** `listener(simulated)` after every answer: whether the stack runs on the provider simulator. */
export function onSimulated(listener) {
  listeners.add(listener);
}

function describe(status, data) {
  if (status === 401) return "HTTP 401 Unauthorized: the API received no key";
  if (status === 403) return "HTTP 403 Forbidden: the API refused this key (unknown, malformed or revoked)";
  const message = data && typeof data.message === "string" ? data.message : "the request failed";
  const field = data && typeof data.field === "string" ? ` (${data.field})` : "";
  return `HTTP ${status}: ${message}${field}`;
}

/** One API call; resolves to the JSON answer or rejects with an ApiError. */
export async function call(method, path, { body, query, key } = {}) {
  const apiKey = key ?? session.key;
  if (!apiKey) throw new ApiError(401, describe(401, null));
  const url = new URL(BASE + path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const headers = { "X-API-Key": apiKey, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
  } catch {
    throw new ApiError(0, "The API could not be reached: check the connection and try again");
  }
  const simulated = response.headers.get("x-simulated") === "true";
  listeners.forEach((listener) => listener(simulated));
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const field = data && typeof data.field === "string" ? data.field : null;
    throw new ApiError(response.status, describe(response.status, data), field, response.headers.get("retry-after"));
  }
  return data;
}
