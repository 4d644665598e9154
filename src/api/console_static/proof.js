// The transparency log in the browser: the latest checkpoint's Ed25519 signature
// is checked with the log's verifier key, and the dispute's latest event is proven
// to be in its tree (RFC 9162 2.1.3.2, SHA-256; both by WebCrypto). Its leaf holds its chain hash, which commits to every earlier
// version, so one inclusion proof plus a valid chain covers the whole dispute.
import { call } from "./api.js";

export const CHECKPOINT = "/v1/audit/log/checkpoint";
export const KEY = "/v1/audit/log/key";
export const INCLUSION = (position, size) => `/v1/audit/log/inclusion?position=${position}&tree_size=${size}`;
const HISTORY = (id, cursor) => `/v1/disputes/${id}/history?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;

const unbase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function node(left, right) {
  const joined = new Uint8Array(1 + left.length + right.length);
  joined.set([1]);
  joined.set(left, 1);
  joined.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

// A C2SP checkpoint: origin, tree size, base64 root hash, an empty line, signature lines
// ("\u2014 <key name> <base64(key id || Ed25519 signature)>").
export function parseCheckpoint(note) {
  const lines = String(note).split("\n");
  const blank = lines.indexOf("");
  if (blank !== 3 || !/^(0|[1-9]\d*)$/.test(lines[1])) return null;
  try {
    const root = unbase64(lines[2]);
    const signatures = lines.slice(4).filter((l) => l.startsWith("\u2014 ")).map((l) => {
      const [name, sig] = l.slice(2).split(" ");
      return { name, sig: unbase64(sig) };
    });
    const body = new TextEncoder().encode(lines.slice(0, 3).join("\n") + "\n");
    return root.length === 32 && signatures.length ? { origin: lines[0], size: Number(lines[1]), root, body, signatures } : null;
  } catch {
    return null;
  }
}

// Whether a signature line of `checkpoint` is the verifier key's ("<name>+<key id hex>+<base64(0x01 || public key)>").
export async function signedBy(checkpoint, vkey) {
  const [name, id, ...rest] = String(vkey).trim().split("+");
  const key = rest.join("+"); // base64 has "+" of its own
  const raw = key ? unbase64(key) : new Uint8Array();
  if (raw.length !== 33 || raw[0] !== 1) return false;
  const named = new Uint8Array([...new TextEncoder().encode(name), 0x0a, ...raw]);
  const ownId = new Uint8Array(await crypto.subtle.digest("SHA-256", named)).slice(0, 4);
  if (Array.from(ownId, (b) => b.toString(16).padStart(2, "0")).join("") !== id) return false;
  const publicKey = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  for (const s of checkpoint.signatures) {
    const hexId = Array.from(s.sig.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    if (s.name !== name || hexId !== id || s.sig.length !== 68) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, s.sig.slice(4), checkpoint.body)) return true;
  }
  return false;
}

// RFC 9162 2.1.3.2: whether `path` (leaf first) takes leaf `index`'s hash to `root` in a tree of `size` leaves.
export async function verifyInclusion(index, size, leafHash, path, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(r, root);
}

async function history(disputeId) {
  const events = [];
  let cursor = null;
  do {
    const page = await call(HISTORY(disputeId, cursor));
    if (!page.ok) return { failed: page };
    events.push(...page.body.items);
    cursor = page.body.next_cursor;
  } while (cursor);
  return { events };
}

// {state: "verified" | "failed" | "pending" | "absent" | "unreadable", text}
export async function inclusion(disputeId) {
  const got = await call(CHECKPOINT);
  if (got.status === 404) return { state: "absent", text: "no transparency log on this server" };
  if (!got.ok) return { state: "unreadable", text: `checkpoint: ${got.status} ${(got.body && got.body.code) || ""}` };
  const checkpoint = parseCheckpoint(got.body);
  if (!checkpoint) return { state: "failed", text: "the checkpoint is not a signed note of origin, tree size and root hash" };
  const key = await call(KEY);
  if (!key.ok) return { state: "unreadable", text: `verifier key: ${key.status} ${(key.body && key.body.code) || ""}` };
  if (!(await signedBy(checkpoint, key.body))) return { state: "failed", text: "the checkpoint is not signed by the log's key" };
  const found = await history(disputeId);
  if (found.failed) return { state: "unreadable", text: `history: ${found.failed.status} ${found.failed.body.code || ""}` };
  const broken = found.events.find((e) => !e.chain_valid);
  if (broken) return { state: "failed", text: `chain broken at version ${broken.version}` };
  const latest = found.events[found.events.length - 1];
  if (!latest) return { state: "failed", text: "the dispute has no stored events" };
  const proof = await call(INCLUSION(latest.position, checkpoint.size));
  if (proof.status === 404 || (proof.body && proof.body.code === "leaf_not_in_tree")) {
    return { state: "pending", text: `version ${latest.version} is not in the latest checkpoint yet (tree size ${checkpoint.size})` };
  }
  if (!proof.ok) return { state: "unreadable", text: `inclusion proof: ${proof.status} ${proof.body.code || ""}` };
  const leaf = unbase64(proof.body.leaf_hash);
  if (!same(leaf, unbase64(latest.leaf_hash))) {
    return { state: "failed", text: `the log's leaf for version ${latest.version} is not this event's` };
  }
  const ok = await verifyInclusion(proof.body.leaf_index, checkpoint.size, leaf, proof.body.proof.map(unbase64), checkpoint.root);
  return ok ? { state: "verified", text: `chain valid / in the log at tree size ${checkpoint.size}` }
    : { state: "failed", text: `the inclusion proof does not lead to the root of tree size ${checkpoint.size}` };
}
