// Start-up: theme, session, and the router between the sign-in form and the views (overview,
// findings explorer, compliance, scans, one scan). Routes are URL fragments (see router.js).
import { Api, ApiError, Unreachable } from "./api.js";
import { ComplianceView } from "./compliance-view.js";
import { Connection } from "./connection.js";
import { $, setText } from "./dom.js";
import { ExplorerView } from "./explorer-view.js";
import { MutesView } from "./mutes-view.js";
import { OverviewView } from "./overview-view.js";
import { SchedulesView } from "./schedules-view.js";
import { Router } from "./router.js";
import { ScanView } from "./scan-view.js";
import { ScansView } from "./scans-view.js";
import { Session, TokenProblem, decodeToken } from "./session.js";
import { initTheme } from "./theme.js";

const session = new Session();
const connection = new Connection($("#connection"));
const api = new Api(() => session.token, {
  // A token that stops working (new secret, revoked, expired) ends the session with the
  // server's reason; the URL is kept, so signing in again returns to the same view.
  onUnauthorized: (err) => signOut(`Your session ended: the API no longer accepts this token (${err.message}). Sign in again with a new token.`),
  onReachable: () => connection.ok(),
});

let catalogue = null;
const scansView = new ScansView({ api, session, connection });
let scanView = null;
const context = { api, session, connection, getCatalogue: () => loadCatalogue().catch(() => []) };

const router = new Router()
  .add("scan", /^\/scans\/([0-9a-fA-F-]{36})$/, () => ({
    show: (match) => showScan(match[1].toLowerCase()),
    hide: () => scanView?.hide(),
  }), "scans")
  .add("scans", /^\/scans$/, () => scansView, "scans")
  .add("findings", /^\/findings$/, () => new ExplorerView(context), "findings")
  .add("compliance", /^\/compliance(?:\/([a-z0-9-]+))?$/, () => new ComplianceView(context), "compliance")
  .add("schedules", /^\/schedules$/, () => new SchedulesView(context), "schedules")
  .add("mutes", /^\/mutes$/, () => new MutesView(context), "mutes")
  .add("overview", /^\/?$/, () => new OverviewView(context), "overview");

const signinView = $("#signin-view");
const signinForm = $("#signin-form");
const tokenInput = $("#token-input");
const signinError = $("#signin-error");
const sessionInfo = $("#session-info");
const signOutButton = $("#sign-out");

/** The rule catalogue (titles, categories), fetched once per sign-in. */
async function loadCatalogue() {
  if (catalogue) return catalogue;
  const data = await api.get("/api/rules");
  catalogue = data.rules;
  return catalogue;
}

function showSignIn(message = "") {
  router.hideAll();
  scansView.hide();
  scanView?.hide();
  signinView.hidden = false;
  $("#main-nav").hidden = true;
  sessionInfo.hidden = true;
  signOutButton.hidden = true;
  document.title = "Sign in · OpenShield";
  setText(signinError, message);
  tokenInput.focus();
}

function signOut(message = "") {
  const wasSignedIn = session.signedIn;
  session.signOut();
  catalogue = null;
  scansView.reset();
  router.reset();
  if (wasSignedIn || message) showSignIn(message);
}

function showSession() {
  signinView.hidden = true;
  $("#main-nav").hidden = false;
  sessionInfo.hidden = false;
  signOutButton.hidden = false;
  const who = session.subject ? `${session.subject}, ` : "";
  setText(sessionInfo, `Signed in (${who}${session.role})`);
  sessionInfo.dataset.role = session.role;
}

async function route() {
  if (!session.signedIn) {
    showSignIn(signinError.textContent);
    return;
  }
  showSession();
  router.go(location.hash);
}

async function showScan(scanId) {
  try {
    await loadCatalogue();
  } catch (err) {
    if (err instanceof Unreachable) connection.down(err.message);
    catalogue = catalogue || [];
  }
  if (!session.signedIn) return;
  scanView = scanView || new ScanView({ api, session, connection, catalogue });
  scanView.catalogue = catalogue;
  scanView.show(scanId);
}

signinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) {
    setText(signinError, "Paste a token first.");
    return;
  }
  let claims;
  try {
    claims = decodeToken(token);
  } catch (err) {
    setText(signinError, err instanceof TokenProblem ? err.message : "That token cannot be read.");
    return;
  }
  // Ask the server before trusting it: the signature is only checked there.
  session.signIn(token, claims);
  try {
    await api.get("/api/scans", { limit: 1 });
  } catch (err) {
    session.signOut();
    if (err instanceof ApiError) setText(signinError, `The API refused this token: ${err.message}.`);
    else setText(signinError, `Cannot reach the API: ${err.message}.`);
    return;
  }
  tokenInput.value = "";
  setText(signinError, "");
  route();
  $("#main").focus();
});

signOutButton.addEventListener("click", () => {
  if (session.platform && platformLogout) {
    location.assign(platformLogout); // App Service ends its own session
    return;
  }
  signOut("Signed out.");
});

// Behind App Service Authentication: offer "Sign in with Microsoft", and let the platform's
// session sign the user in without a token. Elsewhere (or if the API cannot say) nothing changes.
let platformLogout = null;
async function platformSignIn() {
  let info;
  try {
    info = await api.get("/api/session");
  } catch {
    return;
  }
  if (!info || !info.sign_in || !info.sign_in.easy_auth) return;
  platformLogout = info.sign_in.logout_url;
  $("#signin-microsoft-link").href = info.sign_in.login_url;
  $("#signin-microsoft").hidden = false;
  if (info.principal && info.principal.kind === "easyauth" && !session.signedIn) {
    session.signInWithPlatform(info.principal);
  } else if (info.refused && !session.signedIn) {
    setText(signinError, `Signed in with Microsoft, but ${info.refused}.`);
  }
}

// Expired tokens: sign out just before the server would refuse every call.
setInterval(() => {
  if (session.signedIn && session.expiresIn !== null && session.expiresIn <= 0) {
    signOut("Your token expired. Paste a new one.");
  }
}, 5000);

// A tab brought back to the front refreshes at once instead of waiting for its timer.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible" || !session.signedIn) return;
  if (!$("#scans-view").hidden) scansView.poller.now();
  else if (scanView && !$("#scan-view").hidden) scanView.poller.now();
  else router.current?.built?.poller?.now();
});

window.addEventListener("hashchange", route);
initTheme($("#theme-toggle"));
platformSignIn().finally(route);
