// Charts drawn as SVG elements (no library): bars, grouped bars and a line.
import { h, s } from "./dom.js";

const COLORS = ["#2458a6", "#d9822b", "#1f7a3d", "#b3261e", "#7a4fb3", "#0f8b8d", "#9a6700", "#5b6675", "#c2185b", "#33691e"];
export const color = (i) => COLORS[i % COLORS.length];

export function legend(names) {
  return h("div", { class: "legend" }, names.map((n, i) => h("span", {}, h("i", { class: `swatch-${i % COLORS.length}` }), n)));
}

// bars: [{label, value}] -> one bar each.
export function barChart(bars, { width = 560, height = 220, unit = "" } = {}) {
  return groupedBars(bars.map((b) => ({ label: b.label, values: [b.value] })), [unit], { width, height });
}

// groups: [{label, values: [n, ...]}], series: names of the values (stacked).
export function groupedBars(groups, series, { width = 560, height = 220 } = {}) {
  const pad = { l: 44, r: 8, t: 10, b: 44 };
  const max = Math.max(1, ...groups.map((g) => g.values.reduce((a, b) => a + b, 0)));
  const w = (width - pad.l - pad.r) / Math.max(groups.length, 1);
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / max);
  const svg = s("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(s("text", { x: 4, y: pad.t + 8 }, String(Math.round(max * 100) / 100)), s("text", { x: 4, y: height - pad.b }, "0"));
  groups.forEach((g, i) => {
    let base = 0;
    g.values.forEach((v, k) => {
      const rect = s("rect", { x: pad.l + i * w + 2, y: y(base + v), width: Math.max(w - 4, 1), height: y(base) - y(base + v), fill: color(k) });
      rect.append(s("title", {}, `${g.label} · ${series[k] || ""}: ${v}`));
      svg.append(rect);
      base += v;
    });
    svg.append(s("text", { x: pad.l + i * w + w / 2, y: height - pad.b + 14, "text-anchor": "middle" }, g.label.slice(0, 12)));
  });
  return svg;
}

// points: [{label, value}] joined by a line, oldest first.
export function lineChart(points, { width = 560, height = 200 } = {}) {
  const pad = { l: 44, r: 12, t: 10, b: 30 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const x = (i) => pad.l + (width - pad.l - pad.r) * (points.length > 1 ? i / (points.length - 1) : 0.5);
  const y = (v) => pad.t + (height - pad.t - pad.b) * (1 - v / max);
  const svg = s("svg", { class: "chart line", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(s("text", { x: 4, y: pad.t + 8 }, String(max)), s("text", { x: 4, y: height - pad.b }, "0"));
  svg.append(s("polyline", { fill: "none", stroke: color(0), "stroke-width": 2, points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  points.forEach((p, i) => {
    const dot = s("circle", { cx: x(i), cy: y(p.value), r: 3, fill: color(0), "data-value": p.value });
    dot.append(s("title", {}, `${p.label}: ${p.value}`));
    svg.append(dot);
    if (i === 0 || i === points.length - 1 || i % 3 === 0) svg.append(s("text", { x: x(i), y: height - 10, "text-anchor": "middle" }, p.label));
  });
  return svg;
}
