// Formatting of API values for people: durations, times, ids, percentages.

/** "45 s", "3 min 05 s", "2 h 04 min"; "—" for null. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Milliseconds since the epoch of an API timestamp, or null. */
export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** "14:03:07" today, "28 Nov 14:03" otherwise, in the browser's time zone. */
export function formatTime(iso, now = Date.now()) {
  const t = parseTime(iso);
  if (t === null) return "—";
  const d = new Date(t);
  const today = new Date(now).toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

/** Full timestamp for a title attribute. */
export function formatFullTime(iso) {
  const t = parseTime(iso);
  return t === null ? "" : new Date(t).toLocaleString();
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : "—";
}

export function clampPercent(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return 0;
  return Math.min(100, Math.max(0, Math.round(n)));
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
