// Sellers: the scoreboard (score, level, breakdown) and a seller's score over time,
// one GET /v1/sellers/{id}/score?as_of= per week.
import { call } from "./api.js";
import { h, problem, screen } from "./dom.js";
import { lineChart } from "./charts.js";

const WEEKS = 12;

async function history(sellerId, into) {
  into.replaceChildren(h("p", { class: "muted" }, `Loading ${sellerId}…`));
  const now = Date.now();
  const points = [];
  for (let i = WEEKS; i >= 0; i--) {
    const at = new Date(now - i * 7 * 86400e3);
    const got = await call(`/v1/sellers/${encodeURIComponent(sellerId)}/score?as_of=${at.toISOString()}`);
    if (!got.ok) return into.replaceChildren(problem(got));
    points.push({ label: at.toISOString().slice(5, 10), value: got.body.score });
  }
  const last = points[points.length - 1].value;
  into.replaceChildren(h("h2", {}, `${sellerId}: score over the last ${WEEKS} weeks`),
    h("p", { class: "muted", id: "score-now" }, `score now ${last}`), lineChart(points));
}

export async function sellersPage(me, _rest, signal) {
  const show = screen(signal);
  const chart = h("section", { class: "card", id: "score-chart" });
  if (me.role === "seller") {
    show(h("h1", {}, "Your penalty score"), chart);
    return history(me.sub, chart);
  }
  const found = await call("/v1/sellers?limit=50");
  if (!found.ok) return show(h("h1", {}, "Sellers"), problem(found));
  const kinds = [...new Set(found.body.items.flatMap((s) => Object.keys(s.breakdown)))].sort();
  const rows = found.body.items.map((s) => h("tr", { "data-seller": s.seller_id },
    h("td", {}, h("a", { href: "#/sellers", onclick: (e) => { e.preventDefault(); history(s.seller_id, chart); } }, s.seller_id)),
    h("td", {}, String(s.score)), h("td", {}, s.level),
    kinds.map((k) => h("td", {}, s.breakdown[k] ? `${s.breakdown[k].count} (${s.breakdown[k].points} pts)` : "—"))));
  show(h("h1", {}, "Sellers"),
    h("section", { class: "card" }, h("h2", {}, "Scoreboard (highest penalty first)"),
      rows.length ? h("table", { id: "scoreboard" }, h("thead", {}, h("tr", {}, ["seller", "score", "level", ...kinds].map((c) => h("th", {}, c)))), h("tbody", {}, rows))
        : h("p", { class: "muted" }, "No seller has penalty points in the window.")),
    chart);
  if (found.body.items.length) await history(found.body.items[0].seller_id, chart);
}
