// The command forms: opening a dispute, and one form per allowed action, each
// sending exactly the request the API documents (with If-Match: the version shown).
import { call } from "./api.js";
import { h, problem } from "./dom.js";

const opts = (values) => values.map((v) => h("option", { value: v }, v));
const text = (name, extra = {}) => h("input", { name, ...extra });
const cents = (name) => h("input", { name, type: "number", min: 0, step: "0.01" });
const toMinor = (value) => Math.round(parseFloat(value) * 100);

function form(id, fields, submit, label) {
  const out = h("div", { class: "form-result" });
  const node = h("form", { class: "action", id, onsubmit: async (e) => {
    e.preventDefault();
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    const result = await submit(Object.fromEntries(Object.entries(fields).map(([k, input]) => [k, input])));
    button.disabled = false;
    if (result && !result.ok) out.replaceChildren(problem(result));
  } }, Object.entries(fields).map(([k, input]) => h("label", {}, k.replace(/_/g, " "), input)),
  h("button", { type: "submit" }, label));
  return h("div", {}, node, out);
}

export function openForm(e) {
  const f = {
    order_id: text("order_id", { required: true }), seller_id: text("seller_id", { required: true }),
    reason: h("select", { name: "reason" }, opts(e.reason)), remedy: h("select", { name: "remedy" }, opts(e.remedy)),
    refund: cents("refund"), order_amount: cents("order_amount"), currency: text("currency", { value: "USD", size: 4 }),
    description: text("description"),
  };
  return h("section", { class: "card" }, h("h2", {}, "Open a dispute"), form("open-dispute", f, async (v) => {
    const body = {
      order_id: v.order_id.value, seller_id: v.seller_id.value, reason: v.reason.value, remedy: v.remedy.value,
      order_amount: { amount_minor: toMinor(v.order_amount.value), currency: v.currency.value },
      description: v.description.value,
    };
    if (v.refund.value) body.refund = { amount_minor: toMinor(v.refund.value), currency: v.currency.value };
    const result = await call("/v1/disputes", { method: "POST", json: body });
    if (result.ok) location.hash = `#/dispute/${result.body.id}`;
    return result;
  }, "Open"));
}

// The dispute's open evidence requests an upload may answer (the caller's own party's, when it is one).
function openRequests(d, role) {
  return (d.evidence_requests || []).filter((r) => r.status === "open" && (role !== "buyer" && role !== "seller" || r.party === role));
}

// Each allowed action: its form fields and the request it sends.
function actions(d, e, role) {
  const currency = d.order_amount.currency;
  const money = (input) => (input.value ? { amount_minor: toMinor(input.value), currency } : undefined);
  const pending = d.pending_offer ? d.pending_offer.id : "";
  return {
    propose_offer: [{ remedy: h("select", { name: "remedy" }, opts(e.remedy)), refund: cents("refund"), note: text("note") },
      (v) => ["offers", { remedy: v.remedy.value, refund: money(v.refund), note: v.note.value }]],
    accept_offer: [{ note: text("note") }, (v) => [`offers/${pending}/accept`, { note: v.note.value }]],
    reject_offer: [{ reason: text("reason", { required: true }) }, (v) => [`offers/${pending}/reject`, { reason: v.reason.value }]],
    post_message: [{ body: h("textarea", { name: "body", required: true, rows: 2, cols: 50 }), to: h("select", { name: "to" }, h("option", { value: "" }, "everyone"), opts(["buyer", "seller"])) },
      (v) => ["messages", v.to.value ? { body: v.body.value, to: v.to.value } : { body: v.body.value }]],
    submit_evidence: [{ file: h("input", { name: "file", type: "file", required: true }), kind: h("select", { name: "kind" }, opts(e.kind)), description: text("description"),
      request_id: h("select", { name: "request_id" }, h("option", { value: "" }, "none"), openRequests(d, role).map((r) => h("option", { value: r.id }, `${r.party}: ${r.note || "(no note)"}`))) },
    (v) => {
      const f = new FormData();
      f.append("file", v.file.files[0]); f.append("kind", v.kind.value); f.append("description", v.description.value);
      if (v.request_id.value) f.append("request_id", v.request_id.value);
      return ["evidence", f];
    }],
    escalate: [{ reason: text("reason") }, (v) => ["escalate", { reason: v.reason.value }]],
    withdraw: [{ reason: text("reason") }, (v) => ["withdraw", { reason: v.reason.value }]],
    ship_return: [{ carrier: text("carrier", { required: true }), tracking_number: text("tracking_number", { required: true }) },
      (v) => ["return-shipment", { carrier: v.carrier.value, tracking_number: v.tracking_number.value }]],
    confirm_return_receipt: [{ condition: h("select", { name: "condition" }, opts(e.condition)), note: text("note") },
      (v) => ["return-receipt", { condition: v.condition.value, note: v.note.value }]],
    request_evidence: [{ party: h("select", { name: "party" }, opts(["buyer", "seller"])), note: text("note"), due_in: text("due_in", { value: "P3D" }) },
      (v) => ["evidence-requests", { party: v.party.value, note: v.note.value, due_in: v.due_in.value }]],
    extend_deadline: [{ deadline: h("select", { name: "deadline" }, opts(Object.keys(d.deadlines || {}))), extend_by: text("extend_by", { value: "P1D" }), reason: text("reason", { required: true }) },
      (v) => ["deadline-extensions", { deadline: v.deadline.value, extend_by: v.extend_by.value, reason: v.reason.value }]],
    issue_ruling: [{ outcome: h("select", { name: "outcome" }, opts(e.outcome)), refund: cents("refund"), seller_at_fault: h("select", { name: "seller_at_fault" }, opts(["true", "false"])), rationale: text("rationale", { required: true }) },
      (v) => ["ruling", { outcome: v.outcome.value, refund: money(v.refund) || { amount_minor: 0, currency }, seller_at_fault: v.seller_at_fault.value === "true", rationale: v.rationale.value }]],
    appeal: [{ reason: text("reason", { required: true }) }, (v) => ["appeal", { reason: v.reason.value }]],
    // upheld keeps the ruling's outcome and sends no outcome fields; overturned names the new outcome
    decide_appeal: [{ decision: h("select", { name: "decision" }, opts(e.appealDecision)), outcome: h("select", { name: "outcome" }, opts(e.outcome)), refund: cents("refund"),
      seller_at_fault: h("select", { name: "seller_at_fault" }, opts(["true", "false"])), rationale: text("rationale", { required: true }) },
    (v) => ["appeal-decision", v.decision.value === "upheld" ? { decision: "upheld", rationale: v.rationale.value }
      : { decision: v.decision.value, outcome: v.outcome.value, refund: money(v.refund) || { amount_minor: 0, currency }, seller_at_fault: v.seller_at_fault.value === "true", rationale: v.rationale.value }]],
    claim: [{ force: h("select", { name: "force" }, opts(["false", "true"])), reason: text("reason") },
      (v) => ["claim", v.force.value === "true" ? { force: true, reason: v.reason.value } : { reason: v.reason.value }]],
    release: [{ reason: text("reason") }, (v) => ["release", { reason: v.reason.value }]],
  };
}

export function actionPanel(d, e, done, role) {
  const known = actions(d, e, role);
  const slot = h("div", { id: "action-form" });
  const buttons = (d.allowed_actions || []).map((name) => h("button", { class: "secondary", "data-action": name, onclick: () => {
    const [fields, request] = known[name] || [{}, null];
    if (!request) return slot.replaceChildren(h("p", { class: "note" }, `${name}: this console has no form for it yet`));
    slot.replaceChildren(h("h2", {}, name.replace(/_/g, " ")), form(`form-${name}`, fields, async (v) => {
      const [path, body] = request(v);
      const options = { method: "POST", headers: { "If-Match": `"${d.version}"` } };
      if (body instanceof FormData) options.form = body; else options.json = body;
      const result = await call(`/v1/disputes/${d.id}/${path}`, options);
      if (result.ok) done(result);
      return result;
    }, "Send"));
  } }, name.replace(/_/g, " ")));
  return h("section", { class: "card", id: "actions" }, h("h2", {}, "What you can do now"),
    buttons.length ? h("div", { class: "actions" }, buttons) : h("p", { class: "muted", id: "no-actions" }, "Nothing: it is not your move, or the dispute is closed."), slot);
}
