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

/**
 * How a rule's outcome is labelled: "evaluated" (it ran; its failed count says how it went),
 * "skipped" (it could not read its data) or "error" (it raised). A rule that ran is never
 * called "ok": it may have failed on many resources.
 */
export function outcomeLabel(outcome) {
  if (outcome.status === "ok") return "evaluated";
  return outcome.status;
}

export function outcomeBadge(outcome) {
  const failing = outcome.status === "ok" && outcome.failed_count > 0;
  const cls = outcome.status === "ok" ? (failing ? "outcome-failing" : "outcome-ok") : `outcome-${outcome.status}`;
  return h("span", { class: `badge ${cls}` }, outcomeLabel(outcome));
}

const NUMBER = new Intl.NumberFormat("en");

/**
 * What the progress label says, by phase: while collecting, what has been listed and read
 * (the rules have not started, so "0/82 rules" would say nothing); while evaluating, rules
 * done of total; then the phase's name. Always the overall percentage.
 */
export function progressText(scan) {
  const pct = clampPercent(scan.progress);
  let what;
  if (scan.status === "pending") {
    what = scan.phase === "queued" ? "queued" : "starting";
  } else if (scan.status === "running" && scan.phase === "collecting") {
    const parts = [`${NUMBER.format(scan.resources_collected || 0)} resources listed`];
    const c = scan.collection;
    if (c && Number.isFinite(c.reads_total) && c.reads_total > 0) {
      parts.push(`${NUMBER.format(c.reads_done)}/${NUMBER.format(c.reads_total)} reads`);
    }
    what = `collecting: ${parts.join(", ")}`;
  } else if (scan.status === "running" && (scan.phase === "enriching" || scan.phase === "saving")) {
    what = scan.phase;
  } else if (scan.status === "running" && scan.phase === "starting") {
    what = "starting";
  } else {
    what = scan.total_rules > 0 ? `${scan.rules_completed}/${scan.total_rules} rules` : "rules not counted yet";
  }
  return { pct, label: `${what} · ${pct}%` };
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
