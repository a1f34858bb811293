// The signed-in token: kept in sessionStorage (this tab only, gone when it closes), never in
// localStorage or a cookie. The role claim is read here only to shape the UI; the server
// checks the signature and the role on every request. Behind App Service Authentication the
// platform's own session (its cookie) signs the user in instead: no token, the principal that
// GET /api/session reported.

const KEY = "openshield.token";
// Entra ID access tokens carry app roles instead of a role claim (the server maps them the same way).
const APP_ROLES = { "OpenShield.Operator": "operator", "OpenShield.Reader": "reader" };

/** The token's role: its `role` claim, or the highest OpenShield app role in `roles`. */
function roleOf(claims) {
  if (claims.role === "reader" || claims.role === "operator") return claims.role;
  const roles = Array.isArray(claims.roles) ? claims.roles.map((r) => APP_ROLES[r]) : [];
  if (roles.includes("operator")) return "operator";
  return roles.includes("reader") ? "reader" : null;
}

export class TokenProblem extends Error {}

/** The JWT payload, or TokenProblem saying why the text is not a usable token. */
export function decodeToken(token) {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new TokenProblem("That is not an API token (a token has three parts separated by dots).");
  }
  let claims;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new TokenProblem("That token is malformed (its payload is not readable).");
  }
  if (!claims || typeof claims !== "object") throw new TokenProblem("That token is malformed.");
  const role = roleOf(claims);
  if (role === null) {
    throw new TokenProblem("That token has no reader or operator role (nor an OpenShield app role).");
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    throw new TokenProblem(`That token expired at ${new Date(claims.exp * 1000).toLocaleString()}.`);
  }
  // Entra ID tokens name the user in preferred_username; service tokens in sub
  const sub = typeof claims.preferred_username === "string" ? claims.preferred_username : claims.sub;
  return { ...claims, role, sub };
}

export class Session {
  constructor(storage = window.sessionStorage) {
    this.storage = storage;
    this.token = null;
    this.claims = null;
    this.platform = null;
    const saved = storage.getItem(KEY);
    if (saved) {
      try {
        this.claims = decodeToken(saved);
        this.token = saved;
      } catch {
        storage.removeItem(KEY);
      }
    }
  }

  get signedIn() {
    return this.token !== null || this.platform !== null;
  }

  get role() {
    if (this.claims) return this.claims.role;
    return this.platform ? this.platform.role : null;
  }

  /** Who the session is for (the token's sub, or the platform's user name), or null. */
  get subject() {
    if (this.claims) return this.claims.sub || null;
    return this.platform ? this.platform.subject : null;
  }

  /** Signed in by App Service (principal from GET /api/session, kind "easyauth"). */
  signInWithPlatform(principal) {
    this.platform = principal;
  }

  get isOperator() {
    return this.role === "operator";
  }

  /** Seconds until the token expires (null if it does not say). */
  get expiresIn() {
    return this.claims && typeof this.claims.exp === "number" ? this.claims.exp - Date.now() / 1000 : null;
  }

  signIn(token, claims) {
    this.token = token;
    this.claims = claims;
    this.storage.setItem(KEY, token);
  }

  signOut() {
    this.token = null;
    this.claims = null;
    this.platform = null;
    this.storage.removeItem(KEY);
  }
}
