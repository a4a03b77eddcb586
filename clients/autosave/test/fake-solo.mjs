// An in-memory Solo for the queue's tests: sessions, diffs with If-Match or the server's
// rebase (If-Match: * + Solo-Base-Rev, conflicting on overlapping paths), save-stream
// (gzip), the change feed, Idempotency-Key replays, and faults: answers dropped after the
// write applied, scripted answers (429 with Retry-After), and no network at all.
import { gunzipSync } from "node:zlib";
import { applyPatch } from "../dist/patch.js";

export class FakeSolo {
  rev = 0;
  state = {};
  changes = [];
  requests = [];
  applied = new Map();
  inFlight = 0;
  maxInFlight = 0;
  dropAnswers = () => false;
  scripted = [];
  offline = false;
  idempotency = true;
  serverRebase = true;
  token = "токен-1";

  constructor(state = {}) {
    this.state = state;
  }

  fetch = async (url, init = {}) => {
    const { pathname, searchParams } = new URL(url);
    const headers = init.headers ?? {};
    const request = { method: init.method ?? "GET", path: pathname, headers, keepalive: init.keepalive };
    this.requests.push(request);
    if (this.offline) throw new TypeError("Failed to fetch");
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const scripted = this.scripted.shift();
      if (scripted) return scripted();
      if (headers.Authorization !== `Bearer ${this.token}`) return json(401, { error: "unauthorized", reason: "expired" });
      const answer = this.#answer(request, init.body, searchParams);
      if (request.method !== "GET" && this.dropAnswers(request)) throw new TypeError("connection reset");
      return answer;
    } finally {
      this.inFlight -= 1;
    }
  };

  writes() {
    return this.requests.filter((request) => request.method !== "GET");
  }

  #answer(request, body, query) {
    if (request.method === "GET" && request.path.endsWith("/changes/")) {
      const since = Number(query.get("since"));
      return json(200, { since, rev: this.rev, changes: this.changes.filter((change) => change.rev > since), more: false });
    }
    if (request.method === "GET") return json(200, this.#session(), { ETag: `"${this.rev}"` });
    const key = request.headers["Idempotency-Key"];
    if (this.idempotency && key && this.applied.has(key)) {
      const first = this.applied.get(key);
      return json(first.status, first.body, { "Idempotent-Replayed": "true" });
    }
    const answer = this.#write(request, body);
    if (answer.status < 300 && key) this.applied.set(key, answer);
    return json(answer.status, answer.body, { ETag: `"${this.rev}"` });
  }

  #write(request, body) {
    const text = body instanceof Uint8Array ? gunzipSync(body).toString() : body;
    const ifMatch = request.headers["If-Match"];
    const baseRev = request.headers["Solo-Base-Rev"];
    if (request.path.endsWith("/save-stream/")) {
      if (ifMatch !== `"${this.rev}"`) return precondition();
      return this.#commit([{ op: "replace", path: "", value: JSON.parse(text) }]);
    }
    const { ops } = JSON.parse(text);
    if (ifMatch === "*" && baseRev !== undefined && this.serverRebase) {
      const since = this.changes.filter((change) => change.rev > Number(baseRev));
      const touched = since.flatMap((change) => change.ops.map((op) => op.path));
      const paths = ops.map((op) => op.path).filter((path) => touched.some((other) => overlaps(path, other)));
      if (paths.length > 0) return { status: 409, body: { error: "rebase_conflict", rev: this.rev, paths, request_id: "r" } };
      const written = this.#commit(ops);
      if (since.length === 0) return written;
      const changes = this.changes.filter((change) => change.rev > Number(baseRev));
      return { status: 200, body: { ...written.body, rebased_from: Number(baseRev), changes } };
    }
    if (ifMatch !== `"${this.rev}"`) return precondition();
    return this.#commit(ops);
  }

  #commit(ops) {
    this.state = applyPatch(this.state, ops);
    this.rev += 1;
    this.changes.push({ rev: this.rev, at: "2026-11-26T09:00:00Z", ops });
    return { status: 200, body: { rev: this.rev, updated_at: "2026-11-26T09:00:00Z" } };
  }

  #session() {
    return { id: "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10", rev: this.rev, state: this.state, events_url: "http://solo.test/events" };
  }
}

function overlaps(a, b) {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`) || a === "" || b === "";
}

function precondition() {
  return { status: 412, body: { error: "precondition_failed", reason: "mismatch", request_id: "r" } };
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}
