// Mutes (#/mutes): the accepted risks (GET /api/mutes) with who accepted them and why; operators
// can add one (POST /api/mutes) and delete one (DELETE /api/mutes/<id>). Mutes apply when a scan
// is saved, which the page says, so nobody expects stored findings to change at once.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren, setText } from "./dom.js";
import { formatFullTime, formatTime, shortId } from "./format.js";

export class MutesView {
  constructor({ api, session, connection }) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.root = $("#mutes-view");
  }

  show() {
    this.root.hidden = false;
    document.title = "Mutes · OpenShield";
    this.notice = h("p", { id: "mutes-message", role: "status", "aria-live": "polite", class: "trigger-message" });
    this.body = h("div", { id: "mutes-body" }, h("p", { class: "muted" }, "Loading…"));
    replaceChildren(this.root,
      h("div", { class: "view-head" }, h("h1", { id: "mutes-title", tabindex: "-1" }, "Mutes"),
        h("p", { class: "muted" }, "Accepted risks: matching failures stay listed as muted and are left out of the score, from the next scan on.")),
      this.notice, this.session.isOperator ? this.form() : null, this.body);
    return this.load();
  }

  hide() {
    this.root.hidden = true;
  }

  async load() {
    let data;
    try {
      data = await this.api.get("/api/mutes");
    } catch (err) {
      if (err instanceof Unreachable) this.connection.down(err.message);
      if (err instanceof ApiError && err.status === 401) return;
      replaceChildren(this.body, h("p", { class: "form-error", role: "alert" }, `Could not load the mutes: ${err.message}`));
      return;
    }
    if (!data.mutes.length) {
      replaceChildren(this.body, h("p", { class: "empty", id: "mutes-empty" }, "No mute: every failure counts."));
      return;
    }
    const operator = this.session.isOperator;
    replaceChildren(this.body, h("div", { class: "table-wrap" }, h("table", { class: "data", id: "mutes-table" },
      h("caption", { class: "visually-hidden" }, "Mutes"),
      h("thead", {}, h("tr", {}, ["Mute", "Rule", "Resources", "Subscription", "Justification", "By", "Created", "Expires"].map((c) => h("th", { scope: "col" }, c)),
        operator ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
      h("tbody", {}, data.mutes.map((m) => h("tr", { dataset: { muteId: String(m.id) } },
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
