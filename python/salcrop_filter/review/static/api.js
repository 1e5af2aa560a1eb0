// The server's API. Paths are relative to the page (/s/TOKEN/), so every request carries the session token.

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function call(method, path, body, type) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = type ? body : JSON.stringify(body);
    init.headers["Content-Type"] = type || "application/json";
  }
  const res = await fetch(path, init);
  const kind = res.headers.get("Content-Type") || "";
  if (!res.ok) {
    let err = null;
    try { err = kind.includes("json") ? await res.json() : { error: await res.text() }; } catch { /* empty body */ }
    throw new ApiError(res.status, err);
  }
  return kind.includes("json") ? res.json() : res;
}

export const api = {
  session: () => call("GET", "api/session"),
  analysis: (v) => call("GET", `api/videos/${v}/analysis`),
  async maps(v) {
    const res = await call("GET", `api/videos/${v}/maps`);
    const [t, h, w] = res.headers.get("X-Map-Shape").split(",").map(Number);
    return { t, h, w, data: new Uint8Array(await res.arrayBuffer()) };
  },
  plan: (v, ratio) => call("GET", `api/videos/${v}/plan?ratio=${encodeURIComponent(ratio)}`),
  putEdits: (v, ratio, version, edits) =>
    call("PUT", `api/videos/${v}/edits?ratio=${encodeURIComponent(ratio)}`, { version, ...edits }),
  importKeyframes: (v, ratio, version, text) =>
    call("POST", `api/videos/${v}/keyframes?ratio=${encodeURIComponent(ratio)}&version=${version}`, text,
         "application/json"),
  pickSubject: (v, ratio, version, frame, box, id) =>
    call("POST", `api/videos/${v}/subjects?ratio=${encodeURIComponent(ratio)}`,
         id === undefined || id === null ? { version, frame, box } : { version, frame, box, id }),
  keepFace: (v, ratio, version, frame, face) =>
    call("POST", `api/videos/${v}/subjects?ratio=${encodeURIComponent(ratio)}`, { version, frame, face }),
  exportFiles: (v, ratio) => call("POST", `api/videos/${v}/export?ratio=${encodeURIComponent(ratio)}`),
  render: (v, ratios) => call("POST", `api/videos/${v}/render`, { ratios }),
  renderJob: (id) => call("GET", `api/renders/${id}`),
  pathUrl: (v, ratio) => `api/videos/${v}/path.json?ratio=${encodeURIComponent(ratio)}`,
  keyframesUrl: (v, ratio) => `api/videos/${v}/keyframes.json?ratio=${encodeURIComponent(ratio)}`,
  mediaUrl: (v) => `media/${v}`,
};
