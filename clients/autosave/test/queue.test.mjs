// The write queue against an in-memory Solo (fake-solo.mjs): coalescing, one request in
// flight, exactly once through dropped answers, the server's rebase and the local merge,
// Retry-After, a new token on 401, the outbox replayed by the next page, large saves.
import assert from "node:assert/strict";
import { test } from "node:test";
import { memoryStore, openAutosave } from "../dist/index.js";
import { FakeSolo } from "./fake-solo.mjs";

const FAST = { debounceMs: 0, maxWaitMs: 0, minIntervalMs: 0 };
const SESSION = "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10";

function open(server, options = {}) {
  return openAutosave({
    apiUrl: "http://solo.test/api",
    getToken: () => server.token,
    sessionId: SESSION,
    fetch: server.fetch,
    store: options.store ?? memoryStore(),
    live: false,
    page: false,
    timing: FAST,
    backoff: { initialMs: 1, maxMs: 4 },
    random: () => 0.5,
    ...options,
  });
}

const typed = (text) => (state) => ({ ...state, текст: (state.текст ?? "") + text });

test("a burst of edits is coalesced into few writes, one in flight at a time, none empty", async () => {
  const server = new FakeSolo({ текст: "" });
  const autosave = await open(server);
  for (let i = 0; i < 100; i++) autosave.update(typed(`${i} `));
  await autosave.flush();
  await autosave.flush();
  const expected = Array.from({ length: 100 }, (_, i) => `${i} `).join("");
  assert.deepEqual([server.state, autosave.state, autosave.status], [{ текст: expected }, { текст: expected }, { kind: "saved", pending: 0 }]);
  assert.equal(server.maxInFlight, 1);
  assert.ok(server.writes().length <= 3, `${server.writes().length} writes`);
  assert.ok(server.changes.every((change) => change.ops.length > 0));
  await autosave.close();
});

test("the debounce waits for a pause in typing, and maxWait bounds it", async () => {
  const server = new FakeSolo({ текст: "" });
  const autosave = await open(server, { timing: { debounceMs: 30, maxWaitMs: 10_000, minIntervalMs: 0 } });
  autosave.update(typed("а"));
  autosave.update(typed("б"));
  assert.equal(server.writes().length, 0);
  await new Promise((resolve) => autosave.on("saved", resolve));
  assert.deepEqual([server.writes().length, server.state], [1, { текст: "аб" }]);
  await autosave.close();
});

test("answers dropped after the write applied: the retry with the same key applies nothing twice", async () => {
  const server = new FakeSolo({ блоки: [] });
  let drops = 0;
  server.dropAnswers = () => drops++ % 2 === 0;
  const autosave = await open(server);
  for (let i = 0; i < 20; i++) {
    autosave.update((state) => ({ блоки: [...state.блоки, `блок ${i}`] }));
    await autosave.flush();
  }
  const expected = Array.from({ length: 20 }, (_, i) => `блок ${i}`);
  assert.deepEqual(server.state, { блоки: expected });
  assert.equal(server.rev, 20);
  const keys = server.writes().map((request) => request.headers["Idempotency-Key"]);
  assert.equal(new Set(keys).size, 20, "each write has one key, reused by its retry");
  assert.equal(keys.length, 40);
  await autosave.close();
});

test("without the server's replay, a dropped answer's 412 is merged away, not applied twice", async () => {
  const server = new FakeSolo({ блоки: [] });
  server.idempotency = false;
  let drops = 0;
  server.dropAnswers = () => drops++ % 2 === 0;
  const autosave = await open(server, { serverRebase: false });
  for (let i = 0; i < 10; i++) {
    autosave.update((state) => ({ блоки: [...state.блоки, `блок ${i}`] }));
    await autosave.flush();
  }
  assert.deepEqual(server.state, { блоки: Array.from({ length: 10 }, (_, i) => `блок ${i}`) });
  assert.deepEqual(autosave.state, server.state);
  await autosave.close();
});

test("two writers on different members: the server rebases, both converge", async () => {
  const server = new FakeSolo({ а: "", б: "" });
  const first = await open(server);
  const second = await open(server);
  first.update((state) => ({ ...state, а: "перша" }));
  second.update((state) => ({ ...state, б: "друга" }));
  await Promise.all([first.flush(), second.flush()]);
  assert.deepEqual(server.state, { а: "перша", б: "друга" });
  const rebased = server.changes.length;
  assert.equal(rebased, 2);
  const last = [first, second].find((writer) => writer.rev === 2);
  assert.deepEqual(last.state, server.state);
  await Promise.all([first.close(), second.close()]);
});

test("one string edited at two places by two writers keeps both; one place is a conflict event", async () => {
  const server = new FakeSolo({ текст: "Перший абзац про море." });
  const first = await open(server);
  const second = await open(server);
  first.update((state) => ({ текст: state.текст.replace("Перший", "Перший довгий") }));
  await first.flush();
  second.update((state) => ({ текст: state.текст.replace("море", "синє море") }));
  await second.flush();
  assert.deepEqual(server.state, { текст: "Перший довгий абзац про синє море." });
  assert.deepEqual(second.conflicts, []);

  const conflicts = [];
  second.on("conflict", (event) => conflicts.push(...event.conflicts));
  first.update((state) => ({ текст: `${state.текст} Кінець А.` }));
  await first.flush();
  second.update((state) => ({ текст: `${state.текст} Кінець Б.` }));
  await second.flush();
  assert.deepEqual(conflicts, [
    {
      path: "/текст",
      base: "Перший довгий абзац про синє море.",
      local: "Перший довгий абзац про синє море. Кінець Б.",
      remote: "Перший довгий абзац про синє море. Кінець А.",
    },
  ]);
  assert.deepEqual(server.state, { текст: "Перший довгий абзац про синє море. Кінець Б." });
  assert.equal(second.status.kind, "conflict");
  second.resolveConflicts();
  assert.equal(second.status.kind, "saved");
  await Promise.all([first.close(), second.close()]);
});

test("429 and 503 are retried with the same request after Retry-After", async () => {
  const server = new FakeSolo({ текст: "" });
  const busy = (status, error) => () =>
    new Response(JSON.stringify({ error, request_id: "r" }), { status, headers: { "Retry-After": "0" } });
  const autosave = await open(server);
  autosave.update(typed("а"));
  server.scripted.push(busy(429, "rate_limited"), busy(503, "unavailable"));
  await autosave.flush();
  const writes = server.writes();
  assert.equal(writes.length, 3);
  assert.equal(new Set(writes.map((request) => request.headers["Idempotency-Key"])).size, 1);
  assert.deepEqual(server.state, { текст: "а" });
  await autosave.close();
});

test("a 401 asks getToken again and retries once with the new token", async () => {
  const server = new FakeSolo({ текст: "" });
  let asked = 0;
  const tokens = ["старий", "токен-1"];
  const autosave = await open(server, { getToken: () => tokens[Math.min(asked++, 1)] });
  server.token = "старий";
  autosave.update(typed("а"));
  server.token = "токен-1";
  await autosave.flush();
  assert.deepEqual([server.state, asked], [{ текст: "а" }, 2]);
  await autosave.close();
});

test("a write stored in the outbox is replayed by the next page with its key, once", async () => {
  const server = new FakeSolo({ текст: "" });
  const store = memoryStore();
  const closing = await open(server, { store });
  server.offline = true;
  closing.update(typed("не втрачено"));
  await new Promise((resolve) => closing.on("status", (status) => status.kind === "offline" && resolve()));
  const [stored] = await store.list(SESSION);
  assert.equal(stored.pending.kind, "diff");
  await closing.close();
  server.offline = false;
  server.requests.length = 0;
  const reopened = await open(server, { store });
  while ((await store.list(SESSION)).length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(server.state, { текст: "не втрачено" });
  assert.deepEqual(server.writes().map((request) => request.headers["Idempotency-Key"]), [stored.pending.key]);
  await reopened.close();
});

test("a change bigger than the diff limit goes as a gzipped save-stream, later edits as diffs", async () => {
  const server = new FakeSolo({ блоки: [] });
  const autosave = await open(server);
  const blocks = Array.from({ length: 700 }, (_, i) => `${i} ${"текст ".repeat(100)}`);
  autosave.update({ блоки: blocks });
  await autosave.flush();
  autosave.update((state) => ({ блоки: [...state.блоки.slice(0, -1), "останній"] }));
  await autosave.flush();
  const writes = server.writes();
  assert.deepEqual(writes.map((request) => [request.method, request.path.split("/").at(-2), request.headers["Content-Encoding"]]), [
    ["POST", "save-stream", "gzip"],
    ["PATCH", "diff", undefined],
  ]);
  assert.deepEqual(server.state, autosave.state);
  await autosave.close();
});

test("flush with nothing to save sends nothing", async () => {
  const server = new FakeSolo({ текст: "" });
  const autosave = await open(server);
  autosave.update((state) => ({ ...state }));
  autosave.update(typed("а"));
  autosave.update((state) => ({ ...state, текст: "" }));
  await autosave.flush();
  assert.deepEqual(server.writes(), []);
  await autosave.close();
});

test("without the server's replay, typing on while a lost write is retried neither doubles nor conflicts", async () => {
  const server = new FakeSolo({ текст: "" });
  server.idempotency = false;
  let drops = 0;
  server.dropAnswers = () => drops++ % 2 === 0;
  const autosave = await open(server, { serverRebase: false });
  const conflicts = [];
  autosave.on("conflict", (event) => conflicts.push(...event.conflicts));
  let expected = "";
  for (let i = 0; i < 30; i++) {
    autosave.update(typed(`${i}`));
    expected += `${i}`;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await autosave.flush();
  assert.deepEqual([server.state, autosave.state, conflicts], [{ текст: expected }, { текст: expected }, []]);
  await autosave.close();
});
