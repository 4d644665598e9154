// The agent's queue: disputes under review and under appeal, the most urgent SLA
// first, with their open evidence requests.
import { call, enums } from "./api.js";
import { countdown, h, problem, screen, when } from "./dom.js";

const QUEUED = ["under_review", "under_appeal"];

function slaDue(d) {
  const due = d.deadlines || {};
  return due.review_sla || due.appeal_review || Object.values(due).sort()[0] || null;
}

async function all(status) {
  const items = [];
  let cursor = null;
  do {
    const found = await call(`/v1/disputes?status=${status}&limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    if (!found.ok) return { found, items };
    items.push(...found.body.items);
    cursor = found.body.next_cursor;
  } while (cursor && items.length < 1000);
  return { found: null, items };
}

export async function queuePage(_me, _rest, signal) {
  const show = screen(signal);
  const known = (await enums()).status;
  const notes = [], items = [];
  for (const status of QUEUED) {
    if (!known.includes(status)) { notes.push(h("p", { class: "note" }, `This server has no ${status} status yet.`)); continue; }
    const got = await all(status);
    if (got.found) notes.push(problem(got.found));
    items.push(...got.items);
  }
  items.sort((a, b) => (slaDue(a) || "9999").localeCompare(slaDue(b) || "9999"));
  const rows = items.map((d) => {
    const due = slaDue(d);
    const requests = (d.evidence_requests || []).filter((r) => (r.status === undefined || r.status === "open") && !r.fulfilled_at);
    return h("tr", { "data-id": d.id },
      h("td", {}, h("a", { href: `#/dispute/${d.id}` }, d.order_id)), h("td", {}, h("span", { class: `status ${d.status}` }, d.status)),
      h("td", {}, due ? [when(due), " ", h("span", { "data-due": due }, countdown(due))] : "—"),
      h("td", {}, d.reason), h("td", {}, d.seller_id),
      h("td", {}, requests.length ? h("ul", {}, requests.map((r) => h("li", {}, `${r.party}: ${r.note || "(no note)"} · due `, h("span", { "data-due": r.due_at }, countdown(r.due_at))))) : "none"));
  });
  show(h("h1", {}, "Agent queue"), notes,
    h("p", { class: "muted", id: "queue-count" }, `${items.length} disputes waiting for an agent, the most urgent SLA first.`),
    h("table", { id: "queue" }, h("thead", {}, h("tr", {}, ["order", "status", "SLA due", "reason", "seller", "open evidence requests"].map((c) => h("th", {}, c)))), h("tbody", {}, rows)));
}
