// The transparency log's inclusion proof (RFC 9162 Merkle tree hashes, SHA-256),
// checked here in the browser against the latest checkpoint the API serves.
// Without a transparency log (404 on the checkpoint) the badge says so.
import { call } from "./api.js";

export const CHECKPOINT = "/v1/audit/log/checkpoint";
export const PROOF = (disputeId, size) => `/v1/audit/log/proof?dispute_id=${disputeId}&tree_size=${size}`;

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => new Uint8Array(text.match(/../g).map((b) => parseInt(b, 16)));

async function node(left, right) {
  const joined = new Uint8Array(1 + left.length + right.length);
  joined.set([1]);
  joined.set(left, 1);
  joined.set(right, 1 + left.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

export async function verifyInclusion(index, size, leafHash, path, rootHash) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = unhex(leafHash);
  for (const p of path.map(unhex)) {
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
  return sn === 0 && hex(r) === rootHash.toLowerCase();
}

// {state: "verified" | "failed" | "absent" | "unreadable", text}
export async function inclusion(disputeId) {
  const checkpoint = await call(CHECKPOINT);
  if (checkpoint.status === 404) return { state: "absent", text: "no transparency log on this server" };
  if (!checkpoint.ok) return { state: "unreadable", text: `checkpoint: ${checkpoint.status}` };
  const size = checkpoint.body.tree_size, root = checkpoint.body.root_hash;
  const proof = await call(PROOF(disputeId, size));
  if (!proof.ok) return { state: "unreadable", text: `inclusion proof: ${proof.status}` };
  const b = proof.body;
  const ok = await verifyInclusion(b.leaf_index, size, b.leaf_hash, b.audit_path || b.hashes || [], root);
  return ok ? { state: "verified", text: `included in the log at checkpoint ${size}` } : { state: "failed", text: "the inclusion proof does not match the checkpoint" };
}
