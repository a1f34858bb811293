// The findings explorer (#/findings): the current posture's findings grouped by rule (default)
// or as a flat list, with search, filters, sort, page size and page jump. The server filters,
// groups and counts (GET /api/findings/groups, GET /api/findings); the page only shows one page.
// Every piece of the state lives in the URL fragment, so a view can be shared as a link.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { plural } from "./format.js";
import { SEVERITIES, severityBadge } from "./components.js";
import { FindingGroups, resultBadges } from "./finding-groups.js";
import { findingDetails } from "./findings-table.js";
import { exportButton } from "./downloads.js";
import { muteControls } from "./mute-controls.js";
import { hashFor, replaceHash } from "./router.js";

const SIZES = ["25", "50", "100"];
const GROUP_SORTS = [["severity", "Severity"], ["rule", "Rule id"], ["count", "Most failed"]];
const FLAT_SORTS = [["severity", "Severity"], ["rule", "Rule id"], ["resource", "Resource name"]];
const SEARCH_DELAY_MS = 250;
// the parameters the fragment carries, with their defaults
// scan_id: one scan's findings instead of the current posture (a link from a scan's page)
// status: FAIL (failures, grouped or flat), PASS or NOT_EVALUATED (flat only: groups count failures)
// muted: "" both, "true" only muted failures, "false" only open ones
const STATUSES = [["FAIL", "Failed"], ["PASS", "Passed"], ["NOT_EVALUATED", "Not evaluated"]];
const MUTED = [["false", "Open only"], ["true", "Muted only"]];
// new: "true" only failures new since each subscription's previous completed scan
const NEW = [["true", "New since the previous scan"]];
const DEFAULTS = { view: "grouped", status: "FAIL", muted: "", new: "", scan_id: "", q: "", severity: "", category: "", rule_id: "", subscription_id: "", framework: "", control: "", sort: "severity", size: "25", page: "1" };
const FILTERS = ["status", "muted", "new", "scan_id", "q", "severity", "category", "rule_id", "subscription_id", "framework", "control"];
const FRAMEWORKS = [["cis", "CIS v2", "CIS"], ["cis-v6", "CIS v6", "CIS6"], ["nist", "NIST CSF", "NIST"], ["iso27001", "ISO 27001", "ISO27001"]];

/** Control ids of a framework (by catalogue key) in natural order: 1.2 before 1.10. */
export function controlsOf(catalogue, key) {
  const ids = new Set();
  for (const rule of catalogue) for (const id of (rule.frameworks && rule.frameworks[key]) || []) ids.add(id);
  return [...ids].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The explorer's state from URL parameters; unknown values fall back to the defaults. */
export function stateFromParams(params) {
  const state = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    const value = params.get(key);
    if (value !== null) state[key] = value;
  }
  if (!["grouped", "flat"].includes(state.view)) state.view = "grouped";
  state.status = String(state.status).toUpperCase();
  if (!STATUSES.some(([v]) => v === state.status)) state.status = "FAIL";
  if (!MUTED.some(([v]) => v === state.muted)) state.muted = "";
  if (!NEW.some(([v]) => v === state.new)) state.new = "";
  if (state.status !== "FAIL") {
    state.view = "flat";
    state.muted = "";
    state.new = "";
  }
  const sorts = (state.view === "grouped" ? GROUP_SORTS : FLAT_SORTS).map(([v]) => v);
  if (!sorts.includes(state.sort)) state.sort = "severity";
  if (!SIZES.includes(state.size)) state.size = DEFAULTS.size;
  if (!FRAMEWORKS.some(([slug]) => slug === state.framework)) state.framework = "";
  if (!state.framework) state.control = "";
  if (!UUID.test(state.scan_id)) state.scan_id = "";
  else state.scan_id = state.scan_id.toLowerCase();
  const page = Number.parseInt(state.page, 10);
  state.page = String(Number.isFinite(page) && page >= 1 ? page : 1);
  return state;
}

export class ExplorerView {
  constructor({ api, session, connection, getCatalogue }) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.getCatalogue = getCatalogue;
    this.root = $("#findings-view");
    this.state = { ...DEFAULTS };
    this.built = false;
    this.loadSeq = 0;
    this.searchTimer = null;
    this.groups = new FindingGroups({ api, filterParams: () => this.filterParams(),
      actions: (finding) => muteControls({ api, session, finding }) });
  }

  async show(_match, params) {
    this.root.hidden = false;
    document.title = "Findings · OpenShield";
    this.state = stateFromParams(params);
    if (!this.built) {
      this.catalogue = await this.getCatalogue();
      this.subscriptions = await this.loadSubscriptions();
      this.build();
      this.built = true;
    }
    this.syncControls();
    return this.load();
  }

  hide() {
    this.root.hidden = true;
    clearTimeout(this.searchTimer);
  }

  async loadSubscriptions() {
    try {
      const score = await this.api.get("/api/score");
      return score.subscriptions.map((s) => s.subscription_id);
    } catch (err) {
      if (err instanceof Unreachable) this.connection.down(err.message);
      return [];
    }
  }

  build() {
    const categories = [...new Set(this.catalogue.map((r) => r.category))].sort();
    this.search = h("input", { type: "search", id: "explorer-q", name: "q", autocomplete: "off", spellcheck: "false",
      placeholder: "resource name or id, rule id or title", "aria-describedby": "explorer-status" });
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.change({ q: this.search.value.trim() }), SEARCH_DELAY_MS);
    });
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(this.searchTimer);
        this.change({ q: this.search.value.trim() });
      }
    });
    this.controls = {
      status: this.select("explorer-result", "Result", null, STATUSES),
      muted: this.select("explorer-muted", "Muted", "Open and muted", MUTED),
      new: this.select("explorer-new", "New", "New and older", NEW),
      severity: this.select("explorer-severity", "Severity", "All severities", SEVERITIES.map((s) => [s, s])),
      category: this.select("explorer-category", "Category", "All categories", categories.map((c) => [c, c])),
      rule_id: this.select("explorer-rule", "Rule", "All rules", this.catalogue.map((r) => [r.rule_id, `${r.rule_id} — ${r.title}`])),
      subscription_id: this.select("explorer-subscription", "Subscription", "All subscriptions", this.subscriptions.map((s) => [s, s])),
      framework: this.select("explorer-framework", "Framework", "Any framework", FRAMEWORKS.map(([slug, name]) => [slug, name])),
      control: this.select("explorer-control", "Control", "Any control", []),
    };
    this.viewGrouped = h("input", { type: "radio", name: "explorer-view", id: "explorer-view-grouped", value: "grouped" });
    this.viewFlat = h("input", { type: "radio", name: "explorer-view", id: "explorer-view-flat", value: "flat" });
    for (const radio of [this.viewGrouped, this.viewFlat]) {
      radio.addEventListener("change", () => radio.checked && this.change({ view: radio.value, sort: "severity" }));
    }
    this.sort = h("select", { id: "explorer-sort", name: "sort", onchange: () => this.change({ sort: this.sort.value }) });
    this.size = h("select", { id: "explorer-size", name: "size", onchange: () => this.change({ size: this.size.value }) },
      SIZES.map((n) => h("option", { value: n }, n)));
    this.status = h("p", { id: "explorer-status", class: "muted", role: "status", "aria-live": "polite" });
    this.scope = h("p", { id: "explorer-scope", class: "muted" });
    this.results = h("div", { id: "explorer-results" });
    this.pageInput = h("input", { type: "number", id: "explorer-page", name: "page", min: "1", inputmode: "numeric", class: "page-input" });
    this.pageCount = h("span", { class: "muted", id: "explorer-pages" });
    this.prev = h("button", { type: "button", class: "button-quiet", onclick: () => this.goPage(Number(this.state.page) - 1) }, "Previous page");
    this.next = h("button", { type: "button", class: "button-quiet", onclick: () => this.goPage(Number(this.state.page) + 1) }, "Next page");
    const jump = h("form", { class: "page-jump", "aria-label": "Go to page", onsubmit: (event) => {
      event.preventDefault();
      this.goPage(Number.parseInt(this.pageInput.value, 10) || 1);
    } }, h("label", { for: "explorer-page" }, "Page"), this.pageInput, this.pageCount,
    h("button", { type: "submit", class: "button-quiet" }, "Go"));
    const clear = h("button", { type: "button", class: "button-quiet", onclick: () => {
      this.search.value = "";
      this.change({ status: "FAIL", muted: "", new: "", q: "", severity: "", category: "", rule_id: "", subscription_id: "", framework: "", control: "" }); // keeps scan_id
    } }, "Clear filters");
    // every page of the current filter, as the server filters it (GET /api/findings/export)
    const exportStatus = h("span", { id: "explorer-export-status", class: "muted", role: "status", "aria-live": "polite" });
    const exports = h("p", { class: "export-buttons", id: "explorer-exports" },
      exportButton({ api: this.api, label: "Download CSV", path: "/api/findings/export", params: () => this.exportParams("csv"),
        status: exportStatus, id: "explorer-export-csv", describe: "these findings as CSV" }), " ",
      exportButton({ api: this.api, label: "Download JSON (OCSF)", path: "/api/findings/export", params: () => this.exportParams("ocsf"),
        status: exportStatus, id: "explorer-export-ocsf", describe: "these findings as JSON (OCSF)" }), " ", exportStatus);
    replaceChildren(this.root,
      h("div", { class: "view-head" }, h("h1", { id: "findings-view-title", tabindex: "-1" }, "Findings"), this.scope),
      h("form", { class: "filters explorer-filters", role: "search", "aria-label": "Search and filter findings", onsubmit: (e) => e.preventDefault() },
        h("div", { class: "field field-search" }, h("label", { for: "explorer-q" }, "Search"), this.search),
        Object.values(this.controls).map((c) => c.field), clear),
      h("div", { class: "explorer-options" },
        h("fieldset", { class: "segmented" }, h("legend", {}, "Show"),
          this.viewGrouped, h("label", { for: "explorer-view-grouped" }, "Grouped by rule"),
          this.viewFlat, h("label", { for: "explorer-view-flat" }, "Every finding")),
        h("div", { class: "field field-inline" }, h("label", { for: "explorer-sort" }, "Sort by"), this.sort),
        h("div", { class: "field field-inline" }, h("label", { for: "explorer-size" }, "Per page"), this.size)),
      this.status,
      exports,
      this.results,
      h("div", { class: "pager" }, this.prev, jump, this.next));
  }

  select(id, label, allText, options) {
    const key = { "explorer-result": "status", "explorer-muted": "muted", "explorer-new": "new", "explorer-severity": "severity", "explorer-category": "category", "explorer-rule": "rule_id",
      "explorer-subscription": "subscription_id", "explorer-framework": "framework", "explorer-control": "control" }[id];
    // a new framework means its own controls: the control chosen for another one is dropped
    const patch = (value) => (key === "framework" ? { framework: value, control: "" } : { [key]: value });
    const select = h("select", { id, name: key, onchange: () => this.change(patch(select.value)) },
      allText === null ? null : h("option", { value: "" }, allText), options.map(([value, text]) => h("option", { value }, text)));
    return { select, field: h("div", { class: "field" }, h("label", { for: id }, label), select) };
  }

  /** Controls show the state (after a link was opened, or back/forward). */
  syncControls() {
    const s = this.state;
    const framework = FRAMEWORKS.find(([slug]) => slug === s.framework);
    const controlSelect = this.controls.control.select;
    if (controlSelect.dataset.framework !== s.framework) {
      controlSelect.dataset.framework = s.framework;
      replaceChildren(controlSelect, h("option", { value: "" }, framework ? `Any ${framework[1]} control` : "Any control"),
        framework ? controlsOf(this.catalogue, framework[2]).map((c) => h("option", { value: c }, c)) : []);
    }
    controlSelect.disabled = !framework;
    // PASS / NOT_EVALUATED: flat only, and muting is a property of failures
    this.controls.muted.select.disabled = s.status !== "FAIL";
    this.controls.new.select.disabled = s.status !== "FAIL";
    this.viewGrouped.disabled = s.status !== "FAIL";
    if (s.scan_id) {
      replaceChildren(this.scope, `Findings of scan ${s.scan_id.slice(0, 8)} (`,
        h("a", { href: `#/scans/${s.scan_id}` }, "the scan"), "; ",
        h("a", { href: "#/findings" }, "the current posture instead"), ").");
    } else {
      replaceChildren(this.scope, "The current posture: the latest completed scan of each subscription.");
    }
    if (document.activeElement !== this.search) this.search.value = s.q;
    for (const [key, control] of Object.entries(this.controls)) {
      // a value the list does not offer (a subscription not scanned lately) is still shown
      if (s[key] && ![...control.select.options].some((o) => o.value === s[key])) {
        control.select.appendChild(h("option", { value: s[key] }, s[key]));
      }
      control.select.value = s[key];
    }
    this.viewGrouped.checked = s.view === "grouped";
    this.viewFlat.checked = s.view === "flat";
    const sorts = s.view === "grouped" ? GROUP_SORTS : FLAT_SORTS;
    replaceChildren(this.sort, sorts.map(([v, text]) => h("option", { value: v }, text)));
    this.sort.value = s.sort;
    this.size.value = s.size;
  }

  /** A change of any control: back to page 1, into the URL, then load. */
  change(patch) {
    this.state = stateFromParams(new URLSearchParams({ ...this.state, page: "1", ...patch }));
    this.syncControls();
    this.writeUrl();
    return this.load();
  }

  goPage(page) {
    const last = Math.max(1, Math.ceil(this.total / Number(this.state.size)));
    this.state.page = String(Math.min(Math.max(1, page), last));
    this.writeUrl();
    return this.load();
  }

  writeUrl() {
    const differing = Object.fromEntries(Object.entries(this.state).filter(([k, v]) => v !== DEFAULTS[k]));
    replaceHash(hashFor("/findings", differing));
  }

  filterParams() {
    // status=FAIL is the API's default: left out so the groups route (which has no status) accepts it
    return Object.fromEntries(FILTERS.map((k) => [k, this.state[k]]).filter(([k, v]) => v && !(k === "status" && v === "FAIL")));
  }

  /** The export's query: the filter from the URL state, and the flat list's order (every
   * matching row, not one page; a grouped view exports its findings in severity order). */
  exportParams(format) {
    const sort = FLAT_SORTS.some(([v]) => v === this.state.sort) ? this.state.sort : "severity";
    return { format, ...this.filterParams(), ...(sort === "severity" ? {} : { sort }) };
  }

  async load() {
    const seq = ++this.loadSeq;
    const size = Number(this.state.size);
    const offset = (Number(this.state.page) - 1) * size;
    const path = this.state.view === "grouped" ? "/api/findings/groups" : "/api/findings";
    const started = performance.now();
    setText(this.status, "Loading…");
    this.results.setAttribute("aria-busy", "true");
    let data;
    try {
      data = await this.api.get(path, { ...this.filterParams(), sort: this.state.sort, limit: size, offset });
    } catch (err) {
      if (seq !== this.loadSeq) return;
      if (err instanceof Unreachable) this.connection.down(err.message);
      this.results.removeAttribute("aria-busy");
      setText(this.status, `Could not load findings: ${err instanceof Unreachable || err instanceof ApiError ? err.message : String(err)}`);
      return;
    }
    if (seq !== this.loadSeq) return; // a newer filter change answered first or is on its way
    this.total = data.count;
    if (this.state.view === "grouped") this.renderGroups(data);
    else this.renderFlat(data);
    this.renderPager(data, size);
    this.results.removeAttribute("aria-busy");
    // how long the server and the page took for this change (the browser tests print it)
    this.root.dataset.loadMs = String(Math.round(performance.now() - started));
  }

  renderPager(data, size) {
    const pages = Math.max(1, Math.ceil(data.count / size));
    const page = Number(this.state.page);
    this.pageInput.value = String(page);
    this.pageInput.max = String(pages);
    setText(this.pageCount, `of ${pages}`);
    this.prev.disabled = page <= 1;
    this.next.disabled = page >= pages;
  }

  filtered() {
    return FILTERS.some((k) => k !== "scan_id" && this.state[k] && !(k === "status" && this.state[k] === "FAIL"));
  }

  /** "findings", "passed results", "not-evaluated results": what the counts count. */
  noun(n) {
    if (this.state.status === "PASS") return plural(n, "passed result");
    if (this.state.status === "NOT_EVALUATED") return plural(n, "not-evaluated result");
    return plural(n, "finding");
  }

  renderGroups(data) {
    if (data.count === 0) {
      setText(this.status, this.filtered() ? "No findings match this search and these filters." : "No findings: every evaluated rule passed.");
      replaceChildren(this.results);
      return;
    }
    const first = data.offset + 1;
    const last = data.offset + data.groups.length;
    setText(this.status, `${plural(data.total_findings, "finding")} in ${plural(data.count, "rule")}${this.filtered() ? " match" : ""}; rules ${first}–${last}.`);
    replaceChildren(this.results, this.groups.table(data.groups));
  }

  renderFlat(data) {
    if (data.count === 0) {
      setText(this.status, this.filtered() ? "No findings match this search and these filters." : "No findings: every evaluated rule passed.");
      replaceChildren(this.results);
      return;
    }
    const last = data.offset + data.findings.length;
    setText(this.status, `${this.noun(data.count)}${this.filtered() ? " match" : ""}; showing ${data.offset + 1}–${last}.`);
    const tbody = h("tbody");
    for (const [i, f] of data.findings.entries()) {
      // PASS / NOT_EVALUATED results have no id: the row's place makes the element id unique
      const detailsId = `explorer-finding-${f.id ?? `r${data.offset + i}`}`;
      const details = h("tr", { class: "finding-details", id: detailsId, hidden: true },
        h("td", { colspan: "6" }, findingDetails(f, muteControls({ api: this.api, session: this.session, finding: f }))));
      const toggle = h("button", { type: "button", class: "button-quiet", "aria-expanded": "false", "aria-controls": detailsId,
        "aria-label": `Details of ${f.rule_id} on ${f.resource_name}` }, "Details");
      toggle.addEventListener("click", () => {
        const open = details.hidden;
        details.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
      });
      tbody.append(h("tr", { dataset: { findingId: String(f.id), severity: f.severity, status: f.status || "FAIL" } },
        h("td", {}, severityBadge(f.severity), " ", resultBadges(f)),
        h("td", {}, h("span", { class: "mono" }, f.rule_id), h("br"), h("span", { class: "muted" }, f.rule_name)),
        h("td", { class: "truncate-wide" }, f.resource_name, h("br"), h("span", { class: "muted small" }, f.resource_type)),
        h("td", { class: "mono small" }, f.subscription_id),
        h("td", {}, f.category),
        h("td", { class: "actions" }, toggle)), details);
    }
    replaceChildren(this.results, h("div", { class: "table-wrap" }, h("table", { class: "data findings", id: "explorer-table" },
      h("caption", { class: "visually-hidden" }, "Findings"),
      h("thead", {}, h("tr", {}, ["Severity", "Rule", "Resource", "Subscription", "Category"].map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Details")))),
      tbody)));
  }
}
