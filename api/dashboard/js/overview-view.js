// The overview (#/, the landing page): the estate's score, findings per severity, each
// subscription's latest scan (state, score, active progress, a Scan button for operators) and
// the rules failing on the most resources. Built from today's API (/api/score, /api/scans,
// /api/findings/groups); the subscriptions table is keyed by subscription id so estate data
// (names, schedules, score history) can fill more columns later.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { formatFullTime, formatTime, plural, shortId } from "./format.js";
import { SEVERITIES, isActive, progressBar, severityBadge, statusBadge } from "./components.js";
import { Poller } from "./poller.js";
import { hashFor } from "./router.js";

const SCANS_LOOKED_AT = 200;
const TOP_RULES = 10;

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
    const [score, scans, top] = await Promise.all([
      this.api.get("/api/score"),
      this.api.get("/api/scans", { limit: SCANS_LOOKED_AT }),
      this.api.get("/api/findings/groups", { sort: "count", limit: TOP_RULES }),
    ]);
    const latest = latestPerSubscription(scans.scans);
    const active = [...latest.values()].some(isActive);
    this.render(score, latest, top);
    return active;
  }

  render(score, latest, top) {
    const posture = new Map(score.subscriptions.map((s) => [s.subscription_id, s]));
    const totals = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    for (const s of score.subscriptions) for (const sev of SEVERITIES) totals[sev] += s.findings_by_severity[sev] || 0;
    const subscriptions = [...new Set([...posture.keys(), ...latest.keys()])].sort();
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
    for (const s of SEVERITIES) {
      setText(p.sevCounts[s].n, String(totals[s]));
      p.sevCounts[s].link.setAttribute("aria-label", `${plural(totals[s], `${s.toLowerCase()} finding`)}: explore them`);
    }
    // rows keyed by subscription and rebuilt only when their data changed, so polling every
    // 2 s keeps keyboard focus (on a Scan button, say) and the screen-reader position
    const wanted = new Set(subscriptions);
    for (const [id, entry] of p.rows) if (!wanted.has(id)) { entry.row.remove(); p.rows.delete(id); }
    let previous = null;
    for (const id of subscriptions) {
      const scan = latest.get(id);
      const signature = JSON.stringify([posture.get(id) || null, scan ? [scan.scan_id, scan.status, scan.progress, scan.phase, scan.rules_completed, scan.resources_collected] : null, this.session.isOperator]);
      let entry = p.rows.get(id);
      if (!entry || entry.signature !== signature) {
        const row = this.subscriptionRow(id, posture.get(id), scan);
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
    const idle = subscriptions.filter((id) => !(latest.get(id) && isActive(latest.get(id))));
    if (p.scanAll) {
      p.scanAll.hidden = idle.length === 0;
      setText(p.scanAll, `Scan all (${idle.length})`);
      p.idle = idle;
    }
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
    const p = { rows: new Map(), sevCounts: {}, topSignature: null, idle: [] };
    p.score = h("span", { class: "card-value", id: "overview-score" });
    p.scoreNote = h("span", { class: "card-note" });
    const sevItems = SEVERITIES.map((s) => {
      const n = h("span", { class: "sev-count-n" });
      const link = h("a", { class: `sev-count sev-${s.toLowerCase()}`, href: hashFor("/findings", { severity: s }), dataset: { severity: s } }, n, h("span", {}, s));
      p.sevCounts[s] = { n, link };
      return h("li", {}, link);
    });
    const cards = h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-label" }, "Estate score"), p.score, p.scoreNote),
      h("div", { class: "card card-wide" }, h("span", { class: "card-label", id: "overview-sev-label" }, "Current findings by severity"),
        h("ul", { class: "severity-counts", "aria-labelledby": "overview-sev-label" }, sevItems)));
    p.tbody = h("tbody");
    const table = h("div", { class: "table-wrap" }, h("table", { class: "data", id: "subscriptions-table" },
      h("caption", { class: "visually-hidden" }, "Subscriptions"),
      h("thead", {}, h("tr", {}, ["Subscription", "Latest scan", "Last completed", "Score", "Findings", "Progress"].map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
      p.tbody));
    p.scanAll = this.session.isOperator
      ? h("button", { type: "button", class: "button-primary", id: "scan-all", onclick: () => this.scanAll() }, "Scan all")
      : null;
    p.top = h("div", { id: "top-rules" });
    this.parts = p;
    replaceChildren(this.body, cards,
      h("section", { "aria-labelledby": "subs-title" },
        h("div", { class: "view-head" }, h("h2", { id: "subs-title" }, "Subscriptions"), p.scanAll ? h("div", { class: "head-actions" }, p.scanAll) : null),
        table),
      h("section", { "aria-labelledby": "top-rules-title" }, h("h2", { id: "top-rules-title" }, "Top failing rules"), p.top));
  }

  /** One trigger per subscription without an active scan (the estate API will do it in one call). */
  async scanAll() {
    const ids = [...(this.parts?.idle || [])];
    if (!ids.length) return;
    this.parts.scanAll.disabled = true;
    let accepted = 0;
    const refused = [];
    for (const id of ids) {
      try {
        await this.api.post("/api/scans/trigger", { subscription_id: id });
        accepted += 1;
      } catch (err) {
        refused.push(`${shortId(id)}: ${err.message}`);
      }
    }
    setText(this.notice, `${plural(accepted, "scan")} accepted${refused.length ? `; refused: ${refused.join("; ")}` : ""}.`);
    this.parts.scanAll.disabled = false;
    this.poller.now();
  }

  subscriptionRow(id, posture, scan) {
    const active = scan && isActive(scan);
    return h("tr", { dataset: { subscriptionId: id } },
      h("td", { class: "mono" }, id),
      h("td", {}, scan ? [statusBadge(scan.status), " ", h("a", { href: `#/scans/${scan.scan_id}` }, `scan ${shortId(scan.scan_id)}`)] : "—"),
      h("td", { title: posture ? formatFullTime(posture.completed_at) : "" }, posture ? formatTime(posture.completed_at) : "never"),
      h("td", { class: "num" }, posture && posture.score !== null ? String(posture.score) : "—"),
      h("td", { class: "num" }, posture ? h("a", { href: hashFor("/findings", { subscription_id: id }) }, String(posture.total_findings)) : "—"),
      h("td", {}, active ? progressBar(scan) : ""),
      h("td", { class: "actions" }, this.session.isOperator && !active ? this.scanButton(id, "Scan") : ""));
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
