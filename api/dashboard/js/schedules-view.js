// Schedules (#/schedules): every schedule with its timing, target and last run; operators can
// add one, pause / resume it and delete it (GET/POST /api/schedules, PATCH/DELETE
// /api/schedules/<id>). Readers see the same table without the controls.
import { ListPage } from "./list-page.js";
import { h, replaceChildren, setText } from "./dom.js";
import { formatDuration, formatFullTime, formatTime, shortId } from "./format.js";

/** "every 1 h 00 min", "cron 0 2 * * * (Europe/Berlin)". */
export function timingText(s) {
  if (s.cron) return `cron ${s.cron} (${s.timezone || "UTC"})`;
  return `every ${formatDuration(s.interval_seconds)}`;
}

export class SchedulesView extends ListPage {
  constructor(deps) {
    super(deps, {
      name: "schedules", title: "Schedules", path: "/api/schedules", key: "schedules",
      empty: "No schedule: scans start only when someone triggers them.",
      intro: "Scans started on an interval or a cron expression, for one subscription or all.",
    });
  }

  async load() {
    const items = await this.fetchItems();
    if (items === null) return;
    const operator = this.session.isOperator;
    replaceChildren(this.body, h("div", { class: "table-wrap" }, h("table", { class: "data", id: "schedules-table" },
      h("caption", { class: "visually-hidden" }, "Schedules"),
      h("thead", {}, h("tr", {}, ["Name", "Scans", "When", "State", "Next run", "Last run", "Last problem"].map((c) => h("th", { scope: "col" }, c)),
        operator ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
      h("tbody", {}, items.map((s) => h("tr", { dataset: { scheduleId: s.id } },
        h("td", {}, s.name || shortId(s.id)),
        h("td", {}, s.target === "all" ? "every subscription" : h("span", { class: "mono" }, s.subscription_id)),
        h("td", {}, timingText(s)),
        h("td", {}, h("span", { class: `badge ${s.enabled ? "status-running" : "status-cancelled"}` }, s.enabled ? "active" : "paused")),
        h("td", { title: formatFullTime(s.next_run_at) }, s.enabled && s.next_run_at ? formatTime(s.next_run_at) : "—"),
        h("td", { title: formatFullTime(s.last_fired_at) }, s.last_fired_at ? formatTime(s.last_fired_at) : "never"),
        h("td", { class: "reason" }, s.last_error || (s.last_skipped || []).map((k) => `${shortId(k.subscription_id)}: ${k.reason}`).join("; ")),
        operator ? h("td", { class: "actions" }, this.toggleButton(s), " ", this.deleteButton(s)) : null))))));
  }

  toggleButton(s) {
    const name = s.name || shortId(s.id);
    return h("button", { type: "button", class: "button-quiet", "aria-label": `${s.enabled ? "Pause" : "Resume"} schedule ${name}`,
      onclick: () => this.act(() => this.api.patch(`/api/schedules/${s.id}`, { enabled: !s.enabled }), `Schedule ${name} ${s.enabled ? "paused" : "resumed"}.`) },
    s.enabled ? "Pause" : "Resume");
  }

  deleteButton(s) {
    const name = s.name || shortId(s.id);
    return h("button", { type: "button", class: "button-danger", "aria-label": `Delete schedule ${name}`, onclick: () => {
      if (window.confirm(`Delete schedule ${name}?`)) this.act(() => this.api.delete(`/api/schedules/${s.id}`), `Schedule ${name} deleted.`);
    } }, "Delete");
  }

  async act(request, done) {
    try {
      await request();
      setText(this.notice, done);
    } catch (err) {
      setText(this.notice, `Could not change the schedule: ${err.message}`);
    }
    await this.load();
  }

  /** Add a schedule: one subscription or all, every N minutes or a cron expression. */
  form() {
    const name = h("input", { id: "schedule-name", name: "name", autocomplete: "off" });
    const sub = h("input", { id: "schedule-subscription", name: "subscription_id", autocomplete: "off", class: "mono", placeholder: "blank: every subscription" });
    const minutes = h("input", { id: "schedule-minutes", name: "minutes", type: "number", min: "5", inputmode: "numeric", placeholder: "e.g. 1440" });
    const cron = h("input", { id: "schedule-cron", name: "cron", autocomplete: "off", class: "mono", placeholder: "or cron, e.g. 0 2 * * *" });
    const tz = h("input", { id: "schedule-timezone", name: "timezone", autocomplete: "off", placeholder: "UTC" });
    const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);
    return h("form", { class: "filters", id: "schedule-form", "aria-label": "Add a schedule", onsubmit: async (event) => {
      event.preventDefault();
      const body = {};
      if (name.value.trim()) body.name = name.value.trim();
      if (sub.value.trim()) body.subscription_id = sub.value.trim();
      else body.all = true;
      if (cron.value.trim()) body.cron = cron.value.trim();
      if (minutes.value.trim()) body.interval_seconds = Math.round(Number(minutes.value) * 60);
      if (tz.value.trim()) body.timezone = tz.value.trim();
      try {
        const created = await this.api.post("/api/schedules", body);
        setText(this.notice, `Schedule ${created.name || shortId(created.id)} added; next run ${formatFullTime(created.next_run_at)}.`);
        event.target.reset();
      } catch (err) {
        setText(this.notice, `Could not add the schedule: ${err.message}`);
      }
      await this.load();
    } }, field("schedule-name", "Name", name), field("schedule-subscription", "Subscription", sub),
    field("schedule-minutes", "Every (minutes)", minutes), field("schedule-cron", "Cron", cron), field("schedule-timezone", "Time zone", tz),
    h("button", { type: "submit", class: "button-primary" }, "Add schedule"));
  }
}
