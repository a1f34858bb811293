// Small pieces shared by the views: badges, the progress bar, buttons.
import { h, setAttr, setText } from "./dom.js";
import { clampPercent } from "./format.js";

export const ACTIVE_STATUSES = new Set(["pending", "running"]);
export const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];

export function isActive(scan) {
  return ACTIVE_STATUSES.has(scan.status);
}

/** A status badge; the word is the information, the colour only repeats it. */
export function statusBadge(status) {
  const el = h("span", { class: "badge" });
  updateStatusBadge(el, status);
  return el;
}

export function updateStatusBadge(el, status) {
  setText(el, status);
  const cls = `badge status-${status}`;
  if (el.className !== cls) el.className = cls;
}

export function severityBadge(severity) {
  return h("span", { class: `badge sev-${String(severity).toLowerCase()}` }, severity);
}

export function outcomeBadge(status) {
  return h("span", { class: `badge outcome-${status}` }, status);
}

/** What the progress label says: rules done of total and the overall percentage. */
export function progressText(scan) {
  const pct = clampPercent(scan.progress);
  const rules = scan.total_rules > 0 ? `${scan.rules_completed}/${scan.total_rules} rules` : "rules not counted yet";
  return { pct, label: `${rules} · ${pct}%` };
}

/** A progress bar (ARIA progressbar) with a visible label. */
export function progressBar(scan) {
  const fill = h("span", { class: "progress-fill" });
  const bar = h("span", { class: "progress-track" }, fill);
  const label = h("span", { class: "progress-label" });
  const el = h("span", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, bar, label);
  updateProgressBar(el, scan);
  return el;
}

export function updateProgressBar(el, scan) {
  const { pct, label } = progressText(scan);
  setAttr(el, "aria-valuenow", String(pct));
  setAttr(el, "aria-valuetext", label);
  el.querySelector(".progress-fill").style.width = `${pct}%`;
  setText(el.querySelector(".progress-label"), label);
  el.classList.toggle("is-active", isActive(scan));
  el.classList.toggle(`is-${scan.status}`, true);
  for (const s of ["pending", "running", "completed", "failed", "cancelled"]) {
    if (s !== scan.status) el.classList.remove(`is-${s}`);
  }
}
