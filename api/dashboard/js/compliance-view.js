// Compliance per framework (#/compliance/<cis|cis-v6|nist|iso27001>): each control's status and its
// passed / failed / not evaluated resource counts from GET /api/compliance/<framework>, and a
// drill-down into the control's rules with their failing resources in the findings explorer.
import { exportButton } from "./downloads.js";
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { plural } from "./format.js";
import { severityBadge } from "./components.js";
import { hashFor } from "./router.js";

const FRAMEWORKS = [["cis", "CIS v2"], ["cis-v6", "CIS v6"], ["nist", "NIST CSF"], ["iso27001", "ISO 27001"]];
const STATUS_TEXT = { passed: "passed", failed: "failed", not_evaluated: "not evaluated" };

export class ComplianceView {
  constructor({ api, connection, getCatalogue }) {
    this.api = api;
    this.connection = connection;
    this.getCatalogue = getCatalogue;
    this.root = $("#compliance-view");
    this.seq = 0;
  }

  async show(match) {
    this.root.hidden = false;
    const framework = FRAMEWORKS.some(([slug]) => slug === match[1]) ? match[1] : "cis";
    this.framework = framework;
    document.title = "Compliance · OpenShield";
    this.status = h("p", { id: "compliance-status", class: "muted", role: "status", "aria-live": "polite" }, "Loading…");
    this.body = h("div", { id: "compliance-body" });
    const exportStatus = h("span", { id: "compliance-export-status", class: "muted", role: "status", "aria-live": "polite" });
    const exports = h("p", { class: "export-buttons", id: "compliance-exports" },
      exportButton({ api: this.api, label: "Export CSV", path: `/api/compliance/${framework}`, params: { format: "csv" },
        status: exportStatus, id: "compliance-export-csv", describe: "the controls as CSV" }), " ", exportStatus);
    replaceChildren(this.root,
      h("div", { class: "view-head" }, h("h1", { id: "compliance-title", tabindex: "-1" }, "Compliance"),
        h("nav", { class: "tabs", "aria-label": "Frameworks" }, FRAMEWORKS.map(([slug, name]) =>
          h("a", { href: `#/compliance/${slug}`, "aria-current": slug === framework ? "page" : null }, name)))),
      this.status, exports, this.body);
    const seq = ++this.seq;
    let data;
    let catalogue;
    try {
      [data, catalogue] = await Promise.all([this.api.get(`/api/compliance/${framework}`), this.getCatalogue()]);
    } catch (err) {
      if (seq !== this.seq) return;
      if (err instanceof Unreachable) this.connection.down(err.message);
      setText(this.status, `Could not load compliance: ${err instanceof ApiError || err instanceof Unreachable ? err.message : String(err)}`);
      return;
    }
    if (seq !== this.seq) return;
    this.render(data, new Map(catalogue.map((r) => [r.rule_id, r])));
  }

  hide() {
    this.root.hidden = true;
  }

  render(data, rules) {
    const sum = data.summary;
    setText(this.status, data.scans.length
      ? `${data.framework_name}: ${plural(sum.controls, "control")}, from the latest scan of ${plural(data.scans.length, "subscription")}.`
      : `${data.framework_name}: no completed scan yet, so no control is evaluated.`);
    const cards = h("div", { class: "cards" }, [["passed", sum.passed], ["failed", sum.failed], ["not_evaluated", sum.not_evaluated]].map(([k, n]) =>
      h("div", { class: "card" }, h("span", { class: "card-label" }, `Controls ${STATUS_TEXT[k]}`), h("span", { class: "card-value", id: `compliance-${k}` }, String(n)))));
    const tbody = h("tbody");
    for (const control of data.controls) tbody.append(...this.controlRows(control, rules));
    replaceChildren(this.body, cards,
      h("p", { class: "muted" }, "Counts are resources judged by the control's rules. A control whose rules could not read their data is not evaluated, never passed."),
      h("div", { class: "table-wrap" }, h("table", { class: "data", id: "controls-table" },
        h("caption", { class: "visually-hidden" }, `${data.framework_name} controls`),
        h("thead", {}, h("tr", {}, ["Control", "Status", "Passed", "Failed", "Not evaluated", "Rules"].map((c) => h("th", { scope: "col" }, c)),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Results")))),
        tbody)));
  }

  controlRows(control, rules) {
    const id = `control-${control.control.replace(/[^A-Za-z0-9_-]/g, "_")}-results`;
    const holder = h("td", { colspan: "7" });
    const details = h("tr", { class: "finding-details", id, hidden: true }, holder);
    const toggle = h("button", { type: "button", class: "button-quiet", "aria-expanded": "false", "aria-controls": id,
      "aria-label": `Results of control ${control.control}` }, "Results");
    toggle.addEventListener("click", () => {
      const open = details.hidden;
      details.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open && !holder.firstChild) this.loadControl(control, rules, holder);
    });
    const badgeClass = { passed: "outcome-ok", failed: "outcome-error", not_evaluated: "outcome-skipped" }[control.status];
    return [h("tr", { dataset: { control: control.control, status: control.status } },
      h("td", { class: "mono" }, control.control),
      h("td", {}, h("span", { class: `badge ${badgeClass}` }, STATUS_TEXT[control.status])),
      h("td", { class: "num" }, String(control.passed)),
      h("td", { class: "num" }, String(control.failed)),
      h("td", { class: "num" }, String(control.not_evaluated)),
      h("td", { class: "num" }, String(control.rules.length)),
      h("td", { class: "actions" }, toggle)), details];
  }

  /** The control's rules with their failing-resource counts (one groups call, all rules). */
  async loadControl(control, rules, holder) {
    holder.append(h("p", { class: "muted" }, "Loading…"));
    let groups;
    try {
      groups = await this.api.get("/api/findings/groups", { limit: 1000 });
    } catch (err) {
      replaceChildren(holder, h("p", { class: "form-error" }, `Could not load results: ${err.message}`));
      return;
    }
    const failed = new Map(groups.groups.map((g) => [g.rule_id, g.failed]));
    const total = control.rules.reduce((n, id) => n + (failed.get(id) || 0), 0);
    replaceChildren(holder, total
      ? h("p", {}, h("a", { class: "control-findings", href: hashFor("/findings", { framework: this.framework, control: control.control }) },
        `All ${plural(total, "failed resource")} of control ${control.control}, in the findings explorer`))
      : h("p", { class: "muted" }, `No failed resource for control ${control.control}.`),
    h("ul", { class: "plain control-rules" }, control.rules.map((ruleId) => {
      const rule = rules.get(ruleId);
      const n = failed.get(ruleId) || 0;
      return h("li", { dataset: { ruleId } },
        rule ? severityBadge(rule.severity) : "", " ", h("span", { class: "mono" }, ruleId), " ", rule ? rule.title : "", " — ",
        n ? h("a", { href: hashFor("/findings", { rule_id: ruleId }) }, `${plural(n, "failed resource")}: show them`) : "no failed resource");
    })));
  }
}
