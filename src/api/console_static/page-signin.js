// Sign in: paste a bearer token, or, when the server runs in dev, pick a role and
// an id and let the dev-only route mint one (the route exists only there).
import { call, signIn, signOut } from "./api.js";
import { h, problem, screen } from "./dom.js";

const ROLES = ["buyer", "seller", "agent", "auditor", "analyst", "platform"];

async function tryToken(value, out) {
  signIn(value);
  const check = await call("/v1/disputes?limit=1");
  if (check.status === 401 || check.status === 0) {
    signOut();
    out.replaceChildren(problem(check));
    return;
  }
  location.hash = "#/disputes";
}

export async function signInPage(signal) {
  const show = screen(signal);
  const out = h("div", { id: "signin-result" });
  const pasted = h("textarea", { id: "token", rows: 3, cols: 70, placeholder: "eyJhbGciOi…" });
  const paste = h("form", { class: "action", id: "paste-token", onsubmit: (e) => { e.preventDefault(); tryToken(pasted.value, out); } },
    h("label", {}, "Bearer token", pasted), h("button", { type: "submit" }, "Sign in"));
  const parts = [h("h1", {}, "Sign in"), h("section", { class: "card" }, h("h2", {}, "With a token"), paste)];
  const spec = await call("/openapi.json");
  if (spec.ok && spec.body.paths["/v1/dev/tokens"]) {
    const role = h("select", { id: "dev-role" }, ROLES.map((r) => h("option", { value: r }, r)));
    const sub = h("input", { id: "dev-sub", value: "buyer-1", required: true, maxlength: 255 });
    role.addEventListener("change", () => { sub.value = `${role.value}-1`; });
    const mint = async (e) => {
      e.preventDefault();
      const minted = await call("/v1/dev/tokens", { method: "POST", json: { role: role.value, sub: sub.value } });
      if (!minted.ok) return out.replaceChildren(problem(minted));
      await tryToken(minted.body.token, out);
    };
    parts.push(h("section", { class: "card", id: "dev-picker" }, h("h2", {}, "Development: pick a role and an id"),
      h("form", { class: "action", onsubmit: mint }, h("label", {}, "Role", role), h("label", {}, "Id", sub),
        h("button", { type: "submit", id: "dev-sign-in" }, "Sign in as"))));
  }
  show(...parts, out);
}
