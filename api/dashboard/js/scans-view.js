// The scans table (newest first) and the trigger form. Rows are keyed by scan id and updated
// in place on every poll, so focus (on a cancel button, say) and screen-reader position survive.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setAttr, setText } from "./dom.js";
import { formatDuration, formatFullTime, formatTime, parseTime, plural, shortId } from "./format.js";
import { isActive, progressBar, statusBadge, updateProgressBar, updateStatusBadge } from "./components.js";
import { Poller } from "./poller.js";

const PAGE = 50;
const MAX_LIMIT = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Seconds the scan has been going (active) or took (ended). */
export function elapsedSeconds(scan, now = Date.now()) {
  if (isActive(scan)) {
    const from = parseTime(scan.started_at) ?? parseTime(scan.created_at);
    return from === null ? null : (now - from) / 1000;
  }
  if (scan.duration_seconds !== null && scan.duration_seconds !== undefined) return scan.duration_seconds;
  const from = parseTime(scan.created_at);
  const to = parseTime(scan.completed_at);
  return from !== null && to !== null ? (to - from) / 1000 : null;
}

function messageFor(scan) {
  if (scan.error_message) return scan.error_message;
  if (scan.status === "pending" && scan.phase === "queued") return "waiting for a free scan slot";
  if (scan.cancel_requested && isActive(scan)) return "cancellation requested";
  if (scan.status === "completed") return `${plural(scan.total_findings, "finding")}${scan.score !== null ? ` · score ${scan.score}` : ""}`;
  return "";
}

export class ScansView {
  constructor({ api, session, connection, onAuthError }) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.onAuthError = onAuthError;
    this.root = $("#scans-view");
    this.tbody = $("#scans-table tbody");
    this.summary = $("#scans-summary");
    this.empty = $("#scans-empty");
    this.more = $("#scans-more");
    this.form = $("#trigger-form");
    this.input = $("#subscription-input");
    this.triggerButton = $("#trigger-button");
    this.triggerMessage = $("#trigger-message");
    this.datalist = $("#known-subscriptions");
    this.rows = new Map();
    this.scans = [];
    this.count = 0;
    this.limit = PAGE;
    this.ticker = null;
    this.poller = new Poller(() => this.refresh(), (err) => this.pollError(err));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.trigger();
    });
    this.more.addEventListener("click", () => {
      this.limit = Math.min(MAX_LIMIT, this.limit + PAGE);
      this.poller.now();
    });
  }

  show() {
    this.root.hidden = false;
    this.form.hidden = !this.session.isOperator;
    document.title = "Scans · OpenShield";
    this.poller.start();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  hide() {
    this.root.hidden = true;
    this.poller.stop();
    clearInterval(this.ticker);
    this.ticker = null;
  }

  reset() {
    this.rows.clear();
    this.tbody.replaceChildren();
    this.scans = [];
    setText(this.triggerMessage, "");
  }

  pollError(err) {
    if (err instanceof Unreachable) {
      this.connection.down(err.message);
      return true;
    }
    if (err instanceof ApiError && err.status === 401) return false; // signed out by the api hook
    setText(this.summary, `Could not list scans: ${err.message}`);
    return true;
  }

  /** One poll: list scans, update the table; true while any scan is active. */
  async refresh() {
    const data = await this.api.get("/api/scans", { limit: this.limit });
    this.render(data);
    return data.scans.some(isActive);
  }

  render(data) {
    this.scans = data.scans;
    this.count = data.count;
    const active = data.scans.filter(isActive).length;
    setText(
      this.summary,
      data.count === 0 ? "" : `${plural(data.count, "scan")}${active ? `, ${active} active` : ""}` +
        (data.count > data.scans.length ? ` · showing the newest ${data.scans.length}` : ""),
    );
    this.empty.hidden = data.count !== 0;
    this.more.hidden = !(data.count > data.scans.length && this.limit < MAX_LIMIT);
    const seen = new Set();
    data.scans.forEach((scan, index) => {
      seen.add(scan.scan_id);
      let row = this.rows.get(scan.scan_id);
      if (!row) {
        row = this.createRow(scan);
        this.rows.set(scan.scan_id, row);
      }
      this.updateRow(row, scan);
      const at = this.tbody.children[index];
      if (at !== row.tr) this.tbody.insertBefore(row.tr, at || null);
    });
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    this.updateSubscriptions(data.scans);
  }

  createRow(scan) {
    const short = shortId(scan.scan_id);
    const cells = {
      id: h("td", { class: "mono" }, h("a", { href: `#/scans/${scan.scan_id}`, "aria-label": `Scan ${short}: details and findings` }, short)),
      status: h("td", {}, statusBadge(scan.status)),
      subscription: h("td", { class: "mono truncate" }),
      phase: h("td"),
      progress: h("td", { class: "col-progress" }, progressBar(scan)),
      elapsed: h("td", { class: "num" }),
      process: h("td", { class: "mono" }),
      started: h("td", {}, h("time")),
      message: h("td", { class: "col-message" }),
      actions: h("td", { class: "actions" }),
    };
    const tr = h("tr", { dataset: { scanId: scan.scan_id } }, Object.values(cells));
    return { tr, cells, cancelButton: null };
  }

  updateRow(row, scan) {
    const { cells } = row;
    row.scan = scan;
    setAttr(row.tr, "data-status", scan.status);
    updateStatusBadge(cells.status.firstChild, scan.status);
    setText(cells.subscription, scan.subscription_id);
    setAttr(cells.subscription, "title", scan.subscription_id);
    setText(cells.phase, scan.phase);
    updateProgressBar(cells.progress.firstChild, scan);
    setText(cells.elapsed, formatDuration(elapsedSeconds(scan)));
    setText(cells.process, scan.pid ? `${scan.pid} @ ${scan.host}` : scan.host ? `— @ ${scan.host}` : "—");
    setAttr(cells.process, "title", scan.pid ? `process ${scan.pid} on host ${scan.host}` : null);
    const time = cells.started.firstChild;
    const when = scan.started_at || scan.created_at;
    setText(time, formatTime(when));
    setAttr(time, "datetime", when);
    setAttr(time, "title", `${scan.started_at ? "started" : "created"} ${formatFullTime(when)}`);
    setText(cells.message, messageFor(scan));
    cells.message.classList.toggle("error-text", scan.status === "failed");
    this.updateActions(row, scan);
  }

  updateActions(row, scan) {
    const canCancel = this.session.isOperator && isActive(scan);
    if (!canCancel) {
      if (row.cancelButton) {
        // keep keyboard users in the row when the button they were on goes away
        const hadFocus = document.activeElement === row.cancelButton;
        row.cancelButton.remove();
        row.cancelButton = null;
        if (hadFocus) row.cells.id.querySelector("a").focus();
      }
      return;
    }
    if (!row.cancelButton) {
      row.cancelButton = h("button", { type: "button", class: "button-danger", onclick: () => this.cancel(row) });
      row.cells.actions.appendChild(row.cancelButton);
    }
    const stopping = scan.cancel_requested || row.cancelPending;
    setText(row.cancelButton, stopping ? "Cancelling…" : "Cancel");
    row.cancelButton.disabled = Boolean(stopping);
    setAttr(row.cancelButton, "aria-label", `${stopping ? "Cancelling" : "Cancel"} scan ${shortId(scan.scan_id)}`);
  }

  /** Between polls, keep the elapsed time of active scans ticking. */
  tick() {
    for (const row of this.rows.values()) {
      if (row.scan && isActive(row.scan)) setText(row.cells.elapsed, formatDuration(elapsedSeconds(row.scan)));
    }
  }

  updateSubscriptions(scans) {
    const subs = [...new Set(scans.map((s) => s.subscription_id))].sort();
    const current = [...this.datalist.options].map((o) => o.value);
    if (subs.join() !== current.join()) replaceChildren(this.datalist, subs.map((s) => h("option", { value: s })));
  }

  async trigger() {
    const subscription = this.input.value.trim();
    if (subscription && !UUID.test(subscription)) {
      this.say(`"${subscription}" is not a subscription id (expected a UUID like 11111111-2222-4333-8444-555555555555).`, true);
      this.input.setAttribute("aria-invalid", "true");
      this.input.focus();
      return;
    }
    this.input.removeAttribute("aria-invalid");
    this.triggerButton.disabled = true;
    this.say("Starting a scan…");
    try {
      const body = subscription ? { subscription_id: subscription } : {};
      const answer = await this.api.post("/api/scans/trigger", body);
      this.say(`Scan ${shortId(answer.scan_id)} accepted: ${answer.message}.`);
      this.input.value = "";
      // Show the new scan at once; the poll that follows fills in the rest.
      const now = new Date().toISOString();
      const placeholder = {
        scan_id: answer.scan_id, subscription_id: subscription.toLowerCase() || "(server default)", status: answer.status,
        phase: "starting", error_message: null, rules_completed: 0, total_rules: 0, progress: 0, created_at: now,
        started_at: null, completed_at: null, duration_seconds: null, pid: null, host: null, cancel_requested: false,
        total_findings: 0, score: null,
      };
      if (!this.rows.has(answer.scan_id)) this.render({ count: (this.count || 0) + 1, scans: [placeholder, ...this.scans] });
      this.rows.get(answer.scan_id)?.tr.classList.add("is-new");
      this.poller.now();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body.scan_id) {
        this.say(`${err.message}: scan ${shortId(err.body.scan_id)}.`, true, err.body.scan_id);
      } else if (err instanceof Unreachable) {
        this.say(`Could not start the scan: ${err.message}. Try again when the API is back.`, true);
      } else {
        this.say(`Could not start the scan: ${err.message}`, true);
      }
    } finally {
      this.triggerButton.disabled = false;
    }
  }

  say(text, isError = false, scanId = null) {
    this.triggerMessage.classList.toggle("form-error", isError);
    if (scanId) {
      replaceChildren(this.triggerMessage, text, " ", h("a", { href: `#/scans/${scanId}` }, "Open it"));
    } else {
      setText(this.triggerMessage, text);
    }
  }

  async cancel(row) {
    const scan = row.scan;
    const short = shortId(scan.scan_id);
    if (!window.confirm(`Cancel scan ${short} of subscription ${scan.subscription_id}?`)) return;
    row.cancelPending = true;
    this.updateActions(row, scan);
    try {
      const answer = await this.api.post(`/api/scans/${scan.scan_id}/cancel`);
      this.say(answer.status === "cancelled" ? `Scan ${short} cancelled.` : `Scan ${short}: ${answer.message}.`);
    } catch (err) {
      row.cancelPending = false;
      this.say(`Could not cancel scan ${short}: ${err.message}`, true);
    }
    this.poller.now();
  }
}
