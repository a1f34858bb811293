// What the operator-editable list pages (#/mutes, #/schedules) share: the frame (title, intro,
// status line, the operator's form, the list's body), loading the list with the same handling
// of an unreachable API, an ended session and other errors, and the empty-list message.
import { ApiError, Unreachable } from "./api.js";
import { $, h, replaceChildren } from "./dom.js";

export class ListPage {
  /**
   * @param {object} deps  api, session, connection (as every view gets them)
   * @param {{name: string, title: string, intro: string, path: string, key: string, empty: string}} page
   *   name: the element id prefix ("mutes"); key: the list's field in the API's answer
   */
  constructor({ api, session, connection }, page) {
    this.api = api;
    this.session = session;
    this.connection = connection;
    this.page = page;
    this.root = $(`#${page.name}-view`);
  }

  show() {
    const { name, title, intro } = this.page;
    this.root.hidden = false;
    document.title = `${title} · OpenShield`;
    this.notice = h("p", { id: `${name}-message`, role: "status", "aria-live": "polite", class: "trigger-message" });
    this.body = h("div", { id: `${name}-body` }, h("p", { class: "muted" }, "Loading…"));
    replaceChildren(this.root,
      h("div", { class: "view-head" }, h("h1", { id: `${name}-title`, tabindex: "-1" }, title),
        h("p", { class: "muted" }, intro)),
      this.notice, this.session.isOperator ? this.form() : null, this.body);
    return this.load();
  }

  hide() {
    this.root.hidden = true;
  }

  /** The list's items, or null when there is nothing to draw (an error shown, an empty list said). */
  async fetchItems() {
    const { name, path, key, empty } = this.page;
    let data;
    try {
      data = await this.api.get(path);
    } catch (err) {
      if (err instanceof Unreachable) this.connection.down(err.message);
      if (err instanceof ApiError && err.status === 401) return null;
      replaceChildren(this.body, h("p", { class: "form-error", role: "alert" }, `Could not load the ${name}: ${err.message}`));
      return null;
    }
    if (!data[key].length) {
      replaceChildren(this.body, h("p", { class: "empty", id: `${name}-empty` }, empty));
      return null;
    }
    return data[key];
  }
}
