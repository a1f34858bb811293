// The HTTP API client: JSON in, JSON out, errors as exceptions that say what happened.
// Same origin only (the CSP allows nothing else), so the token never leaves this server.

const TIMEOUT_MS = 10000;

/** The server answered with an error status; `message` is the API's own `error` text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || {};
  }
}

/** The server could not be reached (or did not answer in time, or answered garbage). */
export class Unreachable extends Error {}

export class Api {
  /** @param {() => string|null} getToken */
  constructor(getToken, { onUnauthorized = () => {}, onReachable = () => {} } = {}) {
    this.getToken = getToken;
    this.onUnauthorized = onUnauthorized;
    this.onReachable = onReachable;
  }

  async request(method, path, body) {
    // X-Requested-With: no cross-site form can send it, so the API knows a write signed in by
    // App Service's cookie comes from this page. The cookie itself goes same-origin only.
    const headers = { Accept: "application/json", "X-Requested-With": "openshield-dashboard" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: "no-store", credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new Unreachable(err && err.name === "AbortError" ? "the API did not answer in time" : "the API cannot be reached");
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    const text = await response.text().catch(() => "");
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    // A proxy's HTML error page or a gateway timeout means the API itself is not answering.
    if (data === null && (response.status >= 500 || !response.ok)) {
      throw new Unreachable(`the API answered HTTP ${response.status}`);
    }
    this.onReachable();
    if (!response.ok) {
      const message = data && typeof data.error === "string" ? data.error : `HTTP ${response.status}`;
      const error = new ApiError(response.status, message, data);
      if (response.status === 401) this.onUnauthorized(error);
      // 503 is the API saying its database is unavailable: as good as unreachable for a page.
      if (response.status === 503) throw new Unreachable(message);
      throw error;
    }
    return data;
  }

  get(path, params) {
    const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined)) : null;
    return this.request("GET", query && query.toString() ? `${path}?${query}` : path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  patch(path, body) {
    return this.request("PATCH", path, body);
  }

  delete(path) {
    return this.request("DELETE", path);
  }

  /**
   * A file the API streams (an export): fetched with the bearer token, since a plain link
   * cannot carry it, and handed back as a Blob with the server's file name. Errors as request().
   */
  async download(path, params) {
    const query = params ? new URLSearchParams(params).toString() : "";
    const headers = { "X-Requested-With": "openshield-dashboard" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(query ? `${path}?${query}` : path, { headers, cache: "no-store", credentials: "same-origin" });
    } catch {
      throw new Unreachable("the API cannot be reached");
    }
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch {
        throw new Unreachable(`the API answered HTTP ${response.status}`);
      }
      this.onReachable();
      const error = new ApiError(response.status, data && typeof data.error === "string" ? data.error : `HTTP ${response.status}`, data);
      if (response.status === 401) this.onUnauthorized(error);
      throw error;
    }
    this.onReachable();
    const disposition = response.headers.get("Content-Disposition") || "";
    const named = /filename="?([^";]+)"?/.exec(disposition);
    return { blob: await response.blob(), filename: named ? named[1] : "openshield-export" };
  }
}
