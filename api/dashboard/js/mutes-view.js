// Mutes (#/mutes): the accepted risks (GET /api/mutes) with who accepted them and why; operators
// can add one (POST /api/mutes) and delete one (DELETE /api/mutes/<id>). Mutes apply when a scan
// is saved, which the page says, so nobody expects stored findings to change at once.
import { ListPage } from "./list-page.js";
import { h, replaceChildren, setText } from "./dom.js";
import { formatFullTime, formatTime, shortId } from "./format.js";

export class MutesView extends ListPage {
  constructor(deps) {
    super(deps, {
      name: "mutes", title: "Mutes", path: "/api/mutes", key: "mutes", empty: "No mute: every failure counts.",
      intro: "Accepted risks: matching failures stay listed as muted and are left out of the score, from the next scan on.",
    });
  }

  async load() {
    const items = await this.fetchItems();
    if (items === null) return;
    const operator = this.session.isOperator;
    replaceChildren(this.body, h("div", { class: "table-wrap" }, h("table", { class: "data", id: "mutes-table" },
      h("caption", { class: "visually-hidden" }, "Mutes"),
      h("thead", {}, h("tr", {}, ["Mute", "Rule", "Resources", "Subscription", "Justification", "By", "Created", "Expires"].map((c) => h("th", { scope: "col" }, c)),
        operator ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
      h("tbody", {}, items.map((m) => h("tr", { dataset: { muteId: String(m.id) } },
        h("td", { class: "num" }, String(m.id)),
        h("td", { class: "mono" }, m.rule_id),
        h("td", { class: "mono break" }, m.resource, m.tags && Object.keys(m.tags).length
          ? h("span", { class: "muted small" }, ` tags ${Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(", ")}`) : ""),
        h("td", { class: "mono" }, m.subscription_id ? shortId(m.subscription_id) : "any"),
        h("td", { class: "reason" }, m.justification),
        h("td", {}, m.author),
        h("td", { title: formatFullTime(m.created_at) }, formatTime(m.created_at)),
        h("td", { title: formatFullTime(m.expires_at) }, m.expires_at ? `${formatTime(m.expires_at)}${m.expired ? " (expired)" : ""}` : "never"),
        operator ? h("td", { class: "actions" }, h("button", { type: "button", class: "button-danger", "aria-label": `Delete mute ${m.id}`,
          onclick: () => this.remove(m) }, "Delete")) : null))))));
  }

  async remove(m) {
    if (!window.confirm(`Delete mute ${m.id} (${m.rule_id} on ${m.resource})?`)) return;
    try {
      await this.api.delete(`/api/mutes/${m.id}`);
      setText(this.notice, `Mute ${m.id} deleted: from the next scan its failures count again.`);
    } catch (err) {
      setText(this.notice, `Could not delete mute ${m.id}: ${err.message}`);
    }
    await this.load();
  }

  form() {
    const rule = h("input", { id: "mute-rule", name: "rule_id", autocomplete: "off", class: "mono", required: true, placeholder: "AZ-STG-001 or *" });
    const resource = h("input", { id: "mute-resource", name: "resource", autocomplete: "off", class: "mono", placeholder: "glob, blank: *" });
    const sub = h("input", { id: "mute-subscription", name: "subscription_id", autocomplete: "off", class: "mono", placeholder: "blank: any" });
    const why = h("input", { id: "mute-justification", name: "justification", autocomplete: "off", required: true, maxlength: "2000" });
    const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);
    return h("form", { class: "filters", id: "mute-form", "aria-label": "Add a mute", onsubmit: async (event) => {
      event.preventDefault();
      const body = { rule_id: rule.value.trim(), justification: why.value.trim() };
      if (resource.value.trim()) body.resource = resource.value.trim();
      if (sub.value.trim()) body.subscription_id = sub.value.trim();
      try {
        const created = await this.api.post("/api/mutes", body);
        setText(this.notice, `Mute ${created.id} added: it applies from the next scan.`);
        event.target.reset();
      } catch (err) {
        setText(this.notice, `Could not add the mute: ${err.message}`);
      }
      await this.load();
    } }, field("mute-rule", "Rule", rule), field("mute-resource", "Resources", resource), field("mute-subscription", "Subscription", sub),
    field("mute-justification", "Justification", why), h("button", { type: "submit", class: "button-primary" }, "Add mute"));
  }
}
