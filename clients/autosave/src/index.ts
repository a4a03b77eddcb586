/**
 * solo-autosave: open a Solo session document, edit it locally, and let the client save it:
 * debounced and coalesced diffs (one request in flight), a gzipped save-stream for large
 * changes, a durable outbox with idempotency keys, the server's rebase and a local
 * three-way merge, backoff that honours Retry-After, safe unload, and live remote changes.
 */
import { DEFAULT_BACKOFF, retryDelay, type Backoff } from "./backoff.js";
import type { JsonObject } from "./json.js";
import type { EventSourceFactory } from "./live.js";
import { defaultStore, type OutboxStore, type WriterRecord } from "./outbox.js";
import { AutosaveSession, DEFAULT_TIMING, type EngineOptions, type Timing } from "./session.js";
import { Api, ApiError, NetworkError, type TokenSource } from "./transport.js";
import { newKey } from "./writes.js";

export { AutosaveSession, DEFAULT_TIMING } from "./session.js";
export type { SessionEvents, Status, StatusKind, Timing } from "./session.js";
export type { Conflict } from "./merge.js";
export type { Json, JsonObject } from "./json.js";
export type { Operation, Session } from "./api.js";
export type { OutboxStore, PendingWrite, WriterRecord } from "./outbox.js";
export { indexedDbStore, memoryStore } from "./outbox.js";
export { ApiError, NetworkError } from "./transport.js";
export { diff } from "./diff.js";
export { applyPatch, PatchError } from "./patch.js";
export { merge3 } from "./merge.js";
export { mergeText } from "./text.js";

export interface AutosaveOptions {
  /** The API base URL, e.g. https://solo.example/api/v1/solo */
  apiUrl: string;
  /** A bearer token; called again when the server answers 401. */
  getToken: TokenSource;
  /** The session to open; without it a new session is created with `initialState`. */
  sessionId?: string;
  initialState?: JsonObject;
  timing?: Partial<Timing>;
  /** Send diffs for the server to rebase (`If-Match: *` + `Solo-Base-Rev`). Default true. */
  serverRebase?: boolean;
  /** Follow the session's event stream. Default: where EventSource exists. */
  live?: boolean;
  /** Listen to the page: online/offline, visibilitychange and pagehide. Default: in a window. */
  page?: boolean;
  /**
   * Have the browser ask "Leave site?" when the page is closed with edits the server has not
   * acknowledged yet (y-sweet's warnOnClose). The outbox keeps them either way; this lets the
   * user wait for them to land. Default false.
   */
  warnOnClose?: boolean;
  /** The outbox. Default: IndexedDB where the page has it, else memory. */
  store?: OutboxStore;
  fetch?: typeof globalThis.fetch;
  eventSource?: EventSourceFactory;
  random?: () => number;
  backoff?: Backoff;
}

export async function openAutosave(options: AutosaveOptions): Promise<AutosaveSession> {
  const api = new Api(options.apiUrl, options.getToken, options.fetch);
  const store = options.store ?? defaultStore();
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const createKey = newKey();
  const session = await patiently(backoff, random, () =>
    options.sessionId === undefined
      ? api.createSession(options.initialState ?? {}, createKey)
      : api.getSession(options.sessionId),
  );
  const writerId = newKey();
  const cleanups: Array<() => void> = [];
  const release = await holdLock(lockName(session.id, writerId));
  if (release !== null) cleanups.push(release);
  const state = session.state as JsonObject;
  const live = options.live ?? typeof EventSource !== "undefined";
  const engineOptions: Omit<EngineOptions, "record" | "eventsUrl" | "cleanups" | "eventSource"> = {
    api,
    store,
    timing: { ...DEFAULT_TIMING, ...options.timing },
    serverRebase: options.serverRebase ?? true,
    random,
    backoff,
  };
  const engine = new AutosaveSession({
    ...engineOptions,
    record: { sessionId: session.id, writerId, baseRev: session.rev, base: state, local: state, pending: null, savedAt: Date.now() },
    eventsUrl: session.events_url,
    eventSource: live ? (options.eventSource ?? ((url) => new EventSource(url))) : null,
    cleanups,
  });
  if (options.page ?? typeof window !== "undefined") cleanups.push(watchPage(engine, options.warnOnClose ?? false));
  engine.startLive();
  void adoptOrphans(store, session.id, writerId, (record) =>
    new AutosaveSession({ ...engineOptions, record, eventsUrl: null, eventSource: null, cleanups: [] }),
  );
  return engine;
}

/**
 * Writers whose tab is gone left records in the outbox: each is replayed by one page only,
 * the one that gets its lock, as a writer of its own that sends the stored write with its
 * stored key, then the rest, then goes. A page waits for a lock that is held: a tab still
 * closing holds its lock for a while (so does a live tab, until it goes), and the record is
 * read again once the lock is had, as its writer may have stored more, or nothing, since.
 */
async function adoptOrphans(
  store: OutboxStore,
  sessionId: string,
  writerId: string,
  writer: (record: WriterRecord) => AutosaveSession,
): Promise<void> {
  const others = (await store.list(sessionId)).filter((record) => record.writerId !== writerId);
  for (const { writerId: other } of others) {
    void withLock(lockName(sessionId, other), async () => {
      const record = (await store.list(sessionId)).find((found) => found.writerId === other);
      if (record === undefined) return;
      const orphan = writer(record);
      try {
        await orphan.flush();
      } catch {
        // The orphan's record stays in the outbox for a later page, unless the session is gone.
      } finally {
        await orphan.close();
      }
    });
  }
}

function lockName(sessionId: string, writerId: string): string {
  return `solo-autosave/${sessionId}/${writerId}`;
}

function lockManager(): LockManager | null {
  return typeof navigator !== "undefined" && navigator.locks !== undefined ? navigator.locks : null;
}

/** Hold a Web Lock until the returned function is called (null where there are no locks). */
async function holdLock(name: string): Promise<(() => void) | null> {
  const locks = lockManager();
  if (locks === null) return null;
  return new Promise((held) => {
    void locks.request(name, () => new Promise<void>((release) => held(release)));
  });
}

/** Run `work` holding the lock, once it is free; without Web Locks (one process), run it. */
async function withLock(name: string, work: () => Promise<void>): Promise<void> {
  const locks = lockManager();
  if (locks === null) return work();
  await locks.request(name, work);
}

function watchPage(engine: AutosaveSession, warnOnClose: boolean): () => void {
  const hide = (): void => engine.hide();
  const beforeUnload = (event: BeforeUnloadEvent): void => {
    if (!warnOnClose || engine.status.kind === "saved") return;
    event.preventDefault();
    event.returnValue = ""; // what older Chromium and Safari still look for
  };
  const visibility = (): void => {
    if (document.visibilityState === "hidden") engine.hide();
  };
  const online = (): void => engine.online();
  const offline = (): void => engine.offline();
  addEventListener("pagehide", hide);
  addEventListener("beforeunload", beforeUnload);
  document.addEventListener("visibilitychange", visibility);
  addEventListener("online", online);
  addEventListener("offline", offline);
  if (navigator.onLine === false) engine.offline();
  return () => {
    removeEventListener("pagehide", hide);
    removeEventListener("beforeunload", beforeUnload);
    document.removeEventListener("visibilitychange", visibility);
    removeEventListener("online", online);
    removeEventListener("offline", offline);
  };
}

/** Opening waits out network failures, 429 and 503 like every other request. */
async function patiently<T>(backoff: Backoff, random: () => number, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable =
        error instanceof NetworkError ||
        (error instanceof ApiError && [429, 500, 502, 503, 504].includes(error.answer.status));
      if (!retryable) throw error;
      const retryAfter = error instanceof ApiError ? error.answer.retryAfter : null;
      await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt, retryAfter, random, backoff)));
    }
  }
}
