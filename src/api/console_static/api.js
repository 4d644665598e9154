// The console's only way to the data: the public HTTP API, with the signed-in
// caller's bearer token (kept in sessionStorage: gone when the tab closes).
const TOKEN_KEY = "disputes.console.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// The token's claims (not verified here: the API verifies every request).
export function caller() {
  const t = token();
  if (!t) return null;
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part));
    return { sub: String(claims.sub), role: String(claims.role), exp: claims.exp };
  } catch {
    return null;
  }
}

export async function call(path, { method = "GET", json, form, headers = {}, signal } = {}) {
  const h = { ...headers };
  if (token()) h.Authorization = `Bearer ${token()}`;
  let body;
  if (json !== undefined) {
    h["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers: h, body, signal });
  } catch (error) {
    return { ok: false, status: 0, body: { code: "network", detail: String(error) }, headers: new Headers() };
  }
  const type = response.headers.get("Content-Type") || "";
  const parsed = type.includes("json") ? await response.json() : await response.text();
  return { ok: response.ok, status: response.status, body: parsed, headers: response.headers };
}

export const get = (path, options) => call(path, options);

// Evidence bytes come with the token too, so thumbnails and downloads are blob: URLs.
export async function blob(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) return null;
  const media = response.headers.get("X-Media-Type") || "application/octet-stream";
  const bytes = await response.arrayBuffer();
  return { url: URL.createObjectURL(new Blob([bytes], { type: media })), media };
}

let schemas = null;
// The enumerations (statuses, reasons, remedies, ...) as this server's OpenAPI document states them.
export async function enums() {
  if (schemas === null) {
    const result = await call("/openapi.json");
    schemas = result.ok ? result.body.components.schemas : {};
  }
  const of = (name) => (schemas[name] && schemas[name].enum) || [];
  return {
    status: of("Status"), reason: of("Reason"), remedy: of("Remedy"), kind: of("EvidenceKind"),
    outcome: of("Outcome"), condition: of("ReturnCondition"), deadline: of("Deadline"), appealDecision: of("AppealDecision"),
  };
}

// Server-sent events over fetch + ReadableStream: EventSource cannot send an
// Authorization header. Calls onEvent(item) for each event until `signal` aborts.
export async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` }, signal });
  if (!response.ok || !response.body) return response.status;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return response.status;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
}
