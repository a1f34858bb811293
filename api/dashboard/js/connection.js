// The banner that says whether the API is answering. Polls keep going while it is down; the
// banner says since when, and clears itself on the next answer.
import { setText } from "./dom.js";

export class Connection {
  constructor(el) {
    this.el = el;
    this.downSince = null;
    this.lastOk = null;
  }

  ok() {
    this.lastOk = Date.now();
    if (this.downSince !== null) {
      this.downSince = null;
      this.el.classList.remove("is-down");
      setText(this.el, "");
    }
  }

  down(reason) {
    if (this.downSince === null) this.downSince = Date.now();
    this.el.classList.add("is-down");
    const since = new Date(this.downSince).toLocaleTimeString();
    const last = this.lastOk ? `; data shown is from ${new Date(this.lastOk).toLocaleTimeString()}` : "";
    setText(this.el, `API unreachable since ${since} (${reason}); retrying every 2 s${last}`);
  }

  get isDown() {
    return this.downSince !== null;
  }
}
