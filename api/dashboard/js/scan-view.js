// One scan: summary (score, findings by severity), progress while it runs, rule outcomes,
// findings with filters, and the tail of its log for operators. Polls every 2 s while the
// scan is active; the findings are loaded once it has completed.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { formatDuration, formatFullTime, plural, shortId } from "./format.js";
import { SEVERITIES, isActive, outcomeBadge, outcomeLabel, progressBar, severityBadge, statusBadge, updateProgressBar, updateStatusBadge } from "./components.js";
import { FINDINGS_PAGE, FindingsTable } from "./findings-table.js";
import { Poller } from "./poller.js";
import { elapsedSeconds } from "./scans-view.js";
import { exportButton } from "./downloads.js";

// How many new / resolved failures the diff lists before "and N more" (the explorer has them all).
const DIFF_ROWS = 50;
const EXPORTS = [["csv", "CSV"], ["ocsf", "JSON (OCSF)"], ["html", "HTML report"]];

const LOG_LINES = 200;
// Lines that say where the scan is: phase changes, progress lines, the final line, warnings and
// errors. Everything else (one line per CVE look-up, library chatter) is behind "every line".
const PHASE_LINE = /^(phase: |collecting: |evaluating: |enriching: |scan [0-9a-f-]{36}[: ])|\b(WARNING|ERROR|CRITICAL)\b| claimed by pid /;

/** The log lines to show: phase lines only unless every line is asked for. */
export function visibleLogLines(lines, everything) {
  return everything ? lines : lines.filter((line) => PHASE_LINE.test(line));
}

export class ScanView {
  constructor({ api, session, connection, catalogue }) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.catalogue = catalogue;
    this.root = $("#scan-view");
    this.scanId = null;
    this.poller = new Poller(() => this.refresh(), (err) => this.pollError(err), { idleMs: 60000 });
  }

  show(scanId) {
    this.hide();
    this.scanId = scanId;
    this.scan = null;
    this.findings = null;
    this.counts = null;
    this.root.hidden = false;
    document.title = `Scan ${shortId(scanId)} · OpenShield`;
    this.build();
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
    replaceChildren(this.summary, h("p", { class: "form-error", role: "alert" },
      err instanceof ApiError && err.status === 404 ? `Scan ${this.scanId} does not exist.` : `Could not load the scan: ${err.message}`));
    return false;
  }

  build() {
    const short = shortId(this.scanId);
    this.badge = statusBadge("…");
    this.actions = h("div", { class: "head-actions" });
    this.summary = h("div", { class: "summary", id: "scan-summary" }, h("p", { class: "muted" }, "Loading…"));
    this.outcomes = h("div", { id: "rule-outcomes" });
    this.exports = h("div", { id: "scan-exports", hidden: true });
    this.changes = h("div", { id: "scan-diff" });
    this.changesSection = h("section", { "aria-labelledby": "diff-title", hidden: true },
      h("h2", { id: "diff-title" }, "Changes since the previous scan"), this.changes);
    this.findingsHost = h("div", { id: "findings" });
    this.log = h("div", { id: "scan-log" });
    replaceChildren(this.root,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/scans" }, "All scans"), " / ", `Scan ${short}`),
      h("div", { class: "view-head" }, h("h1", { id: "scan-title", tabindex: "-1" }, `Scan ${short} `, this.badge), this.actions),
      this.summary,
      this.exports,
      this.changesSection,
      h("section", { "aria-labelledby": "findings-title" }, h("h2", { id: "findings-title" }, "Findings"), this.findingsHost),
      h("section", { "aria-labelledby": "outcomes-title" }, h("h2", { id: "outcomes-title" }, "Rule outcomes"), this.outcomes),
      h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Scan log"), this.log));
    $("#scan-title", this.root).focus();
  }

  async refresh() {
    const scanId = this.scanId;
    const scan = await this.api.get(`/api/scans/${scanId}`);
    if (scanId !== this.scanId) return false; // the page moved to another scan meanwhile
    const first = this.scan === null;
    const wasActive = this.scan && isActive(this.scan);
    this.scan = scan;
    updateStatusBadge(this.badge, scan.status);
    this.renderActions(scan);
    if (first || isActive(scan) || wasActive) {
      await this.renderSummary(scan);
      this.renderOutcomes(scan);
      if (scan.status === "completed" && !this.findings) {
        this.renderExports();
        this.renderFindings();
        await this.renderDiff(scan);
      }
      else if (scan.status !== "completed" && !this.findings) {
        replaceChildren(this.findingsHost, h("p", { class: "muted" }, isActive(scan)
          ? "Findings appear when the scan completes."
          : `No findings: the scan ${scan.status === "cancelled" ? "was cancelled" : "failed"} before saving results.`));
      }
      await this.renderLog(scan);
    }
    return isActive(scan);
  }

  renderActions(scan) {
    if (!(this.session.isOperator && isActive(scan))) {
      this.actions.replaceChildren();
      return;
    }
    let button = this.actions.querySelector("button");
    if (!button) {
      button = h("button", { type: "button", class: "button-danger", onclick: () => this.cancel() }, "Cancel scan");
      this.actions.appendChild(button);
    }
    button.disabled = Boolean(scan.cancel_requested);
    setText(button, scan.cancel_requested ? "Cancelling…" : "Cancel scan");
  }

  async cancel() {
    if (!window.confirm(`Cancel scan ${shortId(this.scanId)}?`)) return;
    try {
      await this.api.post(`/api/scans/${this.scanId}/cancel`);
    } catch (err) {
      window.alert(`Could not cancel: ${err.message}`);
    }
    this.poller.now();
  }

  async severityCounts(scan) {
    if (scan.status !== "completed") return null;
    if (this.counts) return this.counts;
    // count per severity: five one-row pages; `count` is the total for the filter
    const answers = await Promise.all(SEVERITIES.map((severity) =>
      this.api.get("/api/findings", { scan_id: scan.scan_id, severity, limit: 1 })));
    this.counts = Object.fromEntries(SEVERITIES.map((s, i) => [s, answers[i].count]));
    return this.counts;
  }

  async renderSummary(scan) {
    const counts = await this.severityCounts(scan);
    const cards = [
      h("div", { class: "card" }, h("span", { class: "card-label" }, "Score"),
        h("span", { class: "card-value", id: "scan-score" }, scan.score === null ? "—" : String(scan.score)),
        h("span", { class: "card-note" }, scan.status === "completed" ? (scan.score === null ? "nothing could be evaluated" : "out of 100") : "when completed")),
      h("div", { class: "card" }, h("span", { class: "card-label" }, "Findings"),
        h("span", { class: "card-value", id: "scan-findings-total" }, scan.status === "completed" ? String(scan.total_findings) : "—")),
    ];
    if (counts) {
      cards.push(h("div", { class: "card card-wide" }, h("span", { class: "card-label", id: "by-severity-label" }, "By severity"),
        h("ul", { class: "severity-counts", "aria-labelledby": "by-severity-label" }, SEVERITIES.map((s) => h("li", {},
          h("button", { type: "button", class: `sev-count sev-${s.toLowerCase()}`, dataset: { severity: s },
            "aria-label": `${plural(counts[s], `${s.toLowerCase()} finding`)}: show them`,
            onclick: () => this.findings && this.findings.setFilters({ severity: s }) },
          h("span", { class: "sev-count-n" }, String(counts[s])), h("span", {}, s)))))));
    }
    const rows = [
      ["Subscription", h("span", { class: "mono" }, scan.subscription_id)],
      ["Phase", scan.phase],
      ["Progress", progressBar(scan)],
      ["Created", formatFullTime(scan.created_at)],
      ["Started", scan.started_at ? formatFullTime(scan.started_at) : "—"],
      ["Completed", scan.completed_at ? formatFullTime(scan.completed_at) : "—"],
      [isActive(scan) ? "Elapsed" : "Duration", formatDuration(elapsedSeconds(scan))],
      ["Process", scan.pid ? `pid ${scan.pid} on ${scan.host}` : scan.host ? `on ${scan.host}` : "—"],
      ["Resources collected", String(scan.resources_collected)],
      ["Trigger", `${scan.trigger}${scan.attempt > 1 ? ` (attempt ${scan.attempt})` : ""}`],
      ["Exit code", scan.exit_code === null ? "—" : String(scan.exit_code)],
      ["Rules", scan.rules ? scan.rules.join(", ") : "all rules"],
    ];
    if (scan.cve_enrichment_status) rows.push(["CVE enrichment", scan.cve_enrichment_status]);
    const error = scan.error_message
      ? h("p", { class: scan.status === "failed" ? "alert alert-error" : "alert", id: "scan-error" }, scan.error_message)
      : null;
    replaceChildren(this.summary, error, h("div", { class: "cards" }, cards),
      h("dl", { class: "kv kv-grid" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
  }

  renderOutcomes(scan) {
    const outcomes = scan.rule_outcomes || [];
    if (!outcomes.length) {
      replaceChildren(this.outcomes, h("p", { class: "muted" },
        isActive(scan) ? "Rule outcomes appear when the scan completes." : "No rule outcomes were recorded."));
      return;
    }
    const titles = new Map(this.catalogue.map((r) => [r.rule_id, r.title]));
    const by = { ok: 0, skipped: 0, error: 0 };
    for (const o of outcomes) by[o.status] = (by[o.status] || 0) + 1;
    const failing = outcomes.filter((o) => o.status === "ok" && o.failed_count > 0).length;
    const onlyProblems = h("input", { type: "checkbox", id: "outcomes-problems" });
    const tbody = h("tbody");
    const fill = () => {
      const shown = onlyProblems.checked ? outcomes.filter((o) => o.status !== "ok") : outcomes;
      if (!shown.length) {
        replaceChildren(tbody, h("tr", { class: "empty-row" }, h("td", { colspan: "7", class: "muted" }, "No rule was skipped or failed.")));
        return;
      }
      replaceChildren(tbody, shown.map((o) => h("tr", { dataset: { ruleId: o.rule_id, outcome: outcomeLabel(o) } },
        h("td", { class: "mono" }, o.rule_id),
        h("td", {}, titles.get(o.rule_id) || ""),
        h("td", {}, outcomeBadge(o)),
        h("td", { class: "num" }, String(o.evaluated_count)),
        h("td", { class: "num" }, String(o.failed_count)),
        h("td", { class: "num" }, String(o.not_evaluated_count)),
        h("td", { class: "reason" }, o.reason || ""))));
    };
    onlyProblems.addEventListener("change", fill);
    onlyProblems.checked = by.skipped + by.error > 0;
    fill();
    replaceChildren(this.outcomes,
      h("p", { id: "outcomes-summary" },
        `${by.ok} evaluated (${failing} with failed resources) · ${by.skipped} skipped · ${by.error} error`,
        by.skipped ? h("span", { class: "muted" }, " — a skipped rule could not read its data: it is not a clean result.") : ""),
      h("div", { class: "check" }, onlyProblems, h("label", { for: "outcomes-problems" }, "Only rules that were skipped or failed")),
      h("div", { class: "table-wrap" }, h("table", { class: "data outcomes", id: "outcomes-table" },
        h("caption", { class: "visually-hidden" }, "Outcome of each rule"),
        h("thead", {}, h("tr", {}, ["Rule", "Title", "Outcome", "Evaluated", "Failed", "Not evaluated", "Reason"]
          .map((c) => h("th", { scope: "col" }, c)))),
        tbody)));
  }

  /** CSV / JSON-OCSF / HTML of the whole scan, fetched with the token and saved as a file. */
  renderExports() {
    const status = h("span", { id: "export-status", class: "muted", role: "status", "aria-live": "polite" });
    replaceChildren(this.exports, h("span", { class: "card-label", id: "export-label" }, "Export this scan: "),
      h("span", { class: "export-buttons", role: "group", "aria-labelledby": "export-label" },
        EXPORTS.map(([format, label]) => exportButton({ api: this.api, label, path: `/api/scans/${this.scanId}/export`,
          params: { format }, status, id: `export-${format}`, describe: `the scan as ${label}` }))),
      " ", status);
    this.exports.hidden = false;
  }

  /** New and resolved failures against the subscription's previous completed scan. */
  async renderDiff(scan) {
    let diff;
    try {
      diff = await this.api.get(`/api/scans/${scan.scan_id}/diff`);
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      replaceChildren(this.changes, h("p", { class: "form-error" }, `Could not compare with the previous scan: ${err.message}`));
      this.changesSection.hidden = false;
      return;
    }
    if (scan.scan_id !== this.scanId) return;
    this.changesSection.hidden = false;
    if (diff.against === null) {
      replaceChildren(this.changes, h("p", { class: "muted", id: "diff-summary" },
        "This is the subscription's first completed scan: there is nothing to compare with, so every failure is new."));
      return;
    }
    replaceChildren(this.changes,
      h("p", { id: "diff-summary" }, `${plural(diff.new.length, "new failure")} · ${plural(diff.resolved.length, "resolved failure")} · ${diff.still_failing} still failing`,
        diff.muted ? ` · ${diff.muted} muted` : "", " — compared with ",
        h("a", { href: `#/scans/${diff.against}`, id: "diff-against" }, `scan ${shortId(diff.against)}`), "."),
      this.diffTable("diff-new", "New since that scan", diff.new, "Nothing new fails."),
      this.diffTable("diff-resolved", "Resolved since that scan", diff.resolved, "Nothing was resolved."));
  }

  diffTable(id, title, findings, empty) {
    const shown = findings.slice(0, DIFF_ROWS);
    return h("div", { class: "diff-part" }, h("h3", { id: `${id}-title` }, `${title} (${findings.length})`),
      shown.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: `${id}-table`, "aria-labelledby": `${id}-title` },
          h("thead", {}, h("tr", {}, ["Severity", "Rule", "Resource", "Muted"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, shown.map((f) => h("tr", { dataset: { findingKey: f.finding_key || "" } },
            h("td", {}, severityBadge(f.severity)),
            h("td", {}, h("span", { class: "mono" }, f.rule_id), " ", f.rule_name),
            h("td", { title: f.resource_id }, f.resource_name),
            h("td", {}, f.muted ? h("span", { class: "badge", title: `mute ${f.mute_id}` }, "muted") : ""))))))
        : h("p", { class: "muted" }, empty),
      findings.length > DIFF_ROWS ? h("p", { class: "muted" }, `and ${findings.length - DIFF_ROWS} more (every one is in the CSV export).`) : null);
  }

  renderFindings() {
    this.findings = new FindingsTable({ api: this.api, scanId: this.scanId, catalogue: this.catalogue,
      grouped: (this.scan?.total_findings ?? 0) > FINDINGS_PAGE });
    replaceChildren(this.findingsHost,
      h("p", {}, h("a", { id: "scan-explore-link", href: `#/findings?scan_id=${this.scanId}` }, "Explore these findings grouped by rule, with search")),
      this.findings.el);
    this.findings.load();
  }

  async renderLog(scan) {
    if (!this.session.isOperator) {
      replaceChildren(this.log, h("p", { class: "muted" }, "The scan log needs an operator token."));
      return;
    }
    let data;
    try {
      data = await this.api.get(`/api/scans/${scan.scan_id}/log`, { lines: LOG_LINES });
    } catch (err) {
      if (err instanceof Unreachable) throw err;
      replaceChildren(this.log, h("p", { class: "form-error" }, `Could not read the log: ${err.message}`));
      return;
    }
    let pre = $("#scan-log-text", this.log);
    if (!pre) {
      this.logNote = h("p", { class: "muted" });
      const refresh = h("button", { type: "button", class: "button-quiet", onclick: () => this.scan && this.renderLog(this.scan) }, "Refresh log");
      this.logEverything = h("input", { type: "checkbox", id: "log-everything" });
      this.logEverything.addEventListener("change", () => this.showLog());
      pre = h("pre", { id: "scan-log-text", class: "log", tabindex: "0", "aria-label": "Scan log, last lines" });
      replaceChildren(this.log, h("div", { class: "log-head" }, this.logNote,
        h("div", { class: "check" }, this.logEverything, h("label", { for: "log-everything" }, "Show every line")), refresh), pre);
    }
    this.logData = data;
    this.showLog();
  }

  /** Phase lines by default; every line when asked. */
  showLog() {
    const pre = $("#scan-log-text", this.log);
    const data = this.logData;
    if (!pre || !data) return;
    const everything = this.logEverything.checked;
    const lines = visibleLogLines(data.lines, everything);
    const hidden = data.lines.length - lines.length;
    setText(this.logNote, data.lines.length
      ? `${everything ? "Last" : "Phase lines of the last"} ${plural(data.lines.length, "line")}${hidden ? ` (${hidden} other lines hidden)` : ""}${data.truncated ? ", earlier lines left out" : ""}, from the host that ran the scan.`
      : "The scan has written no log yet.");
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    setText(pre, lines.join("\n"));
    if (stick) pre.scrollTop = pre.scrollHeight;
  }
}
