// Operations (agents, auditors): GET /v1/ops/status, the latest transparency-log
// checkpoint when there is one, and the live event stream refreshing it.
import { call, stream } from "./api.js";
import { facts, h, problem, screen, when } from "./dom.js";

const KEEP = 20;

function statusCards(st) {
  const views = Object.entries(st.views).map(([name, v]) => h("tr", { "data-view": name },
    h("td", {}, name), h("td", {}, String(v.position ?? "—")), h("td", { class: v.lag > 0 ? "note" : "" }, String(v.lag ?? "—")),
    h("td", { class: v.status === "faulted" ? "error" : "" }, v.status), h("td", {}, v.fault_error || "")));
  return [
    h("section", { class: "card", id: "views" }, h("h2", {}, `Read models (event store head ${st.head_position})`),
      h("table", {}, h("thead", {}, h("tr", {}, ["view", "position", "lag", "status", "fault"].map((c) => h("th", {}, c)))), h("tbody", {}, views))),
    h("div", { class: "grid" },
      h("section", { class: "card", id: "scheduler" }, h("h2", {}, "Deadline scheduler"), facts([
        ["overdue deadlines", String(st.scheduler.overdue)], ["delay", `${st.scheduler.delay_seconds.toFixed(1)} s`], ["next due", when(st.scheduler.next_due_at)]])),
      h("section", { class: "card", id: "webhooks" }, h("h2", {}, "Webhooks"), facts([
        ["enabled subscriptions", String(st.webhooks.subscriptions)], ["behind", String(st.webhooks.behind)],
        ["backlog (events)", String(st.webhooks.backlog)], ["disabled", String(st.webhooks.disabled)]]))),
    checkpoint(st.checkpoint),
    h("p", { class: "muted", id: "checked-at" }, `checked ${when(st.checked_at)}`),
  ];
}

// The latest signed checkpoint as GET /v1/ops/status reports it (null: none signed yet).
function checkpoint(c) {
  const body = c ? facts([["tree size", h("span", { id: "checkpoint-size" }, String(c.tree_size))], ["root hash (base64)", c.root_hash],
    ["issued", when(c.issued_at)], ["age", `${c.age_seconds.toFixed(0)} s`], ["leaves in the tree now", String(c.tree_size_now)],
    ["leaves not yet in a checkpoint", h("span", { id: "checkpoint-unsigned" }, String(c.unsigned_leaves))]])
    : h("p", { class: "muted" }, "No checkpoint signed yet.");
  return h("section", { class: "card", id: "checkpoint" }, h("h2", {}, "Transparency log: latest checkpoint"), body);
}

export async function opsPage(me, _rest, signal) {
  const show = screen(signal);
  const got = await call("/v1/ops/status");
  if (!got.ok) return show(h("h1", {}, "Operations"), problem(got));
  const box = h("div", { id: "ops-status" }, statusCards(got.body));
  const events = h("ul", { class: "events", id: "live-events" });
  const live = h("span", { class: "badge none", id: "live" }, "connecting…");
  show(h("h1", {}, "Operations"), box,
    h("section", { class: "card" }, h("h2", {}, "Live events "), live, events));
  let refreshing = null;
  const refresh = () => {
    refreshing ??= setTimeout(async () => {
      refreshing = null;
      const now = await call("/v1/ops/status", { signal });
      if (now.ok) box.replaceChildren(...statusCards(now.body));
    }, 1000);
  };
  const head = got.body.head_position;
  const onEvent = (e) => {
    live.className = "badge ok";
    live.textContent = `live: position ${e.position}`;
    events.prepend(h("li", { "data-position": e.position }, `${e.position} ${when(e.occurred_at)} ${e.type} v${e.version} by ${e.actor.role} ${e.actor.id}`));
    while (events.children.length > KEEP) events.lastChild.remove();
    refresh();
  };
  live.className = "badge ok";
  live.textContent = "live";
  stream(`/v1/events/stream?after=${Math.max(head - KEEP, 0)}`, onEvent, signal).then((status) => {
    live.className = "badge none";
    live.textContent = status === 200 ? "stream ended: reload to follow again" : `no live stream (${status})`;
  }).catch((error) => { if (error.name !== "AbortError") { live.className = "badge bad"; live.textContent = `stream failed: ${error.message}`; } });
}
