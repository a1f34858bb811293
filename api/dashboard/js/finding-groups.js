// Findings grouped by rule: one row per rule (severity, rule, title, category, counts) that
// expands to the rule's resources, loaded from GET /api/findings with the same filters. Shared
// by the findings explorer and anything else that shows a filter's findings per rule.
// Counts other than `failed` (`passed`, `muted`, once the API reports them) get a column only
// when the groups carry them, so the table grows with the API without a change here.
import { h } from "./dom.js";
import { plural } from "./format.js";
import { severityBadge } from "./components.js";
import { findingDetails } from "./findings-table.js";

const RESOURCES_PER_GROUP = 50;
const OPTIONAL_COUNTS = [["passed", "Passed"], ["muted", "Muted"]];

export class FindingGroups {
  /**
   * @param {object} api the API client
   * @param {() => object} filterParams the filter the groups were counted with (applied to resources)
   */
  constructor({ api, filterParams, idPrefix = "", actions = null }) {
    this.api = api;
    // (finding) => a node of controls for its details (mute / unmute), or null
    this.actions = actions;
    this.filterParams = filterParams;
    // ids must be unique in the page: the explorer and a scan's page both hold groups
    this.prefix = idPrefix ? `${idPrefix}-` : "";
  }

  /** The table for one page of groups (`groups` of GET /api/findings/groups). */
  table(groups, caption = "Findings grouped by rule") {
    const counts = [["failed", "Failed"], ...OPTIONAL_COUNTS.filter(([key]) => groups.some((g) => typeof g[key] === "number"))];
    const width = 4 + counts.length + 2;
    const tbody = h("tbody");
    for (const group of groups) tbody.append(...this.rows(group, counts, width));
    return h("div", { class: "table-wrap" }, h("table", { class: "data groups", id: `${this.prefix}groups-table` },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {},
        ["Severity", "Rule", "Title", "Category", ...counts.map(([, head]) => head), "Subscriptions"].map((c) => h("th", { scope: "col" }, c)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Resources")))),
      tbody));
  }

  rows(group, counts, width) {
    const detailsId = `${this.prefix}group-${group.rule_id}-resources`;
    const holder = h("td", { colspan: String(width) });
    const details = h("tr", { class: "group-resources finding-details", id: detailsId, hidden: true }, holder);
    const toggle = h("button", { type: "button", class: "button-quiet", "aria-expanded": "false", "aria-controls": detailsId,
      "aria-label": `Resources failing ${group.rule_id}` }, "Resources");
    toggle.addEventListener("click", () => {
      const open = details.hidden;
      details.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open && !holder.firstChild) this.loadResources(group, holder, 0);
    });
    const row = h("tr", { dataset: { ruleId: group.rule_id, severity: group.severity } },
      h("td", {}, severityBadge(group.severity)),
      h("td", { class: "mono" }, group.rule_id),
      h("td", {}, group.rule_name),
      h("td", {}, group.category),
      counts.map(([key]) => h("td", { class: "num", dataset: { count: key } }, String(group[key] ?? 0))),
      h("td", { class: "num" }, String(group.subscriptions)),
      h("td", { class: "actions" }, toggle));
    return [row, details];
  }

  async loadResources(group, holder, offset) {
    const busy = h("p", { class: "muted" }, "Loading resources…");
    holder.appendChild(busy);
    let data;
    try {
      data = await this.api.get("/api/findings", { ...this.filterParams(), rule_id: group.rule_id, sort: "resource",
        limit: RESOURCES_PER_GROUP, offset });
    } catch (err) {
      busy.replaceWith(h("p", { class: "form-error" }, `Could not load resources: ${err.message}`));
      return;
    }
    busy.remove();
    let list = holder.querySelector("ul.resources");
    if (!list) {
      list = h("ul", { class: "resources plain", "aria-label": `Resources failing ${group.rule_id}` });
      holder.appendChild(list);
    }
    for (const f of data.findings) list.appendChild(resourceItem(f, this.prefix, this.actions));
    const shown = offset + data.findings.length;
    if (shown < data.count) {
      const more = h("button", { type: "button", class: "button-quiet", onclick: () => {
        more.remove();
        this.loadResources(group, holder, shown);
      } }, `Show more (${plural(data.count - shown, "more resource")})`);
      holder.appendChild(more);
    }
  }
}

/** One failing resource: its name (as text), subscription and a details toggle. */
function resourceItem(f, prefix, actions) {
  const detailsId = `${prefix}group-finding-${f.id}`;
  const details = h("div", { id: detailsId, class: "resource-details", hidden: true }, findingDetails(f, actions ? actions(f) : null));
  const toggle = h("button", { type: "button", class: "button-quiet", "aria-expanded": "false", "aria-controls": detailsId,
    "aria-label": `Details of ${f.rule_id} on ${f.resource_name}` }, "Details");
  toggle.addEventListener("click", () => {
    const open = details.hidden;
    details.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  });
  return h("li", { dataset: { findingId: String(f.id) } },
    h("span", { class: "resource-name" }, f.resource_name), " ", resultBadges(f),
    h("span", { class: "muted small mono" }, f.subscription_id), " ", toggle, details);
}

/** "new" and "muted" badges of a failure (nothing for others). */
export function resultBadges(f) {
  return [
    f.new ? h("span", { class: "badge badge-new", title: "not failing in the previous scan" }, "new") : null,
    f.muted ? h("span", { class: "badge badge-muted", title: f.mute_id ? `mute ${f.mute_id}` : "muted" }, "muted") : null,
    f.new || f.muted ? " " : null,
  ];
}
