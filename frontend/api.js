// The only module that knows the server's URLs: every request and the websocket address start here.

const USER_KEY = "reglab.user";

/** An HTTP answer that was not 2xx, with FastAPI's detail kept for field-level messages. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : `request failed (${status})`);
    this.status = status;
    this.detail = detail;
  }
}

export function currentUser() {
  return localStorage.getItem(USER_KEY) || "";
}

export function setUser(name) {
  localStorage.setItem(USER_KEY, name.trim());
}

// The teacher is known by an HttpOnly cookie the server sets at sign-in: the page never keeps
// the admin token (not in storage, not in a URL), it only sends it once to POST /api/admin/session.
async function request(method, path, body, signal) {
  const headers = { Accept: "application/json" };
  const user = currentUser();
  // HTTP headers carry Latin-1 only; a name such as "Zoë" or "李" is sent percent-encoded.
  if (user) headers["X-Reglab-User"] = /^[\x20-\x7e]*$/.test(user) ? user : encodeURIComponent(user);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiError(res.status, data && data.detail !== undefined ? data.detail : data);
  return data;
}

/** A GET answer early.js started before Plotly was parsed (once; null when it has none). */
function early(path) {
  const started = globalThis.reglabEarly?.[path];
  if (!started) return null;
  delete globalThis.reglabEarly[path]; // a later open asks the server again
  return started.then((data) => data ?? request("GET", path));
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = {
  health: () => request("GET", "/api/health"),
  statuses: () => early("/api/statuses") ?? request("GET", "/api/statuses"),
  // The per-epoch metrics the server declares (what the page may chart), not a run's numbers.
  declaredMetrics: () => request("GET", "/api/metrics"),
  // Binds a free name to this browser (an HttpOnly cookie); 409 when another browser holds it.
  claimName: (name) => request("POST", "/api/identity", { name }),
  lessons: () => request("GET", "/api/lessons"),
  runSpecSchema: () => request("GET", "/api/schema/run-spec"),
  createExperiment: (body) => request("POST", "/api/experiments", body),
  listExperiments: ({ owner, lesson, offset, limit } = {}) => request("GET", `/api/experiments${query({ owner, lesson, offset, limit })}`),
  experiment: (id) => {
    const path = `/api/experiments/${encodeURIComponent(id)}`;
    return early(path) ?? request("GET", path);
  },
  run: (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`),
  snapshots: (id) => request("GET", `/api/runs/${encodeURIComponent(id)}/snapshots`),
  // Every run's epochs as columns and the event cursor they are complete through; compact:
  // float32 columns at their shortest digits, the gradient norms of every 20th epoch and the last.
  history: (id) => {
    const path = `/api/experiments/${encodeURIComponent(id)}/metrics?compact=true`;
    return early(path) ?? request("GET", path);
  },
  metrics: (id, afterEpoch = 0) => request("GET", `/api/runs/${encodeURIComponent(id)}/metrics${query({ after_epoch: afterEpoch })}`),
  cancelRun: (id) => request("POST", `/api/runs/${encodeURIComponent(id)}/cancel`),
  cancelExperiment: (id) => request("POST", `/api/experiments/${encodeURIComponent(id)}/cancel`),
  deleteExperiment: (id) => request("DELETE", `/api/experiments/${encodeURIComponent(id)}`),
  cancelEverything: () => request("POST", "/api/admin/cancel-all"),
  // The teacher: sign in once with the admin token (an HttpOnly cookie comes back), and out.
  signIn: (token) => request("POST", "/api/admin/session", { token }),
  signOut: () => request("DELETE", "/api/admin/session"),
  session: () => request("GET", "/api/admin/session"),
  classroom: (signal) => request("GET", "/api/class", undefined, signal),
  resetName: (name) => request("DELETE", `/api/identity/${encodeURIComponent(name)}`),
  openPoll: (body) => request("POST", "/api/polls", body),
  polls: (signal) => request("GET", "/api/polls", undefined, signal),
  poll: (id, signal) => request("GET", `/api/polls/${encodeURIComponent(id)}`, undefined, signal),
  answerPoll: (id, choice) => request("POST", `/api/polls/${encodeURIComponent(id)}/answers`, { choice }),
  startPoll: (id) => request("POST", `/api/polls/${encodeURIComponent(id)}/start`),
  cloneExperiment: (id) => request("POST", `/api/experiments/${encodeURIComponent(id)}/clone`),
  // Challenges: the teacher (admin token) creates, closes and reveals; a student enters.
  challenges: () => request("GET", "/api/challenges"),
  challenge: (id) => request("GET", `/api/challenges/${encodeURIComponent(id)}`),
  createChallenge: (body) => request("POST", "/api/challenges", body),
  enterChallenge: (id, body) => request("POST", `/api/challenges/${encodeURIComponent(id)}/entries`, body),
  leaderboard: (id) => request("GET", `/api/challenges/${encodeURIComponent(id)}/leaderboard`),
  closeChallenge: (id) => request("POST", `/api/challenges/${encodeURIComponent(id)}/close`),
  revealChallenge: (id) => request("POST", `/api/challenges/${encodeURIComponent(id)}/reveal`),
};

/** A challenge's board stream: the whole board again whenever its cursor or status moves. */
export function boardSocketUrl(id, since = 0, status = "") {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws/challenges/${encodeURIComponent(id)}${query({ since, status })}`;
}

/** Where a challenge's page and an experiment's live view are (links, never fetched). */
export const pageUrl = {
  challenge: (id) => `#/challenges/${encodeURIComponent(id)}`,
  experiment: (id) => `#/experiments/${encodeURIComponent(id)}`,
};

/** Download links (the browser fetches them itself, so the user sees a normal file download). */
export const exportUrl = {
  csv: (id) => `/api/experiments/${encodeURIComponent(id)}/export.csv`,
  json: (id) => `/api/experiments/${encodeURIComponent(id)}/export.json`,
  html: (id) => `/api/experiments/${encodeURIComponent(id)}/report.html`,
  classCsv: () => "/api/class/export.csv",
};

/*
 * Live messages at most this often (ms): what the server has meanwhile comes in one message. The
 * browser spends a task of its main thread on each message it is handed, whatever it holds; on a
 * laptop four times slower those tasks, slipped between frames, stretched them (16 streams each:
 * 17.8 frames a stream over 50 ms instead of 21.6). An epoch reaches the page at most this much
 * later.
 */
export const LIVE_EVERY_MS = 50;

/**
 * The experiment's stream after `since`, batched (each message is an array of events) and paced
 * (live messages at most every LIVE_EVERY_MS); with `snapshots` (run ids), the snapshots of those
 * runs only.
 */
export function experimentSocketUrl(id, since, snapshots = null) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const params = { since, batch: 1, every: LIVE_EVERY_MS, snapshots: snapshots ? snapshots.join(",") : null };
  return `${proto}//${location.host}/ws/experiments/${encodeURIComponent(id)}${query(params)}`;
}
