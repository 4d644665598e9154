// Search: every filter of GET /v1/disputes, status chips, live deadline countdowns,
// cursor pagination; buyers also get the form that opens a dispute.
import { call, enums } from "./api.js";
import { countdown, h, money, problem, screen, when } from "./dom.js";
import { openForm } from "./forms.js";

const state = { filters: {}, cursors: [null], page: 0 };

function nextDeadline(d) {
  const entries = Object.entries(d.deadlines || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  const [name, due] = entries.sort((a, b) => a[1].localeCompare(b[1]))[0];
  return h("span", {}, `${name} `, h("span", { "data-due": due, class: "countdown" }, countdown(due)));
}

export function disputeRow(d) {
  return h("tr", { "data-id": d.id },
    h("td", {}, h("a", { href: `#/dispute/${d.id}` }, d.order_id)),
    h("td", {}, h("span", { class: `status ${d.status}` }, d.status)),
    h("td", {}, d.party_to_act || "—"), h("td", {}, d.reason), h("td", {}, d.buyer_id), h("td", {}, d.seller_id),
    h("td", {}, money(d.requested_refund)), h("td", {}, nextDeadline(d)), h("td", {}, when(d.opened_at)));
}

export function disputeTable(items) {
  const head = ["order", "status", "to act", "reason", "buyer", "seller", "refund asked", "next deadline", "opened"];
  return h("table", { class: "disputes" }, h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, items.map(disputeRow)));
}

export async function disputesPage(me, _rest, signal) {
  const show = screen(signal);
  const e = await enums();
  const results = h("div", { id: "results" });
  const field = (name, input) => h("label", {}, name.replace("_", " "), input);
  const select = (name, options) => h("select", { name }, h("option", { value: "" }, "any"), options.map((o) => h("option", { value: o }, o)));
  const inputs = {
    seller_id: h("input", { name: "seller_id" }), buyer_id: h("input", { name: "buyer_id" }),
    reason: select("reason", e.reason), party_to_act: select("party_to_act", ["buyer", "seller", "agent"]),
    opened_after: h("input", { name: "opened_after", type: "date" }), opened_before: h("input", { name: "opened_before", type: "date" }),
    limit: h("input", { name: "limit", type: "number", min: 1, max: 200, value: 20 }),
  };
  for (const [k, v] of Object.entries(state.filters)) if (inputs[k]) inputs[k].value = v;
  const chips = h("div", { class: "chips", id: "status-chips" });
  const drawChips = () => chips.replaceChildren(...["", ...e.status].map((s) =>
    h("span", { class: `chip ${(state.filters.status || "") === s ? "on" : ""}`, "data-status": s || "any",
      onclick: () => { state.filters.status = s; drawChips(); search(0, true); } }, s || "any status")));
  drawChips();

  async function search(page, fresh) {
    if (fresh) state.cursors = [null];
    state.page = page;
    for (const [k, input] of Object.entries(inputs)) state.filters[k] = input.value;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(state.filters)) {
      if (!v) continue;
      query.set(k, k.startsWith("opened_") ? new Date(v).toISOString() : v);
    }
    if (state.cursors[page]) query.set("cursor", state.cursors[page]);
    const found = await call(`/v1/disputes?${query}`);
    if (!found.ok) return results.replaceChildren(problem(found));
    state.cursors[page + 1] = found.body.next_cursor;
    results.replaceChildren(
      found.body.items.length ? disputeTable(found.body.items) : h("p", { class: "muted", id: "no-results" }, "No dispute matches."),
      h("div", { class: "pager" },
        h("button", { class: "secondary", id: "prev-page", disabled: page === 0, onclick: () => search(page - 1) }, "Previous"),
        h("span", { class: "muted", id: "page-number" }, `page ${page + 1}`),
        h("button", { class: "secondary", id: "next-page", disabled: !found.body.next_cursor, onclick: () => search(page + 1) }, "Next")));
  }

  const form = h("form", { class: "filters", id: "filters", onsubmit: (ev) => { ev.preventDefault(); search(0, true); } },
    Object.entries(inputs).map(([k, v]) => field(k, v)), h("button", { type: "submit" }, "Search"));
  const parts = [h("h1", {}, me.role === "buyer" || me.role === "seller" ? "Your disputes" : "Disputes"),
    h("section", { class: "card" }, chips, form)];
  if (me.role === "buyer") parts.push(openForm(e));
  show(...parts, results);
  await search(state.page);
}
