// One dispute: header, verification, replay slider, offers, messages, evidence,
// timeline and the caller's allowed actions.
import { blob, call, enums } from "./api.js";
import { countdown, facts, h, money, problem, screen, when } from "./dom.js";
import { actionPanel } from "./forms.js";
import { inclusion } from "./proof.js";

function header(d) {
  const deadlines = Object.entries(d.deadlines || {});
  const outcome = d.outcome ? `${d.outcome.outcome} by ${d.outcome.how}${d.outcome.refund ? `, ${money(d.outcome.refund)}` : ""}` : "—";
  return h("section", { class: "card", id: "header" },
    h("h1", {}, `Dispute on order ${d.order_id}`),
    facts([
      ["status", h("span", { class: `status ${d.status}`, id: "status" }, d.status)],
      ["party to act", h("span", { id: "party-to-act" }, d.party_to_act || "nobody (closed)")],
      ["buyer / seller", `${d.buyer_id} / ${d.seller_id}`],
      ["reason", d.reason], ["asked", `${d.requested_remedy} ${money(d.requested_refund)} of ${money(d.order_amount)}`],
      ["deadlines", deadlines.length ? h("ul", {}, deadlines.map(([n, due]) => h("li", {}, `${n}: ${when(due)} `, h("span", { "data-due": due }, countdown(due))))) : "none open"],
      ["outcome", h("span", { id: "outcome" }, outcome)],
      ["appeal", h("span", { id: "appeal" }, d.appeal ? `by ${d.appeal.appealed_by.role} ${d.appeal.appealed_by.id}: ${d.appeal.reason}; ${d.appeal.decision ? `${d.appeal.decision} by ${d.appeal.decided_by}` : "awaiting an agent"}` : "—")],
      ["handled by", h("span", { id: "assigned-agent" }, d.assigned_agent || "—")],
      ["version", h("span", { id: "version" }, String(d.version))],
    ]));
}

function offers(d) {
  return h("section", { class: "card", id: "offers" }, h("h2", {}, "Offers (oldest first)"),
    h("table", {}, h("thead", {}, h("tr", {}, ["by", "remedy", "refund", "status", "note", "proposed", "decided"].map((c) => h("th", {}, c)))),
      h("tbody", {}, d.offers.map((o) => h("tr", {}, h("td", {}, `${o.actor.role} ${o.actor.id}`), h("td", {}, o.remedy), h("td", {}, money(o.refund)),
        h("td", {}, o.status), h("td", {}, o.note || ""), h("td", {}, when(o.proposed_at)), h("td", {}, when(o.decided_at)))))));
}

function messages(d) {
  return h("section", { class: "card", id: "messages" }, h("h2", {}, "Messages"),
    d.messages.length ? d.messages.map((m) => h("div", { class: "message" },
      h("div", { class: "muted" }, `${m.actor.role} ${m.actor.id} · ${when(m.posted_at)} · to ${m.visible_to.join(", ")}`),
      h("div", { class: "body" }, m.body === null ? "(message bodies are not shown to your role)" : m.body))) : h("p", { class: "muted" }, "No message you may read."));
}

function evidence(d) {
  const box = h("div", { class: "thumbs" });
  for (const ev of d.evidence) {
    const url = `/v1/disputes/${d.id}/evidence/${ev.id}/content`;
    const card = h("div", { class: "thumb", "data-evidence": ev.id }, h("div", {}, `${ev.kind} · ${ev.media_type} · ${ev.size} bytes`), h("div", { class: "muted" }, ev.description || ""));
    box.append(card);
    blob(url).then((file) => {
      if (!file) return card.append(h("p", { class: "muted" }, "no download for your role"));
      if (file.media.startsWith("image/")) card.prepend(h("img", { src: file.url, alt: ev.description || ev.kind }));
      const ext = file.media.split("/")[1];
      card.append(h("a", { href: file.url, download: `${ev.id}.${ext}`, class: "download" }, file.media.startsWith("image/") ? "download" : `open ${ext.toUpperCase()} / download`));
    });
  }
  return h("section", { class: "card", id: "evidence" }, h("h2", {}, "Evidence"), d.evidence.length ? box : h("p", { class: "muted" }, "No evidence yet."));
}

async function timeline(d) {
  const found = await call(`/v1/disputes/${d.id}/timeline?limit=200`);
  const body = found.ok ? h("ol", { class: "events" }, found.body.items.map((e) => h("li", {}, `v${e.version} ${when(e.occurred_at)} ${e.actor.role} ${e.actor.id}: ${e.summary}`)))
    : found.status === 403 ? h("p", { class: "muted" }, "The timeline is not shown to your role.") : problem(found);
  return h("section", { class: "card", id: "timeline" }, h("h2", {}, "Timeline"), body);
}

async function verification(d) {
  const chain = await call(`/v1/disputes/${d.id}/verify`);
  if (chain.status === 403) return null; // auditors only
  const badge = chain.ok ? h("span", { class: `badge ${chain.body.valid ? "ok" : "bad"}`, id: "chain-badge" }, chain.body.valid ? `chain valid (${chain.body.events} events)` : `chain broken at version ${chain.body.first_invalid_version}`) : problem(chain);
  const log = h("span", { class: "badge none", id: "log-badge" }, "transparency log: checking…");
  inclusion(d.id).then((r) => {
    log.className = `badge ${r.state === "verified" ? "ok" : r.state === "failed" ? "bad" : "none"}`;
    log.dataset.state = r.state;
    log.textContent = `transparency log: ${r.text}`;
  });
  return h("section", { class: "card", id: "verification" }, h("h2", {}, "Verification"), badge, log);
}

function replay(d) {
  const out = h("div", { id: "replay-state" });
  const label = h("span", { id: "replay-version" }, `version ${d.version}`);
  const slider = h("input", { type: "range", id: "replay", min: 1, max: d.version, value: d.version, step: 1 });
  let asked = 0;
  const load = async () => {
    const version = Number(slider.value);
    asked = version;
    label.textContent = `version ${version}`;
    const then = await call(`/v1/disputes/${d.id}/state?version=${version}`);
    if (asked !== version) return;
    if (!then.ok) return out.replaceChildren(problem(then));
    const s = then.body;
    out.dataset.version = String(s.version);
    out.replaceChildren(facts([["status", h("span", { class: "replay-status" }, s.status)], ["party to act", s.party_to_act || "—"],
      ["pending offer", s.pending_offer ? `${s.pending_offer.remedy} ${money(s.pending_offer.refund)} by ${s.pending_offer.actor.role}` : "none"],
      ["offers", String(s.offers.length)], ["messages", String(s.messages.length)], ["updated", when(s.updated_at)]]));
  };
  slider.addEventListener("input", load);
  load();
  return h("section", { class: "card", id: "replay-card" }, h("h2", {}, "Replay: the dispute as of each version"), h("div", {}, slider, " ", label), out);
}

export async function disputePage(me, [id], signal) {
  const show = screen(signal);
  const found = await call(`/v1/disputes/${id}`);
  if (!found.ok) return show(h("h1", {}, "Dispute"), problem(found));
  const d = found.body;
  const e = await enums();
  const reload = () => disputePage(me, [id], signal);
  const canReplay = me.role === "agent" || me.role === "auditor";
  show(header(d), actionPanel(d, e, reload, me.role), (await verification(d)) || [], canReplay ? replay(d) : [],
    offers(d), messages(d), evidence(d), await timeline(d));
}
