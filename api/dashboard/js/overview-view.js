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
      replaceChildren(this.body, h("p", { class: "empty", id: "overview-empty" },
        "No subscription has been scanned yet. ", this.session.isOperator
          ? this.scanButton(null, "Scan the default subscription")
          : "An operator can start the first scan."));
      return;
    }
    const cards = h("div", { class: "cards" },
      h("div", { class: "card" }, h("span", { class: "card-label" }, "Estate score"),
        h("span", { class: "card-value", id: "overview-score" }, score.overall_score === null ? "—" : String(score.overall_score)),
        h("span", { class: "card-note" }, score.overall_score === null ? "no completed scan" : `mean of ${plural(score.subscriptions.length, "subscription")}, out of 100`)),
      h("div", { class: "card card-wide" }, h("span", { class: "card-label", id: "overview-sev-label" }, "Current findings by severity"),
        h("ul", { class: "severity-counts", "aria-labelledby": "overview-sev-label" }, SEVERITIES.map((s) => h("li", {},
          h("a", { class: `sev-count sev-${s.toLowerCase()}`, href: hashFor("/findings", { severity: s }), dataset: { severity: s },
            "aria-label": `${plural(totals[s], `${s.toLowerCase()} finding`)}: explore them` },
          h("span", { class: "sev-count-n" }, String(totals[s])), h("span", {}, s)))))));
    const tbody = h("tbody", {}, subscriptions.map((id) => this.subscriptionRow(id, posture.get(id), latest.get(id))));
    const table = h("div", { class: "table-wrap" }, h("table", { class: "data", id: "subscriptions-table" },
      h("caption", { class: "visually-hidden" }, "Subscriptions"),
      h("thead", {}, h("tr", {}, ["Subscription", "Latest scan", "Last completed", "Score", "Findings", "Progress"].map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
      tbody));
    const rules = top.groups.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "top-rules-table" },
        h("caption", { class: "visually-hidden" }, "Rules failing on the most resources"),
        h("thead", {}, h("tr", {}, ["Severity", "Rule", "Title", "Failed resources"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, top.groups.map((g) => h("tr", { dataset: { ruleId: g.rule_id } },
          h("td", {}, severityBadge(g.severity)),
          h("td", {}, h("a", { class: "mono", href: hashFor("/findings", { rule_id: g.rule_id }) }, g.rule_id)),
          h("td", {}, g.rule_name),
          h("td", { class: "num" }, String(g.failed)))))))
      : h("p", { class: "muted", id: "top-rules-empty" }, "No rule fails on any resource.");
    replaceChildren(this.body, cards,
      h("section", { "aria-labelledby": "subs-title" }, h("h2", { id: "subs-title" }, "Subscriptions"), table),
      h("section", { "aria-labelledby": "top-rules-title" }, h("h2", { id: "top-rules-title" }, "Top failing rules"), rules));
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
