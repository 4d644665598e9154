// The console: one page, routed by the URL's hash (#/disputes, #/dispute/ID, ...).
import { caller, signOut } from "./api.js";
import { h, show, tickCountdowns } from "./dom.js";
import { signInPage } from "./page-signin.js";
import { disputesPage } from "./page-disputes.js";
import { disputePage } from "./page-dispute.js";
import { queuePage } from "./page-queue.js";
import { sellersPage } from "./page-sellers.js";
import { statsPage } from "./page-stats.js";
import { opsPage } from "./page-ops.js";

// Which pages each role's menu offers; each page also shows what the API refuses it.
const MENUS = {
  buyer: ["disputes"],
  seller: ["disputes", "sellers"],
  agent: ["disputes", "queue", "sellers", "stats", "ops"],
  auditor: ["disputes", "sellers", "stats", "ops"],
  analyst: ["disputes", "sellers", "stats"],
  platform: ["disputes"],
};
const TITLES = { disputes: "Disputes", queue: "Agent queue", sellers: "Sellers", stats: "Statistics", ops: "Operations" };
const PAGES = { disputes: disputesPage, dispute: disputePage, queue: queuePage, sellers: sellersPage, stats: statsPage, ops: opsPage };

let leaving = null; // aborts the page's pending work (the live stream) when another page opens

function menu(me, current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!me) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  nav.replaceChildren(...(MENUS[me.role] || ["disputes"]).map((name) =>
    h("a", { href: `#/${name}`, class: name === current ? "current" : null, "data-page": name }, TITLES[name])));
  who.replaceChildren(
    h("span", { id: "signed-in-as" }, `${me.role} ${me.sub}`), " ",
    h("button", { class: "secondary", id: "sign-out", onclick: () => { signOut(); location.hash = "#/signin"; } }, "Sign out"));
}

async function route() {
  if (leaving) leaving.abort();
  leaving = new AbortController();
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const me = caller();
  if (!me || name === "signin" || (me.exp && me.exp * 1000 < Date.now())) {
    menu(null);
    return signInPage(leaving.signal);
  }
  const page = PAGES[name] ? name : "disputes";
  menu(me, page === "dispute" ? "disputes" : page);
  document.title = `${TITLES[page] || "Dispute"} · Disputes console`;
  show(h("p", { class: "muted" }, "Loading…"));
  const signal = leaving.signal;
  try {
    await PAGES[page](me, rest.map(decodeURIComponent), signal);
  } catch (error) {
    if (error.name !== "AbortError" && !signal.aborted) show(h("p", { class: "error", role: "alert" }, `The page failed: ${error}`));
  }
  if (!signal.aborted) document.body.dataset.page = page;
}

window.addEventListener("hashchange", route);
setInterval(tickCountdowns, 1000);
route();
