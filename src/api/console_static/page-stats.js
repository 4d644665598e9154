// Statistics from GET /v1/stats/disputes: disputes per reason per week (one query
// per week today), outcomes, refunds per currency, time to resolution and SLA
// breaches. A grouping or a figure this server does not give yet is named, not faked.
import { call } from "./api.js";
import { h, problem, screen } from "./dom.js";
import { barChart, groupedBars, legend } from "./charts.js";

const WEEKS = 8;
const DAY = 86400e3;
const card = (id, title, ...body) => h("section", { class: "card", id }, h("h2", {}, title), ...body);

async function perWeek() {
  const monday = new Date(); monday.setUTCHours(0, 0, 0, 0); monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  const weeks = [];
  for (let i = WEEKS - 1; i >= 0; i--) {
    const since = new Date(monday.getTime() - i * 7 * DAY), until = new Date(since.getTime() + 7 * DAY);
    const got = await call(`/v1/stats/disputes?group_by=reason&since=${since.toISOString()}&until=${until.toISOString()}`);
    if (!got.ok) return problem(got);
    weeks.push({ label: since.toISOString().slice(5, 10), groups: got.body.groups });
  }
  const reasons = [...new Set(weeks.flatMap((w) => w.groups.map((g) => g.key)))].sort();
  const data = weeks.map((w) => ({ label: w.label, values: reasons.map((r) => (w.groups.find((g) => g.key === r) || { count: 0 }).count) }));
  return h("div", {}, groupedBars(data, reasons, { width: 640 }), legend(reasons));
}

async function outcomes() {
  const got = await call("/v1/stats/disputes?group_by=outcome");
  if (got.status === 422) return h("p", { class: "note", id: "outcomes-unsupported" }, "This server does not group by outcome yet; resolved and withdrawn counts by status instead:");
  if (!got.ok) return problem(got);
  return barChart(got.body.groups.map((g) => ({ label: g.key, value: g.count })));
}

export async function statsPage(_me, _rest, signal) {
  const show = screen(signal);
  const all = await call("/v1/stats/disputes?group_by=reason");
  if (!all.ok) return show(h("h1", {}, "Statistics"), problem(all));
  const byStatus = await call("/v1/stats/disputes?group_by=status");
  const groups = all.body.groups;
  const refunds = {};
  for (const g of groups) for (const t of g.refund_totals) refunds[t.currency] = (refunds[t.currency] || 0) + t.amount_minor;
  const outcome = await outcomes();
  const outcomeCard = outcome.id === "outcomes-unsupported" && byStatus.ok
    ? [outcome, barChart(byStatus.body.groups.filter((g) => ["resolved", "withdrawn"].includes(g.key)).map((g) => ({ label: g.key, value: g.count })))]
    : [outcome];
  const p90 = groups.some((g) => "p90_resolution_seconds" in g);
  const slowest = Math.max(0, ...groups.map((g) => (p90 ? g.p90_resolution_seconds : g.median_resolution_seconds) || 0));
  const [unit, per] = slowest >= 2 * 3600 ? ["hours", 3600] : slowest >= 120 ? ["minutes", 60] : ["seconds", 1];
  const hours = (seconds) => (seconds === null || seconds === undefined ? 0 : Math.round((seconds / per) * 10) / 10);
  const resolution = groups.filter((g) => g.median_resolution_seconds !== null).map((g) => ({
    label: g.key, values: p90 ? [hours(g.median_resolution_seconds), Math.max(hours(g.p90_resolution_seconds) - hours(g.median_resolution_seconds), 0)] : [hours(g.median_resolution_seconds)] }));
  show(h("h1", {}, "Statistics"),
    h("div", { class: "grid" },
      card("per-week", `Disputes per reason per week (last ${WEEKS} weeks)`, await perWeek()),
      card("outcomes", "Outcomes", ...outcomeCard),
      card("refunds", "Refunds per currency", Object.keys(refunds).length
        ? barChart(Object.entries(refunds).map(([c, m]) => ({ label: c, value: m / 100 })))
        : h("p", { class: "muted" }, "No refund yet.")),
      card("resolution", `Time to resolution by reason, ${unit} (p50${p90 ? ", p90 stacked above" : ""})`,
        resolution.length ? groupedBars(resolution, p90 ? ["p50", "p90 − p50"] : ["p50"]) : h("p", { class: "muted" }, "Nothing resolved yet."),
        p90 ? legend(["p50", "p90 − p50"]) : h("p", { class: "note" }, "This server gives the median only; p90 comes with percentiles.")),
      card("sla", "SLA breaches by reason", barChart(groups.map((g) => ({ label: g.key, value: g.sla_breaches }))))),
    h("p", { class: "muted" }, `${groups.reduce((a, g) => a + g.count, 0)} disputes in all.`));
}
