// The overview (#/, the landing page): the estate's score, findings per severity, each
// subscription (name and state from /api/subscriptions, latest scan, score and its trend from
// /api/score/history, new/resolved since the previous scan from /api/scans/<id>/diff, active
// progress, schedules, a Scan button for operators; "Scan all" asks the API to scan every
// visible subscription) and the rules failing on the most resources.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { formatFullTime, formatTime, plural, shortId } from "./format.js";
import { SEVERITIES, isActive, progressBar, severityBadge, statusBadge } from "./components.js";
import { Poller } from "./poller.js";
import { hashFor } from "./router.js";
import { sparkline } from "./sparkline.js";

const SCANS_LOOKED_AT = 200;
const TOP_RULES = 10;
const HISTORY_DAYS = 30;
// Diffs are asked for at most this many subscriptions per refresh (each is cached by scan id:
// a completed scan's diff never changes), so a large estate does not flood the API.
const DIFFS_PER_REFRESH = 20;
const COLUMNS = ["Subscription", "State", "Latest scan", "Last completed", "Score", "Trend (30 days)", "Findings",
  "New / resolved", "Progress", "Schedule"];

/** The score history's points grouped by subscription, oldest first: id -> [score, …]. */
export function trendsBySubscription(points) {
  const trends = new Map();
  for (const p of points) {
    if (!trends.has(p.subscription_id)) trends.set(p.subscription_id, []);
    trends.get(p.subscription_id).push(p.score);
  }
  return trends;
}

/** "nightly (next 02:00)", "paused", … for a subscription's schedules; "—" when none. */
export function scheduleText(schedules) {
  if (!schedules || !schedules.length) return "—";
  return schedules.map((s) => {
    const name = s.name || "schedule";
    const scope = s.target === "all" ? ", every subscription" : "";
    if (!s.enabled) return `${name} (paused${scope})`;
    return `${name} (next ${s.next_run_at ? formatTime(s.next_run_at) : "—"}${scope})`;
  }).join("; ");
}

/** The newest scan of each subscription (the API lists scans newest first). */
export function latestPerSubscription(scans) {
  const latest = new Map();
  for (const scan of scans) if (!latest.has(scan.subscription_id)) latest.set(scan.subscription_id, scan);
  return latest;
}

export class OverviewView {
  constructor({ api, session, connection }) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.root = $("#overview-view");
    this.poller = new Poller(() => this.refresh(), (err) => this.pollError(err));
    this.message = "";
  }

  show() {
    this.root.hidden = false;
    document.title = "Overview · OpenShield";
    if (!this.body) {
      this.body = h("div", { id: "overview-body" }, h("p", { class: "muted" }, "Loading…"));
      this.notice = h("p", { id: "overview-message", role: "status", "aria-live": "polite", class: "trigger-message" });
      replaceChildren(this.root,
        h("div", { class: "view-head" }, h("h1", { id: "overview-title", tabindex: "-1" }, "Overview"),
          h("p", { class: "muted" }, "The current posture: the latest completed scan of each subscription.")),
        this.notice, this.body);
    }
    this.poller.start();
  }

  hide() {
    this.root.hidden = true;
    this.poller.stop();
  }

  pollError(err) {
    if (err instanceof Unreachable) {
      this.connection.down(err.message);
      return true;
    }
    if (err instanceof ApiError && err.status === 401) return false;
    replaceChildren(this.body, h("p", { class: "form-error", role: "alert" }, `Could not load the overview: ${err.message}`));
    return true;
  }

  async refresh() {
    const [score, scans, top, listed, history] = await Promise.all([
      this.api.get("/api/score"),
      this.api.get("/api/scans", { limit: SCANS_LOOKED_AT }),
      this.api.get("/api/findings/groups", { sort: "count", limit: TOP_RULES }),
      this.optional(this.api.get("/api/subscriptions")),
      this.optional(this.api.get("/api/score/history", { days: HISTORY_DAYS })),
    ]);
    const latest = latestPerSubscription(scans.scans);
    const active = [...latest.values()].some(isActive);
    await this.loadDiffs(score.subscriptions);
    this.render(score, latest, top, listed, history);
    return active;
  }

  /**
   * The estate's extras: a 502 (ARM cannot be listed) or an older API leaves a column empty
   * and says so, instead of failing the whole page. An unreachable API or a 401 still does.
   */
  async optional(request) {
    try {
      return await request;
    } catch (err) {
      if (err instanceof Unreachable || (err instanceof ApiError && err.status === 401)) throw err;
      return { error: err.message };
    }
  }

  /** New/resolved counts of each subscription's latest completed scan, cached by scan id. */
  async loadDiffs(postures) {
    this.diffs = this.diffs || new Map();
    const wanted = postures.filter((p) => p.scan_id && !this.diffs.has(p.scan_id)).slice(0, DIFFS_PER_REFRESH);
    await Promise.all(wanted.map(async (p) => {
      try {
        const diff = await this.api.get(`/api/scans/${p.scan_id}/diff`);
        this.diffs.set(p.scan_id, { new: diff.new.length, resolved: diff.resolved.length, first: diff.against === null,
          bySeverity: severityChange(diff) });
      } catch (err) {
        if (err instanceof Unreachable || (err instanceof ApiError && err.status === 401)) throw err;
        this.diffs.set(p.scan_id, { error: err.message });
      }
    }));
  }

  render(score, latest, top, listed = {}, history = {}) {
    const posture = new Map(score.subscriptions.map((s) => [s.subscription_id, s]));
    const totals = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    for (const s of score.subscriptions) for (const sev of SEVERITIES) totals[sev] += s.findings_by_severity[sev] || 0;
    const known = new Map((listed.subscriptions || []).map((s) => [s.subscription_id, s]));
    const trends = trendsBySubscription(history.points || []);
    const subscriptions = [...new Set([...known.keys(), ...posture.keys(), ...latest.keys()])].sort((a, b) => {
      const na = known.get(a)?.display_name || "~";
      const nb = known.get(b)?.display_name || "~";
      return na === nb ? a.localeCompare(b) : na.localeCompare(nb);
    });
    if (!subscriptions.length) {
      this.parts = null;
      replaceChildren(this.body, h("p", { class: "empty", id: "overview-empty" },
        "No subscription has been scanned yet. ", this.session.isOperator
          ? this.scanButton(null, "Scan the default subscription")
          : "An operator can start the first scan."));
      return;
    }
    if (!this.parts) this.buildParts();
    const p = this.parts;
    setText(p.score, score.overall_score === null ? "—" : String(score.overall_score));
    setText(p.scoreNote, score.overall_score === null ? "no completed scan" : `mean of ${plural(score.subscriptions.length, "subscription")}, out of 100`);
    // change since each subscription's previous scan, summed (first scans count as no change:
    // every failure of a first scan is "new", which says nothing about a trend)
    const change = Object.fromEntries(SEVERITIES.map((sev) => [sev, 0]));
    let compared = 0;
    for (const s of score.subscriptions) {
      const d = this.diffs.get(s.scan_id);
      if (!d || d.error || d.first) continue;
      compared += 1;
      for (const sev of SEVERITIES) change[sev] += d.bySeverity[sev];
    }
    for (const s of SEVERITIES) {
      setText(p.sevCounts[s].n, String(totals[s]));
      setText(p.sevCounts[s].change, compared ? signed(change[s]) : "");
      p.sevCounts[s].link.setAttribute("aria-label", `${plural(totals[s], `${s.toLowerCase()} finding`)}${compared ? ` (${signed(change[s])} since the previous scans)` : ""}: explore them`);
    }
    // rows keyed by subscription and rebuilt only when their data changed, so polling every
    // 2 s keeps keyboard focus (on a Scan button, say) and the screen-reader position
    const wanted = new Set(subscriptions);
    for (const [id, entry] of p.rows) if (!wanted.has(id)) { entry.row.remove(); p.rows.delete(id); }
    let previous = null;
    for (const id of subscriptions) {
      const scan = latest.get(id);
      const info = known.get(id) || null;
      const diff = posture.get(id) ? this.diffs.get(posture.get(id).scan_id) || null : null;
      const trend = trends.get(id) || [];
      const signature = JSON.stringify([posture.get(id) || null, info, diff, trend, scan ? [scan.scan_id, scan.status, scan.progress, scan.phase, scan.rules_completed, scan.resources_collected, scan.collection] : null, this.session.isOperator]);
      let entry = p.rows.get(id);
      if (!entry || entry.signature !== signature) {
        const row = this.subscriptionRow(id, posture.get(id), scan, { info, diff, trend });
        const hadFocus = entry && entry.row.contains(document.activeElement);
        if (entry) entry.row.replaceWith(row);
        entry = { row, signature };
        p.rows.set(id, entry);
        if (hadFocus) (row.querySelector("button, a") || row).focus?.();
      }
      if (previous ? previous.nextSibling !== entry.row : p.tbody.firstChild !== entry.row) {
        if (previous) previous.after(entry.row);
        else p.tbody.prepend(entry.row);
      }
      previous = entry.row;
    }
    setText(p.listNote, listed.error
      ? `The subscriptions Azure lists could not be read (${listed.error}); showing the scanned ones.`
      : "");
    p.listNote.hidden = !listed.error;
    const topSignature = JSON.stringify(top.groups);
    if (topSignature !== p.topSignature) {
      p.topSignature = topSignature;
      replaceChildren(p.top, top.groups.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "top-rules-table" },
          h("caption", { class: "visually-hidden" }, "Rules failing on the most resources"),
          h("thead", {}, h("tr", {}, ["Severity", "Rule", "Title", "Failed resources"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, top.groups.map((g) => h("tr", { dataset: { ruleId: g.rule_id } },
            h("td", {}, severityBadge(g.severity)),
            h("td", {}, h("a", { class: "mono", href: hashFor("/findings", { rule_id: g.rule_id }) }, g.rule_id)),
            h("td", {}, g.rule_name),
            h("td", { class: "num" }, String(g.failed)))))))
        : h("p", { class: "muted", id: "top-rules-empty" }, "No rule fails on any resource."));
    }
  }

  /** The page's fixed parts, built once; render() then changes only what changed. */
  buildParts() {
    const p = { rows: new Map(), sevCounts: {}, topSignature: null };
    p.listNote = h("p", { class: "alert", id: "subscriptions-note", hidden: true });
    p.score = h("span", { class: "card-value", id: "overview-score" });
    p.scoreNote = h("span", { class: "card-note" });
    const sevItems = SEVERITIES.map((s) => {
      const n = h("span", { class: "sev-count-n" });
      const change = h("span", { class: "sev-count-change", title: "change since each subscription's previous scan" });
      const link = h("a", { class: `sev-count sev-${s.toLowerCase()}`, href: hashFor("/findings", { severity: s }), dataset: { severity: s } }, n, h("span", {}, s), change);
      p.sevCounts[s] = { n, link, change };
      return h("li", {}, link);
    });
    const cards = h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-label" }, "Estate score"), p.score, p.scoreNote),
      h("div", { class: "card card-wide" }, h("span", { class: "card-label", id: "overview-sev-label" }, "Current findings by severity"),
        h("ul", { class: "severity-counts", "aria-labelledby": "overview-sev-label" }, sevItems)));
    p.tbody = h("tbody");
    const table = h("div", { class: "table-wrap" }, h("table", { class: "data", id: "subscriptions-table" },
      h("caption", { class: "visually-hidden" }, "Subscriptions"),
      h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
      p.tbody));
    p.scanAll = this.session.isOperator
      ? h("button", { type: "button", class: "button-primary", id: "scan-all", "aria-describedby": "scan-all-help",
        onclick: () => this.scanAll() }, "Scan all")
      : null;
    p.top = h("div", { id: "top-rules" });
    this.parts = p;
    replaceChildren(this.body, cards,
      h("section", { "aria-labelledby": "subs-title" },
        h("div", { class: "view-head" }, h("h2", { id: "subs-title" }, "Subscriptions"), p.scanAll ? h("div", { class: "head-actions" }, p.scanAll,
          h("span", { id: "scan-all-help", class: "help" }, "every subscription Azure lists that has no active scan")) : null),
        p.listNote, table),
      h("section", { "aria-labelledby": "top-rules-title" }, h("h2", { id: "top-rules-title" }, "Top failing rules"), p.top));
  }

  /** One request: the API queues a scan of every visible subscription without an active one. */
  async scanAll() {
    const button = this.parts?.scanAll;
    if (!button) return;
    button.disabled = true;
    try {
      const answer = await this.api.post("/api/scans/trigger", { all: true });
      setText(this.notice, scanAllMessage(answer));
    } catch (err) {
      if (err instanceof ApiError && err.body && Array.isArray(err.body.scans)) setText(this.notice, `Could not start any scan: ${scanAllMessage(err.body)}`);
      else setText(this.notice, `Could not start the scans: ${err.message}`);
    }
    button.disabled = false;
    this.poller.now();
  }

  subscriptionRow(id, posture, scan, { info = null, diff = null, trend = [] } = {}) {
    const active = scan && isActive(scan);
    const scannable = !info || info.scannable !== false;
    const name = info && info.display_name ? info.display_name : null;
    return h("tr", { dataset: { subscriptionId: id } },
      h("td", {}, name ? [h("span", { class: "sub-name" }, name), h("br"), h("span", { class: "mono muted" }, id)] : h("span", { class: "mono" }, id)),
      h("td", {}, info ? info.state : h("span", { class: "muted", title: "not listed by Azure for this identity" }, "not listed")),
      h("td", {}, scan ? [statusBadge(scan.status), " ", h("a", { href: `#/scans/${scan.scan_id}` }, `scan ${shortId(scan.scan_id)}`)] : "—"),
      h("td", { title: posture ? formatFullTime(posture.completed_at) : "" }, posture ? formatTime(posture.completed_at) : "never"),
      h("td", { class: "num" }, posture && posture.score !== null ? String(posture.score) : "—"),
      h("td", { class: "trend" }, sparkline(trend, { label: `Score of ${name || shortId(id)}` }) || h("span", { class: "muted" }, "—")),
      h("td", { class: "num" }, posture ? h("a", { href: hashFor("/findings", { subscription_id: id }) }, String(posture.total_findings)) : "—"),
      h("td", { class: "num diff-counts" }, this.diffCell(posture, diff)),
      h("td", {}, active ? progressBar(scan) : ""),
      h("td", { class: "schedule" }, info ? scheduleText(info.schedules) : "—"),
      h("td", { class: "actions" }, this.session.isOperator && !active && scannable ? this.scanButton(id, "Scan") : ""));
  }

  /** "+3 / −1" linking to the scan's diff; "first scan" when there is nothing to compare. */
  diffCell(posture, diff) {
    if (!posture || !diff) return "—";
    if (diff.error) return h("span", { class: "muted", title: diff.error }, "?");
    if (diff.first) return h("span", { class: "muted" }, "first scan");
    return h("a", { href: `#/scans/${posture.scan_id}`, "aria-label": `${plural(diff.new, "new finding")}, ${plural(diff.resolved, "resolved finding")} since the previous scan` },
      h("span", { class: "diff-new" }, `+${diff.new}`), " / ", h("span", { class: "diff-resolved" }, `−${diff.resolved}`));
  }

  reset() {
    this.parts = null;
  }

  scanButton(subscriptionId, label) {
    const button = h("button", { type: "button", class: "button-primary",
      "aria-label": subscriptionId ? `Scan ${subscriptionId}` : label }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const answer = await this.api.post("/api/scans/trigger", subscriptionId ? { subscription_id: subscriptionId } : {});
        setText(this.notice, `Scan ${shortId(answer.scan_id)} accepted.`);
      } catch (err) {
        setText(this.notice, `Could not start a scan: ${err.message}`);
      }
      this.poller.now();
    });
    return button;
  }
}

/** What a multi-subscription trigger did, in one sentence. */
export function scanAllMessage(answer) {
  const entries = answer.scans || [];
  const created = entries.filter((e) => e.result === "created").length;
  const others = entries.filter((e) => e.result !== "created");
  const counts = new Map();
  for (const e of others) counts.set(e.result, (counts.get(e.result) || 0) + 1);
  const label = { active: "already scanning", skipped: "not scannable", error: "not visible" };
  const rest = [...counts].map(([result, n]) => `${n} ${label[result] || result}`);
  return `${plural(created, "scan")} accepted${rest.length ? `; ${rest.join(", ")}` : ""}.`;
}

/** Per severity: failures new in the scan minus those resolved since the compared one. */
export function severityChange(diff) {
  const change = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  for (const f of diff.new) if (f.severity in change) change[f.severity] += 1;
  for (const f of diff.resolved) if (f.severity in change) change[f.severity] -= 1;
  return change;
}

/** "+2", "−1", "±0": a change, signed. */
export function signed(n) {
  if (n > 0) return `+${n}`;
  if (n < 0) return `−${-n}`;
  return "±0";
}
