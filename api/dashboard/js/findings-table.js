// One scan's findings: filters (severity, category, rule) applied by the API, pages of 25,
// and a details row per finding. CVE data (cve_references, cvss_score, exploit_available) is
// shown when a finding on the page carries some, and the column is absent otherwise.
import { ApiError, Unreachable } from "./api.js";
import { h, replaceChildren, setText } from "./dom.js";
import { formatFullTime, plural } from "./format.js";
import { SEVERITIES, severityBadge } from "./components.js";
import { FindingGroups } from "./finding-groups.js";

const PAGE = 25;
export const FINDINGS_PAGE = PAGE;

// A finding carries CVE data when enrichment found something for it; empty fields (no software,
// not enriched yet, nothing known) do not earn the table a column.
function hasCveData(finding) {
  return (Array.isArray(finding.cve_references) && finding.cve_references.length > 0)
    || typeof finding.cvss_score === "number" || finding.exploit_available === true;
}

function cveSummary(finding) {
  const refs = Array.isArray(finding.cve_references) ? finding.cve_references : [];
  const parts = [];
  if (refs.length) {
    const ids = refs.slice(0, 2).map((r) => r.id).join(", ");
    parts.push(refs.length > 2 ? `${ids} +${refs.length - 2}` : ids);
  }
  if (typeof finding.cvss_score === "number") parts.push(`CVSS ${finding.cvss_score.toFixed(1)}`);
  const text = parts.join(" · ") || "—";
  return finding.exploit_available ? [text, " ", h("span", { class: "tag tag-danger" }, "exploit known")] : [text];
}

export class FindingsTable {
  constructor({ api, scanId, catalogue, grouped = false }) {
    this.api = api;
    this.scanId = scanId;
    this.catalogue = catalogue;
    this.offset = 0;
    this.filters = { severity: "", category: "", rule_id: "" };
    // grouped by rule when the findings fill more than a page (a scan can have thousands, the
    // same rule row after row); a short list is easier read whole
    this.grouped = grouped;
    this.groups = new FindingGroups({ api, filterParams: () => ({ scan_id: this.scanId, ...this.filters }), idPrefix: "scan" });
    this.loaded = false;
    this.el = this.build();
  }

  build() {
    const categories = [...new Set(this.catalogue.map((r) => r.category))].sort();
    this.severity = this.select("finding-severity", "Severity", "All severities", SEVERITIES.map((s) => [s, s]));
    this.category = this.select("finding-category", "Category", "All categories", categories.map((c) => [c, c]));
    this.rule = this.select("finding-rule", "Rule", "All rules", this.catalogue.map((r) => [r.rule_id, `${r.rule_id} — ${r.title}`]));
    const clear = h("button", { type: "button", class: "button-quiet", onclick: () => this.setFilters({ severity: "", category: "", rule_id: "" }) }, "Clear filters");
    this.status = h("p", { class: "muted", role: "status", "aria-live": "polite", id: "findings-status" });
    this.thead = h("thead");
    this.tbody = h("tbody");
    this.table = h("table", { class: "data findings", id: "findings-table", "aria-describedby": "findings-status" },
      h("caption", { class: "visually-hidden" }, "Findings of this scan"), this.thead, this.tbody);
    this.groupsHost = h("div", { id: "scan-groups" });
    this.tableWrap = h("div", { class: "table-wrap" }, this.table);
    const radio = (value, label) => {
      const input = h("input", { type: "radio", name: "scan-findings-view", id: `scan-findings-${value}`, value, checked: (value === "grouped") === this.grouped });
      input.addEventListener("change", () => {
        if (!input.checked) return;
        this.grouped = value === "grouped";
        this.offset = 0;
        this.load();
      });
      return [input, h("label", { for: `scan-findings-${value}` }, label)];
    };
    this.prev = h("button", { type: "button", class: "button-quiet", onclick: () => this.page(-1) }, "Previous page");
    this.next = h("button", { type: "button", class: "button-quiet", onclick: () => this.page(1) }, "Next page");
    return h("div", { class: "findings-block" },
      h("form", { class: "filters", role: "search", "aria-label": "Filter findings", onsubmit: (e) => e.preventDefault() },
        this.severity.field, this.category.field, this.rule.field, clear),
      h("fieldset", { class: "segmented" }, h("legend", {}, "Show"), radio("grouped", "Grouped by rule"), radio("flat", "Every finding")),
      this.status,
      this.groupsHost,
      this.tableWrap,
      h("div", { class: "pager" }, this.prev, this.next));
  }

  select(id, label, allText, options) {
    const select = h("select", { id, name: id, onchange: () => this.onFilterChange() },
      h("option", { value: "" }, allText), options.map(([value, text]) => h("option", { value }, text)));
    return { select, field: h("div", { class: "field" }, h("label", { for: id }, label), select) };
  }

  onFilterChange() {
    this.filters = { severity: this.severity.select.value, category: this.category.select.value, rule_id: this.rule.select.value };
    this.offset = 0;
    this.load();
  }

  setFilters(filters) {
    this.filters = { severity: "", category: "", rule_id: "", ...filters };
    this.severity.select.value = this.filters.severity;
    this.category.select.value = this.filters.category;
    this.rule.select.value = this.filters.rule_id;
    this.offset = 0;
    return this.load();
  }

  page(direction) {
    this.offset = Math.max(0, this.offset + direction * PAGE);
    this.load();
  }

  async load() {
    setText(this.status, "Loading findings…");
    this.table.setAttribute("aria-busy", "true");
    const grouped = this.grouped;
    let data;
    try {
      data = await this.api.get(grouped ? "/api/findings/groups" : "/api/findings",
        { scan_id: this.scanId, ...this.filters, limit: PAGE, offset: this.offset });
    } catch (err) {
      const why = err instanceof Unreachable || err instanceof ApiError ? err.message : String(err);
      setText(this.status, `Could not load findings: ${why}`);
      this.table.removeAttribute("aria-busy");
      return;
    }
    if (grouped !== this.grouped) return; // switched while this answer was on its way
    this.loaded = true;
    this.groupsHost.hidden = !grouped;
    this.tableWrap.hidden = grouped;
    if (grouped) this.renderGroups(data);
    else this.render(data);
    this.table.removeAttribute("aria-busy");
  }

  renderGroups(data) {
    const filtered = Object.values(this.filters).some(Boolean);
    if (data.count === 0) {
      setText(this.status, filtered ? "No findings match these filters." : "No findings: every evaluated rule passed.");
      this.groupsHost.replaceChildren();
    } else {
      setText(this.status, `${plural(data.total_findings, "finding")} in ${plural(data.count, "rule")}${filtered ? " match" : ""}; rules ${data.offset + 1}–${data.offset + data.groups.length}.`);
      replaceChildren(this.groupsHost, this.groups.table(data.groups, "Findings of this scan grouped by rule"));
    }
    this.prev.disabled = data.offset === 0;
    this.next.disabled = data.offset + data.groups.length >= data.count;
  }

  render(data) {
    const filtered = Object.values(this.filters).some(Boolean);
    if (data.count === 0) {
      setText(this.status, filtered ? "No findings match these filters." : "No findings: every evaluated rule passed.");
    } else {
      const last = Math.min(data.offset + data.findings.length, data.count);
      setText(this.status, `${plural(data.count, "finding")}${filtered ? " match" : ""}; showing ${data.offset + 1}–${last}.`);
    }
    this.prev.disabled = data.offset === 0;
    this.next.disabled = data.offset + data.findings.length >= data.count;
    const withCve = data.findings.some(hasCveData);
    replaceChildren(this.thead, h("tr", {},
      h("th", { scope: "col" }, "Severity"), h("th", { scope: "col" }, "Rule"), h("th", { scope: "col" }, "Resource"),
      h("th", { scope: "col" }, "Category"), withCve ? h("th", { scope: "col" }, "CVE") : null,
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Details"))));
    const columns = withCve ? 6 : 5;
    replaceChildren(this.tbody, data.findings.map((f) => this.rows(f, withCve, columns)));
  }

  rows(f, withCve, columns) {
    const detailsId = `finding-${f.id}-details`;
    const details = h("tr", { class: "finding-details", id: detailsId, hidden: true },
      h("td", { colspan: String(columns) }, this.details(f)));
    const toggle = h("button", { type: "button", class: "button-quiet", "aria-expanded": "false", "aria-controls": detailsId,
      "aria-label": `Details of ${f.rule_id} on ${f.resource_name}` }, "Details");
    toggle.addEventListener("click", () => {
      const open = details.hidden;
      details.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
    });
    const row = h("tr", { dataset: { findingId: String(f.id), severity: f.severity } },
      h("td", {}, severityBadge(f.severity)),
      h("td", {}, h("span", { class: "mono" }, f.rule_id), h("br"), h("span", { class: "muted" }, f.rule_name)),
      h("td", { class: "truncate-wide" }, f.resource_name, h("br"), h("span", { class: "muted small" }, f.resource_type)),
      h("td", {}, f.category),
      withCve ? h("td", { class: "cve" }, cveSummary(f)) : null,
      h("td", { class: "actions" }, toggle));
    return [row, details];
  }

  details(f) {
    return findingDetails(f);
  }
}

/** A finding's description, remediation, resource id, frameworks, CVEs and metadata. */
export function findingDetails(f, actions = null) {
  const frameworks = Object.entries(f.frameworks || {})
    .filter(([, ids]) => ids && ids.length)
    .map(([name, ids]) => `${name} ${ids.join(", ")}`).join(" · ");
  const items = [
    ["What is wrong", f.description],
    ["How to fix it", f.remediation],
    ["Resource id", h("span", { class: "mono break" }, f.resource_id)],
    ["Frameworks", frameworks || "—"],
  ];
  if (f.status && f.status !== "FAIL") items.unshift(["Result", f.status === "PASS" ? "PASS: the rule judged this resource compliant" : "NOT EVALUATED: the rule could not read what decides it"]);
  if (f.first_seen_at) items.push(["First seen", `${formatFullTime(f.first_seen_at)}${f.new ? " (new in this scan)" : ""}`]);
  if (f.muted) items.push(["Muted", f.mute_id !== null && f.mute_id !== undefined ? `yes, by mute ${f.mute_id}` : "yes"]);
  const refs = Array.isArray(f.cve_references) ? f.cve_references : [];
  if (refs.length) {
    items.push(["CVE references", h("ul", { class: "plain" }, refs.map((r) => h("li", {},
      h("span", { class: "mono" }, r.id),
      r.cvss_score !== undefined && r.cvss_score !== null ? ` CVSS ${r.cvss_score}` : "",
      r.cvss_vector ? h("span", { class: "muted mono small" }, ` ${r.cvss_vector}`) : "",
      r.published ? h("span", { class: "muted small" }, ` published ${String(r.published).slice(0, 10)}`) : "")))]);
  }
  if (f.metadata && Object.keys(f.metadata).length) {
    items.push(["Details", h("pre", { class: "metadata" }, JSON.stringify(f.metadata, null, 2))]);
  }
  const list = h("dl", { class: "kv" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  return actions ? h("div", {}, list, actions) : list;
}
