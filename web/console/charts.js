// Charts as plain SVG: a sparkline, a line chart over time, a bar chart and a
// forest plot (estimates with intervals around zero).
import { h } from "./dom.js";

function scale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (x) => r0 + ((x - d0) / span) * (r1 - r0);
}

export function sparkline(series, { width = 240, height = 60, title = "" } = {}) {
  const svg = h("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
                         "aria-label": title, "data-points": series.length });
  svg.append(h("title", {}, title));
  if (series.length === 0) return svg;
  // By time; by order when everything shares one instant (a replayed file).
  const byTime = series[series.length - 1].t > series[0].t;
  const at = (p, i) => (byTime ? p.t : i);
  const x0 = at(series[0], 0), x1 = at(series[series.length - 1], series.length - 1);
  const x = scale(x0, x1, 2, width - 2), y = scale(0, 1, height - 2, 2);
  const pts = series.map((p, i) => `${x(at(p, i)).toFixed(1)},${y(p.v).toFixed(1)}`);
  svg.append(h("path", { class: "area", d: `M${x(x0).toFixed(1)},${height - 2} L${pts.join(" L")} L${x(x1).toFixed(1)},${height - 2} Z` }),
             h("path", { class: "line", d: `M${pts.join(" L")}` }));
  return svg;
}

// `lines`: arrays of {t, v}; the first is drawn in the accent colour.
export function lineChart(lines, { width = 800, height = 160, title = "", yLabel = "" } = {}) {
  const pad = { l: 48, r: 10, t: 10, b: 22 };
  const svg = h("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
  svg.append(h("title", {}, title));
  const all = lines.flat();
  if (all.length === 0) return svg;
  const t0 = Math.min(...all.map((p) => p.t)), t1 = Math.max(...all.map((p) => p.t));
  const vmax = Math.max(1e-9, ...all.map((p) => p.v));
  const vmin = Math.min(0, ...all.map((p) => p.v));
  const x = scale(t0, t1, pad.l, width - pad.r), y = scale(vmin, vmax, height - pad.b, pad.t);
  svg.append(h("line", { class: "axis", x1: pad.l, x2: width - pad.r, y1: y(vmin), y2: y(vmin) }),
             h("text", { x: 4, y: pad.t + 8 }, formatTick(vmax)), h("text", { x: 4, y: height - pad.b }, formatTick(vmin)));
  if (yLabel) svg.append(h("text", { x: pad.l, y: height - 4 }, yLabel));
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    svg.append(h("path", { class: `line${i ? " second" : ""}`, d: `M${line.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" L")}` }));
  });
  return svg;
}

// `values`: {label: number}; horizontal bars, largest first.
export function barChart(values, { width = 520, title = "" } = {}) {
  const entries = Object.entries(values).sort((a, b) => b[1] - a[1]).slice(0, 12);
  const rowH = 22, labelW = 170;
  const height = Math.max(rowH, entries.length * rowH) + 4;
  const svg = h("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
  svg.append(h("title", {}, title));
  if (entries.length === 0) {
    svg.append(h("text", { x: 4, y: 16 }, "nothing yet"));
    return svg;
  }
  const max = Math.max(...entries.map((e) => e[1]), 1);
  const x = scale(0, max, 0, width - labelW - 70);
  entries.forEach(([label, v], i) => {
    const y0 = i * rowH + 2;
    svg.append(h("text", { x: 4, y: y0 + 15 }, label),
               h("rect", { class: "bar", x: labelW, y: y0 + 3, width: Math.max(1, x(v)), height: rowH - 6 }),
               h("text", { x: labelW + Math.max(1, x(v)) + 6, y: y0 + 15 }, String(v)));
  });
  return svg;
}

// `rows`: [{label, estimate, low, high, significant}] on one shared axis;
// rows without an estimate are left out.
export function forestPlot(rows, { width = 640, title = "", unit = "" } = {}) {
  const rowH = 26, labelW = 190;
  rows = rows.filter((r) => Number.isFinite(r.estimate));
  const height = Math.max(1, rows.length) * rowH + 26;
  const svg = h("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
  svg.append(h("title", {}, title));
  const finite = rows.flatMap((r) => [r.low, r.high, r.estimate]).filter((v) => Number.isFinite(v));
  if (finite.length === 0) {
    svg.append(h("text", { x: 4, y: 16 }, "not enough data yet"));
    return svg;
  }
  const lo = Math.min(0, ...finite), hi = Math.max(0, ...finite);
  const margin = (hi - lo) * 0.08 || 1;
  const x = scale(lo - margin, hi + margin, labelW, width - 10);
  svg.append(h("line", { class: "zero", x1: x(0), x2: x(0), y1: 0, y2: height - 20 }),
             h("text", { x: x(0) - 4, y: height - 6 }, `0${unit}`),
             h("text", { x: labelW, y: height - 6 }, formatTick(lo - margin)),
             h("text", { x: width - 60, y: height - 6 }, formatTick(hi + margin)));
  rows.forEach((r, i) => {
    const cy = i * rowH + rowH / 2;
    svg.append(h("text", { x: 4, y: cy + 4 }, r.label));
    if (Number.isFinite(r.low) && Number.isFinite(r.high)) {
      svg.append(h("line", { class: "ci", x1: x(r.low), x2: x(r.high), y1: cy, y2: cy }));
    }
    if (Number.isFinite(r.estimate)) {
      svg.append(h("circle", { class: `point${r.significant ? " sig" : ""}`, cx: x(r.estimate), cy, r: 5 }));
    }
  });
  return svg;
}

function formatTick(v) {
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
