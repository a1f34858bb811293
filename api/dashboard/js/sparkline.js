// A small inline SVG line chart of a score over time (0–100), drawn with DOM calls only: no
// chart library, no innerHTML, nothing the strict CSP would refuse. Used for the overview's
// per-subscription trend from /api/score/history.
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/**
 * Where each point goes: x spread evenly by index (scans are what changed the score, not the
 * clock), y from 0 at the bottom to 100 at the top. Points with a null score are left out.
 * Returns [[x, y], …] rounded to one decimal.
 */
export function sparklinePoints(scores, width, height, pad = 2) {
  const values = scores.filter((s) => s !== null && s !== undefined && Number.isFinite(Number(s))).map(Number);
  if (!values.length) return [];
  const span = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const round = (n) => Math.round(n * 10) / 10;
  return values.map((v, i) => {
    const clamped = Math.min(100, Math.max(0, v));
    const x = values.length > 1 ? pad + i * span : width / 2;
    const y = pad + (1 - clamped / 100) * (height - 2 * pad);
    return [round(x), round(y)];
  });
}

/**
 * An <svg role="img"> line of the scores, oldest first, with a text alternative saying the
 * first and last score; null when there is no score to draw.
 */
export function sparkline(scores, { width = 120, height = 28, label = "Score trend" } = {}) {
  const points = sparklinePoints(scores, width, height);
  if (!points.length) return null;
  const values = scores.filter((s) => s !== null && s !== undefined && Number.isFinite(Number(s))).map(Number);
  const first = values[0];
  const last = values[values.length - 1];
  const text = values.length > 1
    ? `${label}: ${values.length} scans, from ${first} to ${last}`
    : `${label}: one scan, ${last}`;
  const chart = svg("svg", { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": text });
  const title = svg("title");
  title.textContent = text;
  chart.appendChild(title);
  chart.appendChild(svg("line", { class: "sparkline-base", x1: 0, y1: height - 1, x2: width, y2: height - 1 }));
  if (points.length > 1) {
    chart.appendChild(svg("polyline", { class: "sparkline-line", fill: "none", points: points.map((p) => p.join(",")).join(" ") }));
  }
  const [lx, ly] = points[points.length - 1];
  chart.appendChild(svg("circle", { class: "sparkline-dot", cx: lx, cy: ly, r: 2.5 }));
  return chart;
}
