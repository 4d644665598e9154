// Building DOM nodes. Text only ever goes in through textContent (never innerHTML),
// so nothing the API returns (a message body, an event's data) can become markup.
const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = String(value);
    else if (key === "value" && "value" in node) node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat());
  return main;
}

// A page's own `show`: once the caller has moved to another page (`signal`
// aborted), a slow page no longer replaces what is on screen.
export function screen(signal) {
  return (...nodes) => (signal && signal.aborted ? null : show(...nodes));
}

export function problemText(result) {
  const body = result.body || {};
  return `${result.status} ${body.code || ""}: ${body.detail || body.title || "request failed"}`;
}

export function problem(result) {
  return h("p", { class: "error", role: "alert" }, problemText(result));
}

export function money(m) {
  if (!m) return "—";
  return `${(m.amount_minor / 100).toFixed(2)} ${m.currency}`;
}

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function countdown(iso, now = Date.now()) {
  const left = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(left);
  const d = Math.floor(abs / 86400), hr = Math.floor((abs % 86400) / 3600), m = Math.floor((abs % 3600) / 60), sec = abs % 60;
  const text = d ? `${d}d ${hr}h` : hr ? `${hr}h ${m}m` : `${m}m ${sec}s`;
  return left < 0 ? `overdue ${text}` : `in ${text}`;
}

// Every [data-due] element shows a live countdown to its due time.
export function tickCountdowns() {
  for (const el of document.querySelectorAll("[data-due]")) {
    el.textContent = countdown(el.dataset.due);
    el.classList.toggle("overdue", new Date(el.dataset.due).getTime() < Date.now());
  }
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
